package controller

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
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

// appliedBefore reports whether an HPA this process has no record of (it started since) is already
// what it would apply: the digest on it is that of the same body, and its spec still holds every
// field of the desired one (nobody edited it meanwhile; DeepDerivative leaves out what the
// apiserver defaulted). Then it is recorded as applied, so a restart writes no HPA that is as it
// should be.
func (h *hpaApplies) appliedBefore(key types.NamespacedName, digest [sha256.Size]byte, desired, current *autoscalingv2.HorizontalPodAutoscaler) bool {
	if current == nil || current.Annotations[kedav1alpha1.AnnotationHPAAppliedDigest] != hex.EncodeToString(digest[:]) ||
		!apiequality.Semantic.DeepDerivative(desired.Spec, current.Spec) {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, known := h.last[key]; known {
		return false // upToDate had its say: the record is newer than what is on the HPA
	}
	if h.last == nil {
		h.last = map[types.NamespacedName]appliedHPA{}
	}
	h.last[key] = appliedHPA{digest: digest, uid: current.UID, generation: current.Generation}
	return true
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
