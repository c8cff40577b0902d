package controller

import (
	"encoding/hex"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

func TestHPAApplyIsSkippedOnlyWhenNothingChanged(t *testing.T) {
	key := types.NamespacedName{Namespace: "ns", Name: "so"}
	body := map[string]any{"spec": map[string]any{"maxReplicas": int64(5)}}
	digest, err := digestOf(body)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := digestOf(map[string]any{"spec": map[string]any{"maxReplicas": int64(6)}})
	hpa := func(uid types.UID, gen int64) *autoscalingv2.HorizontalPodAutoscaler {
		return &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{UID: uid, Generation: gen}}
	}
	var h hpaApplies
	if h.upToDate(key, digest, hpa("u1", 1)) {
		t.Fatal("nothing was applied yet")
	}
	h.record(key, appliedHPA{digest: digest, uid: "u1", generation: 3})
	cases := []struct {
		name    string
		digest  [32]byte
		current *autoscalingv2.HorizontalPodAutoscaler
		want    bool
	}{
		{"the same body, the HPA as applied", digest, hpa("u1", 3), true},
		{"a changed spec", other, hpa("u1", 3), false},
		{"someone edited the HPA", digest, hpa("u1", 4), false},
		{"the cache has not seen the apply yet", digest, hpa("u1", 2), false},
		{"the HPA was recreated", digest, hpa("u2", 3), false},
		{"the HPA is gone", digest, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := h.upToDate(key, c.digest, c.current); got != c.want {
				t.Errorf("upToDate = %v, want %v", got, c.want)
			}
		})
	}
	h.forget(key)
	if h.upToDate(key, digest, hpa("u1", 3)) {
		t.Error("a forgotten object is never up to date")
	}
}

// TestRestartAppliesNoHPAThatIsAsItShouldBe: an operator that starts again knows an HPA by the
// digest on it and its spec; an edit while it was away, or another body, is applied again.
func TestRestartAppliesNoHPAThatIsAsItShouldBe(t *testing.T) {
	key := types.NamespacedName{Namespace: "ns", Name: "so"}
	digest, _ := digestOf(map[string]any{"spec": map[string]any{"maxReplicas": int64(5)}})
	other, _ := digestOf(map[string]any{"spec": map[string]any{"maxReplicas": int64(6)}})
	desired := &autoscalingv2.HorizontalPodAutoscaler{Spec: autoscalingv2.HorizontalPodAutoscalerSpec{MaxReplicas: 5}}
	onCluster := func(d [32]byte, maxReplicas int32) *autoscalingv2.HorizontalPodAutoscaler {
		minReplicas := int32(1) // defaulted by the apiserver: not in the desired spec
		return &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{UID: "u1", Generation: 7, Annotations: map[string]string{kedav1alpha1.AnnotationHPAAppliedDigest: hex.EncodeToString(d[:])}},
			Spec:       autoscalingv2.HorizontalPodAutoscalerSpec{MaxReplicas: maxReplicas, MinReplicas: &minReplicas},
		}
	}
	for _, c := range []struct {
		name    string
		current *autoscalingv2.HorizontalPodAutoscaler
		want    bool
	}{
		{"as applied before the restart", onCluster(digest, 5), true},
		{"applied from another body", onCluster(other, 5), false},
		{"its spec edited while the operator was away", onCluster(digest, 9), false},
		{"no HPA", nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var h hpaApplies
			if got := h.appliedBefore(key, digest, desired, c.current); got != c.want {
				t.Fatalf("appliedBefore = %v, want %v", got, c.want)
			}
			if c.want && !h.upToDate(key, digest, c.current) {
				t.Error("not recorded: the next reconcile would apply it")
			}
		})
	}
}
