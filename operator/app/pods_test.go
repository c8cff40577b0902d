package app

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	toolscache "k8s.io/client-go/tools/cache"
)

// TestPodHandler feeds the handler the events an informer delivers and counts the calls of
// changed: the initial list is not a change, tombstones are deletions, and a status update of a
// counted pod is filtered out.
func TestPodHandler(t *testing.T) {
	backend := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "a", Labels: map[string]string{"app": "backend"}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	ready := backend.DeepCopy()
	ready.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	done := backend.DeepCopy()
	done.Status.Phase = corev1.PodSucceeded
	other := backend.DeepCopy()
	other.Namespace = "other"

	tests := []struct {
		name  string
		event func(h toolscache.ResourceEventHandler)
		want  int
	}{
		{name: "listed when the handler is added", event: func(h toolscache.ResourceEventHandler) { h.OnAdd(backend, true) }, want: 0},
		{name: "created", event: func(h toolscache.ResourceEventHandler) { h.OnAdd(backend, false) }, want: 1},
		{name: "created in another namespace", event: func(h toolscache.ResourceEventHandler) { h.OnAdd(other, false) }, want: 0},
		{name: "became ready", event: func(h toolscache.ResourceEventHandler) { h.OnUpdate(backend, ready) }, want: 0},
		{name: "succeeded", event: func(h toolscache.ResourceEventHandler) { h.OnUpdate(backend, done) }, want: 1},
		{name: "deleted", event: func(h toolscache.ResourceEventHandler) { h.OnDelete(backend) }, want: 1},
		{name: "deleted while the watch was down", event: func(h toolscache.ResourceEventHandler) {
			h.OnDelete(toolscache.DeletedFinalStateUnknown{Key: "ns/a", Obj: backend})
		}, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			tt.event(podHandler("ns", labels.SelectorFromSet(labels.Set{"app": "backend"}), func() { calls++ }))
			if calls != tt.want {
				t.Errorf("changed called %d times, want %d", calls, tt.want)
			}
		})
	}
}
