package controller

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kedactl/kedactl/scalers"
)

// PodLister gives the kubernetes-workload scaler the pods it counts through reader, the manager's
// cached client: a poll reads the informer's store, not the apiserver.
func PodLister(reader client.Reader) scalers.PodLister {
	return podLister{reader: reader}
}

type podLister struct{ reader client.Reader }

func (p podLister) ListPods(ctx context.Context, namespace string, selector labels.Selector) ([]corev1.Pod, error) {
	list := &corev1.PodList{}
	// The scaler only counts: no need for the cache to copy every pod.
	if err := p.reader.List(ctx, list, client.InNamespace(namespace), client.MatchingLabelsSelector{Selector: selector}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	return list.Items, nil
}
