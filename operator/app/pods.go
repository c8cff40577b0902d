package app

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kedactl/kedactl/operator/controller"
	"github.com/kedactl/kedactl/scalers"
)

// cachedPods is the pod lister the operator gives the kubernetes-workload trigger: it lists from
// the manager's cache and, as a scalers.PodWatcher, tells of pod changes from the same cache's Pod
// informer, so pushing costs no watch and no request to the apiserver beyond the one the cache
// keeps anyway.
type cachedPods struct {
	scalers.PodLister
	informers cache.Informers
}

var _ scalers.PodWatcher = (*cachedPods)(nil)

func newCachedPods(reader client.Reader, informers cache.Informers) *cachedPods {
	return &cachedPods{PodLister: controller.PodLister(reader), informers: informers}
}

// WatchPods adds an event handler to the cache's Pod informer (the one ListPods reads) that calls
// changed for the events that can change the count of namespace's pods matching selector.
func (p *cachedPods) WatchPods(ctx context.Context, namespace string, selector labels.Selector, changed func()) (func(), error) {
	// Not waiting for the sync: the handler gets the events from whenever the informer is ready,
	// and the trigger is polled meanwhile.
	inf, err := p.informers.GetInformer(ctx, &corev1.Pod{}, cache.BlockUntilSynced(false))
	if err != nil {
		return nil, fmt.Errorf("failed to get the pod informer to watch pods %q in namespace %s: %w", selector, namespace, err)
	}
	reg, err := inf.AddEventHandler(podHandler(namespace, selector, changed))
	if err != nil {
		return nil, fmt.Errorf("failed to watch pods %q in namespace %s: %w", selector, namespace, err)
	}
	return func() { _ = inf.RemoveEventHandler(reg) }, nil
}

// podHandler turns informer events into calls of changed. The pods the informer lists when the
// handler is added are not changes: the trigger's first poll counts them.
func podHandler(namespace string, selector labels.Selector, changed func()) toolscache.ResourceEventHandler {
	notify := func(oldPod, newPod *corev1.Pod) {
		if scalers.PodChangeMatters(oldPod, newPod, namespace, selector) {
			changed()
		}
	}
	return toolscache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(obj any, isInInitialList bool) {
			if p, ok := obj.(*corev1.Pod); ok && !isInInitialList {
				notify(nil, p)
			}
		},
		UpdateFunc: func(oldObj, newObj any) {
			o, okOld := oldObj.(*corev1.Pod)
			n, okNew := newObj.(*corev1.Pod)
			if okOld && okNew {
				notify(o, n)
			}
		},
		DeleteFunc: func(obj any) {
			// A pod deleted while the watch was down arrives as a tombstone.
			if tomb, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if p, ok := obj.(*corev1.Pod); ok {
				notify(p, nil)
			}
		},
	}
}
