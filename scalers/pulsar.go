package scalers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// pulsarAuthMethodHeader names the authentication provider a Pulsar broker should use.
const pulsarAuthMethodHeader = "X-Pulsar-Auth-Method-Name"

// pulsarScaler reads a subscription's backlog from the topic stats of Pulsar's admin REST API,
// one GET per poll. Go's client follows a broker's 307 to the topic's owner and keeps the
// credential headers when the redirect stays on the same host, as KEDA does.
type pulsarScaler struct {
	cfg        *Config
	meta       meta.PulsarMetadata
	client     *httpClient
	header     http.Header
	metricName string
}

func newPulsarScaler(_ context.Context, cfg *Config) (Scaler, error) {
	s := &pulsarScaler{cfg: cfg}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	s.metricName = MetricName(cfg.TriggerIndex, "pulsar-"+s.meta.Topic+"-"+s.meta.Subscription)
	p := s.meta.HTTPAuthParams
	s.client = newHTTPClient(cfg, &p, s.meta.Auth, "adminURL", s.meta.StatsURL, 0, false)
	s.header = pulsarAuthHeader(s.meta.Auth)
	return s, nil
}

// pulsarAuthHeader tells the broker which provider checks the request, as KEDA does: token for
// bearer, basic, else tls; OAuth tokens go without it (the broker tries its providers).
func pulsarAuthHeader(a *meta.HTTPAuth) http.Header {
	h := http.Header{"Accept": {"application/json"}}
	switch {
	case a.Has(meta.AuthModeBearer):
		h.Set(pulsarAuthMethodHeader, "token")
	case a.Has(meta.AuthModeBasic):
		h.Set(pulsarAuthMethodHeader, "basic")
	case a.ClientCert != nil:
		h.Set(pulsarAuthMethodHeader, "tls")
	}
	return h
}

func (s *pulsarScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, float64(s.meta.MsgBacklogThreshold))
}

// GetMetricsAndActivity reads the subscription's msgBacklog; the trigger is active above
// activationMsgBacklogThreshold.
func (s *pulsarScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	u := s.meta.StatsURL
	status, body, err := s.client.send(ctx, http.MethodGet, u, s.header, nil)
	if err != nil {
		return nil, false, err
	}
	if status != http.StatusOK {
		return nil, false, s.client.fail(u, s.statusError(status, body))
	}
	n, err := pulsarBacklog(body, s.meta.Subscription)
	if err != nil {
		return nil, false, s.client.fail(u, err)
	}
	return oneMetricValue(metricName, float64(n)), n > s.meta.ActivationMsgBacklogThreshold, nil
}

func (s *pulsarScaler) Close(context.Context) error {
	s.client.close()
	return nil
}

// statusError words the admin API's refusals ({"reason": ...}).
func (s *pulsarScaler) statusError(status int, body []byte) error {
	err := s.client.statusError(&httpStatusError{code: status, body: body})
	if status == http.StatusNotFound {
		hint := "check metadata.topic"
		if s.meta.IsPartitionedTopic {
			hint += " and that the topic is partitioned (else isPartitionedTopic \"false\")"
		} else {
			hint += " (a partitioned topic needs isPartitionedTopic \"true\")"
		}
		return fmt.Errorf("%w: Pulsar has no topic %q: %s", err, s.meta.Topic, hint)
	}
	return err
}

var errPulsarNotStats = errors.New("the answer is not Pulsar topic stats (no subscriptions): check that metadata.adminURL is a broker's admin address")

// pulsarBacklog reads subscription's msgBacklog from topic stats.
func pulsarBacklog(body []byte, subscription string) (int64, error) {
	var stats struct {
		Subscriptions map[string]struct {
			MsgBacklog *int64 `json:"msgBacklog"`
		} `json:"subscriptions"`
	}
	if err := json.Unmarshal(body, &stats); err != nil {
		return 0, fmt.Errorf("%w: %w", errPulsarNotStats, err)
	}
	if stats.Subscriptions == nil {
		return 0, errPulsarNotStats
	}
	sub, ok := stats.Subscriptions[subscription]
	if !ok {
		return 0, fmt.Errorf("subscription %q does not exist on the topic: check metadata.subscription (a consumer creates it when it first subscribes)", subscription)
	}
	if sub.MsgBacklog == nil || *sub.MsgBacklog < 0 {
		return 0, fmt.Errorf("the stats of subscription %q hold no msgBacklog count", subscription)
	}
	return *sub.MsgBacklog, nil
}
