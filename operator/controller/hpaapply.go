package controller

import (
	"crypto/sha256"
	"encoding/json"
	"sync"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/types"
)

// appliedHPA is what the operator last applied for one ScaledObject's HPA, and the HPA that came
// back: its uid and generation.
type appliedHPA struct {
	digest     [sha256.Size]byte
	uid        types.UID
	generation int64
}

// hpaApplies remembers each ScaledObject's last HPA apply, so that a reconcile which would apply
// the same HPA again (a resync, an unrelated annotation) costs no apiserver write. A zero value is
// ready; it is safe for concurrent use.
type hpaApplies struct {
	mu   sync.Mutex
	last map[types.NamespacedName]appliedHPA
}

// digestOf is the digest of an apply body.
func digestOf(body map[string]any) ([sha256.Size]byte, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return [sha256.Size]byte{}, err
	}
	return sha256.Sum256(raw), nil
}

// upToDate reports whether applying body again would change nothing: the same body was applied
// last, and the HPA in the cache is still the one that apply returned (same uid and generation,
// so nobody has edited or recreated it since).
func (h *hpaApplies) upToDate(key types.NamespacedName, digest [sha256.Size]byte, current *autoscalingv2.HorizontalPodAutoscaler) bool {
	if current == nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	last, ok := h.last[key]
	return ok && last.digest == digest && last.uid == current.UID && last.generation == current.Generation
}

func (h *hpaApplies) record(key types.NamespacedName, a appliedHPA) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.last == nil {
		h.last = map[types.NamespacedName]appliedHPA{}
	}
	h.last[key] = a
}

func (h *hpaApplies) forget(key types.NamespacedName) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.last, key)
}
