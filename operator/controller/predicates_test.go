package controller

import (
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"
)

// TestOwnedHPAChanges: an owned HPA's creation (the reconcile's own doing) and its status updates
// do not reconcile the ScaledObject again; an edit of its spec and its deletion do.
func TestOwnedHPAChanges(t *testing.T) {
	p := ownedHPAChanges()
	hpa := func(gen int64) *autoscalingv2.HorizontalPodAutoscaler {
		return &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "keda-hpa-worker", Generation: gen}}
	}
	if p.Create(event.CreateEvent{Object: hpa(1)}) {
		t.Error("the HPA's creation reconciles its ScaledObject again")
	}
	if p.Update(event.UpdateEvent{ObjectOld: hpa(1), ObjectNew: hpa(1)}) {
		t.Error("a status update reconciles")
	}
	if !p.Update(event.UpdateEvent{ObjectOld: hpa(1), ObjectNew: hpa(2)}) {
		t.Error("an edit of the HPA's spec does not reconcile")
	}
	if !p.Delete(event.DeleteEvent{Object: hpa(2)}) {
		t.Error("the HPA's deletion does not reconcile")
	}
}
