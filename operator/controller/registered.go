package controller

import (
	"context"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/operator/engine"
)

// Tuning is the timing and concurrency both reconcilers take; zero values get defaults.
type Tuning struct {
	// ScalerTimeout bounds each call a scaler makes to its event source.
	ScalerTimeout time.Duration
	// RetryAfter is how soon an object whose target, spec or triggers are broken is looked at again.
	RetryAfter time.Duration
	// AuthResync is how often an object whose triggers use an authentication is reconciled again,
	// so that a changed Secret takes effect without watching Secrets cluster-wide.
	AuthResync time.Duration
	// MaxConcurrentReconciles is how many objects of a kind are reconciled at once (KEDA's default,
	// 5, when zero): one slow object, or a burst of new ones, must not hold up an edit to another.
	MaxConcurrentReconciles int
}

func (t *Tuning) setDefaults() {
	if t.RetryAfter == 0 {
		t.RetryAfter = 10 * time.Second
	}
	if t.AuthResync == 0 {
		t.AuthResync = 30 * time.Second
	}
	if t.MaxConcurrentReconciles <= 0 {
		t.MaxConcurrentReconciles = 5
	}
}

// registered is what registering an object's triggers with the engine came to.
type registered struct {
	// metricSpecs are the metric specs of the triggers that were built.
	metricSpecs []autoscalingv2.MetricSpec
	// errs are the build errors of the others, joined; allTransient says each was a source that
	// did not answer in passing rather than a spec error.
	errs         string
	allTransient bool
}

func outcomeOf(infos []engine.TriggerInfo) registered {
	var out registered
	var errs []string
	out.allTransient = true
	for _, info := range infos {
		if info.Err != nil {
			errs = append(errs, info.Err.Error())
			out.allTransient = out.allTransient && isTransient(info.Err)
			continue
		}
		out.metricSpecs = append(out.metricSpecs, info.MetricSpecs...)
	}
	out.errs = strings.Join(errs, "; ")
	return out
}

// authUsers maps a (Cluster)TriggerAuthentication of kind to the objects of list's kind whose
// triggers refer to it (through authRefIndex), so that editing it takes effect at once.
func authUsers[L client.ObjectList](c client.Client, kind string, newList func() L, each func(L, func(client.Object))) handler.MapFunc {
	return func(ctx context.Context, obj client.Object) []reconcile.Request {
		list := newList()
		if err := c.List(ctx, list, client.MatchingFields{authRefIndex: authRefKey(kind, obj.GetNamespace(), obj.GetName())}); err != nil {
			return nil
		}
		var out []reconcile.Request
		each(list, func(o client.Object) {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(o)})
		})
		return out
	}
}

// scalersStarted records what KEDA records when an object's scalers start: "Scaler <type> is built"
// for each trigger type, then "Started scalers watch", all KEDAScalersStarted. Each type's event
// has an action of its own: events of one object, reason and action form one series, which would
// keep only the first type's message.
func scalersStarted(recorder events.EventRecorder, obj runtime.Object, triggers []kedav1alpha1.ScaleTriggers) {
	for _, typ := range distinct(triggerTypeList(triggers)) {
		recorder.Eventf(obj, nil, corev1.EventTypeNormal, kedav1alpha1.EventKEDAScalersStarted, "BuildScaler/"+typ, "Scaler %s is built", typ)
	}
	recorder.Eventf(obj, nil, corev1.EventTypeNormal, kedav1alpha1.EventKEDAScalersStarted, "Reconcile", "Started scalers watch")
}

// scalersStopped records KEDA's KEDAScalersStopped event on an object whose triggers stopped being
// polled because it was paused or deleted.
func scalersStopped(recorder events.EventRecorder, obj runtime.Object) {
	recorder.Eventf(obj, nil, corev1.EventTypeNormal, kedav1alpha1.EventKEDAScalersStopped, "Stop", "Stopped scalers watch")
}
