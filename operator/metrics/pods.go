package metrics

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/scale"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/operator/scaling"
	"github.com/kedactl/kedactl/scalers"
)

// TargetPods counts a ScaledObject's target's ready pods as KEDA does: the pods matching the
// selector its /scale reports, listed from Pods (the operator's pod cache, so no list reaches the
// apiserver), Running and Ready.
type TargetPods struct {
	Scales scale.ScalesGetter
	Pods   scalers.PodLister
}

var _ ReadyPodCounter = TargetPods{}

// ReadyPods implements ReadyPodCounter.
func (tp TargetPods) ReadyPods(ctx context.Context, so *kedav1alpha1.ScaledObject) (int32, error) {
	gvkr := so.Status.ScaleTargetGVKR
	if gvkr == nil || so.Spec.ScaleTargetRef == nil {
		return 0, fmt.Errorf("the scale target of ScaledObject %s/%s is not resolved yet", so.Namespace, so.Name)
	}
	gr := schema.GroupResource{Group: gvkr.Group, Resource: gvkr.Resource}
	sc, err := tp.Scales.Scales(so.Namespace).Get(ctx, gr, so.Spec.ScaleTargetRef.Name, metav1.GetOptions{})
	if err != nil {
		return 0, fmt.Errorf("failed to get the scale of %s %s/%s: %w", gvkr.Kind, so.Namespace, so.Spec.ScaleTargetRef.Name, err)
	}
	selector, err := labels.Parse(sc.Status.Selector)
	if err != nil {
		return 0, fmt.Errorf("the /scale of %s %s/%s has selector %q, which does not parse: %w", gvkr.Kind, so.Namespace, so.Spec.ScaleTargetRef.Name, sc.Status.Selector, err)
	}
	if selector.Empty() {
		// An empty selector would count every pod of the namespace; /scale without one (a custom
		// resource that does not report it) has no pods the operator can tell.
		return 0, fmt.Errorf("the /scale of %s %s/%s reports no pod selector (status.selector)", gvkr.Kind, so.Namespace, so.Spec.ScaleTargetRef.Name)
	}
	pods, err := tp.Pods.ListPods(ctx, so.Namespace, selector)
	if err != nil {
		return 0, fmt.Errorf("failed to list the pods %q of %s %s/%s: %w", selector, gvkr.Kind, so.Namespace, so.Spec.ScaleTargetRef.Name, err)
	}
	return scaling.ReadyReplicas(pods), nil
}
