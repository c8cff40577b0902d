package scaling

import (
	"context"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	historyv1alpha1 "github.com/kedactl/kedactl/api/history/v1alpha1"
	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/operator/engine"
	"github.com/kedactl/kedactl/operator/history"
)

// The executor's hooks into the history store: each evaluation's readings, and every decision
// beside the event that announces it.

// recordSample records the triggers' readings of one evaluation on a new sample, with the
// replicas read before deciding and those wanted after: the decision's on a scale, else the HPA's.
func (x *Executor) recordSample(ctx context.Context, key types.NamespacedName, so *kedav1alpha1.ScaledObject, st engine.ObjectState, current int32, d Decision, now time.Time) {
	if x.history == nil {
		return
	}
	desired := x.hpaDesired(ctx, so)
	if d.Action != Keep {
		desired = ptr.To(d.Replicas)
	}
	x.history.Sample(history.ScaledObjectKey(key), historyv1alpha1.Sample{
		Time:            metav1.NewTime(now),
		Replicas:        ptr.To(current),
		DesiredReplicas: desired,
		Triggers:        history.Readings(st.Triggers, so.Spec.Triggers),
	})
}

// hpaDesired is the desired replicas of so's HPA as the cache holds it; nil when it has none, or
// has not computed one yet (an HPA never wants 0: its minimum is at least 1, and 0 is its unset
// status).
func (x *Executor) hpaDesired(ctx context.Context, so *kedav1alpha1.ScaledObject) *int32 {
	if so.Status.HpaName == "" {
		return nil
	}
	hpa := &autoscalingv2.HorizontalPodAutoscaler{}
	if err := x.client.Get(ctx, types.NamespacedName{Namespace: so.Namespace, Name: so.Status.HpaName}, hpa); err != nil || hpa.Status.DesiredReplicas == 0 {
		return nil
	}
	return ptr.To(hpa.Status.DesiredReplicas)
}

// recordScale records an activation or deactivation (or its failure, when err is set).
func (x *Executor) recordScale(key types.NamespacedName, so *kedav1alpha1.ScaledObject, st engine.ObjectState, d Decision, from int32, err error) {
	dec := historyv1alpha1.Decision{FromReplicas: ptr.To(from), ToReplicas: ptr.To(d.Replicas), Message: d.Reason}
	switch {
	case err != nil:
		dec.Type, dec.Message = historyv1alpha1.DecisionScaleFailed, err.Error()
	case d.Action == Deactivate:
		// The store names the triggers that were active last.
		dec.Type = historyv1alpha1.DecisionDeactivated
	default:
		dec.Type, dec.Trigger = historyv1alpha1.DecisionActivated, activeTriggers(st)
	}
	x.recordDecision(so, dec)
}

func (x *Executor) recordDecision(so *kedav1alpha1.ScaledObject, d historyv1alpha1.Decision) {
	if x.history == nil {
		return
	}
	d.Time = metav1.NewTime(x.clock.Now())
	x.history.Decide(history.ScaledObjectKey(client.ObjectKeyFromObject(so)), d)
}

// triggerName names a trigger in a decision: its name, else its type with "Scaler" appended, as
// the activation event does.
func triggerName(t engine.TriggerState) string {
	if t.Name != "" {
		return t.Name
	}
	return t.Type + "Scaler"
}

func failingTriggers(st engine.ObjectState) string {
	var names []string
	for _, t := range st.Triggers {
		if t.Err != nil {
			names = append(names, triggerName(t))
		}
	}
	return strings.Join(names, ";")
}
