package scalers

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Run pushes when a matching pod changes, when the operator's pod lister can say so (PodWatcher);
// otherwise it returns at once and the trigger is polled as before.
func (s *kubernetesWorkloadScaler) Run(ctx context.Context, push func(active bool)) {
	w, ok := s.cfg.Pods.(PodWatcher)
	if !ok {
		return
	}
	// The activity is the poll's to decide: the engine answers a push by counting the pods.
	changed := func() { push(true) }
	wait := time.Second
	for {
		unregister, err := w.WatchPods(ctx, s.cfg.ScalableObjectNamespace, s.meta.Selector, changed)
		if err == nil {
			<-ctx.Done()
			unregister()
			return
		}
		// The pod informer could not be had (yet): the trigger is polled meanwhile; try again
		// with a backoff.
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, time.Minute)
	}
}

// PodChangeMatters reports whether a pod event can change what a kubernetes-workload trigger of
// namespace and selector counts: old is nil for an added pod and new nil for a deleted one. A
// status update of a counted pod (readiness, restarts) changes nothing the trigger reads; a
// change of labels, phase or node does, and so does a pod entering or leaving the selection.
func PodChangeMatters(oldPod, newPod *corev1.Pod, namespace string, selector labels.Selector) bool {
	matches := func(p *corev1.Pod) bool {
		return p != nil && p.Namespace == namespace && selector.Matches(labels.Set(p.Labels))
	}
	wasIn, isIn := matches(oldPod), matches(newPod)
	switch {
	case !wasIn && !isIn:
		return false
	case wasIn != isIn || oldPod == nil || newPod == nil:
		return true
	default:
		return oldPod.Status.Phase != newPod.Status.Phase || oldPod.Spec.NodeName != newPod.Spec.NodeName
	}
}
