package peer

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	historyv1alpha1 "github.com/kedactl/kedactl/api/history/v1alpha1"
	"github.com/kedactl/kedactl/operator/engine"
	"github.com/kedactl/kedactl/operator/history"
	"github.com/kedactl/kedactl/operator/membership"
)

const pathHistory = "/peer/v1/history/"

// historyKinds maps the path's resource to the store's kind.
var historyKinds = map[string]history.Kind{
	historyv1alpha1.ResourceScaledObjects: history.ScaledObject,
	historyv1alpha1.ResourceScaledJobs:    history.ScaledJob,
}

// HistoryStore is this replica's history store.
type HistoryStore interface {
	History(key history.Key) (historyv1alpha1.History, bool)
}

// History asks m for an object's history; false when m keeps none.
func (c *Client) History(ctx context.Context, m membership.Member, key history.Key) (historyv1alpha1.History, bool, error) {
	resource := historyv1alpha1.ResourceScaledObjects
	if key.Kind == history.ScaledJob {
		resource = historyv1alpha1.ResourceScaledJobs
	}
	u := url.URL{Scheme: "https", Host: m.Address, Path: pathHistory + resource + "/" + url.PathEscape(key.Namespace) + "/" + url.PathEscape(key.Name)}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return historyv1alpha1.History{}, false, fmt.Errorf("failed to build the history request to replica %s: %w", m.ID, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return historyv1alpha1.History{}, false, fmt.Errorf("the owning replica %s at %s is unreachable: %w", m.ID, m.Address, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return historyv1alpha1.History{}, false, fmt.Errorf("failed to read the history answered by replica %s: %w", m.ID, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return historyv1alpha1.History{}, false, nil
	default:
		return historyv1alpha1.History{}, false, fmt.Errorf("the owning replica %s answered %s: %s", m.ID, resp.Status, body)
	}
	var h historyv1alpha1.History
	if err := json.Unmarshal(body, &h); err != nil {
		return historyv1alpha1.History{}, false, fmt.Errorf("failed to decode the history answered by replica %s: %w", m.ID, err)
	}
	return h, true, nil
}

// ForwardingHistory reads a history from the replica that owns the object: its own store when
// that is this replica.
type ForwardingHistory struct {
	Local   HistoryStore
	Owners  membership.Owners
	Forward interface {
		History(ctx context.Context, m membership.Member, key history.Key) (historyv1alpha1.History, bool, error)
	}
}

// History reads key's history from its owner.
func (f *ForwardingHistory) History(ctx context.Context, key history.Key) (historyv1alpha1.History, bool, error) {
	ek := engine.ScaledObjectKey(key.NamespacedName)
	if key.Kind == history.ScaledJob {
		ek = engine.ScaledJobKey(key.NamespacedName)
	}
	owner, self, err := f.Owners.Owner(ek)
	if err != nil {
		return historyv1alpha1.History{}, false, err
	}
	if self {
		h, ok := f.Local.History(key)
		return h, ok, nil
	}
	return f.Forward.History(ctx, owner, key)
}
