package controller

import (
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
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
