// Package metrics serves external.metrics.k8s.io/v1beta1 to the HPA from the engine: a trigger
// with useCachedMetrics is answered from the last poll, any other with a read of its source at the
// request, as KEDA does, shared with concurrent requests and counted as the trigger's poll.
package metrics

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/metrics/pkg/apis/external_metrics"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/internal/modifiers"
	"github.com/kedactl/kedactl/operator/engine"
	"github.com/kedactl/kedactl/operator/scaling"
)

// StateReader is the part of the engine the provider reads.
type StateReader interface {
	State(key engine.Key) (engine.ObjectState, bool)
	// MetricNames lists the distinct metric names of the registered ScaledObjects' triggers.
	MetricNames() []string
	// Read reads one metric from its source now (single-flight with the engine's polls), for a
	// trigger without useCachedMetrics.
	Read(ctx context.Context, key engine.Key, metricName string) (engine.TriggerState, bool)
}

// ReplicaReader knows the replicas of each ScaledObject's target, as last read from its /scale.
type ReplicaReader interface {
	CurrentReplicas(key types.NamespacedName) (int32, bool)
}

// ReadyPodCounter counts the Running and Ready pods of a ScaledObject's target, which a Value
// target's fallback is divided by.
type ReadyPodCounter interface {
	ReadyPods(ctx context.Context, so *kedav1alpha1.ScaledObject) (int32, error)
}

// Provider answers external metric queries from the engine's cache.
type Provider struct {
	state StateReader
	// objects reads ScaledObjects and HPAs (the manager's cache) for fallback; nil disables it.
	objects client.Reader
	// replicas gives the target's current replicas for the currentReplicas fallback behaviours;
	// nil (or a target not read yet) falls back to the HPA's status.
	replicas ReplicaReader
	// formulas compiles scalingModifiers once per generation; nil compiles on every request.
	formulas *modifiers.Cache
	// pods counts the target's ready pods for a Value target's fallback; nil serves no such
	// fallback.
	pods ReadyPodCounter
}

var _ provider.ExternalMetricsProvider = (*Provider)(nil)

// NewProvider returns a Provider reading state, objects, replicas and pods for fallback, and
// formulas (shared with activation) for scalingModifiers.
func NewProvider(state StateReader, objects client.Reader, replicas ReplicaReader, formulas *modifiers.Cache, pods ReadyPodCounter) *Provider {
	return &Provider{state: state, objects: objects, replicas: replicas, formulas: formulas, pods: pods}
}

// currentReplicas is the target's replica count the fallback behaviours compare with: what the
// executor last read from /scale, else what the HPA last saw (0 before its first sync).
func (p *Provider) currentReplicas(ctx context.Context, key types.NamespacedName, so *kedav1alpha1.ScaledObject) int32 {
	if p.replicas != nil {
		if n, ok := p.replicas.CurrentReplicas(key); ok {
			return n
		}
	}
	hpa := &autoscalingv2.HorizontalPodAutoscaler{}
	if err := p.objects.Get(ctx, types.NamespacedName{Namespace: key.Namespace, Name: so.HPAName()}, hpa); err == nil {
		return hpa.Status.CurrentReplicas
	}
	return 0
}

var externalMetricsResource = schema.GroupResource{Group: "external.metrics.k8s.io", Resource: "externalmetrics"}

// GetExternalMetric returns the latest sample of info.Metric for the ScaledObject named by the
// selector's scaledobject.keda.sh/name label.
func (p *Provider) GetExternalMetric(ctx context.Context, namespace string, selector labels.Selector, info provider.ExternalMetricInfo) (*external_metrics.ExternalMetricValueList, error) {
	if name, ok := selector.RequiresExactMatch(kedav1alpha1.LabelScaledJobName); ok {
		return p.scaledJobMetric(types.NamespacedName{Namespace: namespace, Name: name}, info.Metric)
	}
	name, ok := selector.RequiresExactMatch(kedav1alpha1.LabelScaledObjectName)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the label selector must select %s=<ScaledObject name>, got %q", kedav1alpha1.LabelScaledObjectName, selector.String()))
	}
	key := types.NamespacedName{Namespace: namespace, Name: name}
	st, ok := p.state.State(engine.ScaledObjectKey(key))
	if !ok {
		return nil, apierrors.NewNotFound(externalMetricsResource, fmt.Sprintf("%s (ScaledObject %s is not registered)", info.Metric, key))
	}
	if strings.EqualFold(info.Metric, modifiers.MetricName) {
		return p.composite(ctx, key, &st, info.Metric)
	}
	t := st.Metric(info.Metric)
	if t == nil {
		return nil, apierrors.NewNotFound(externalMetricsResource, fmt.Sprintf("%s (not a metric of ScaledObject %s)", info.Metric, key))
	}
	if !t.UseCachedMetrics && !t.Resource {
		// KEDA reads the source on each HPA request unless useCachedMetrics is true.
		if fresh, ok := p.state.Read(ctx, engine.ScaledObjectKey(key), t.MetricName); ok {
			t = &fresh
		}
	}
	if !t.Polled {
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("metric %s of ScaledObject %s has not been polled yet", info.Metric, key))
	}
	if t.Err != nil {
		v, served, err := p.fallback(ctx, key, t)
		if served {
			return oneValue(info.Metric, t.Time, v), nil
		}
		msg := fmt.Sprintf("metric %s of ScaledObject %s: trigger %d (%s) failed %d time(s) in a row: %v", info.Metric, key, t.Index, t.Type, t.ConsecutiveFailures, t.Err)
		if err != nil {
			msg += "; no fallback: " + err.Error()
		}
		return nil, apierrors.NewServiceUnavailable(msg)
	}
	return &external_metrics.ExternalMetricValueList{Items: []external_metrics.ExternalMetricValue{{
		MetricName:   info.Metric,
		MetricLabels: map[string]string{},
		Timestamp:    metav1.NewTime(t.Time),
		Value:        t.Value,
	}}}, nil
}

// scaledJobMetric is the latest sample of a ScaledJob's trigger, as its last poll read it (no HPA
// reads it, so nothing reads the source on request), labelled with what the Job count needs
// besides the value: the trigger's target per Job and its activity.
func (p *Provider) scaledJobMetric(key types.NamespacedName, metric string) (*external_metrics.ExternalMetricValueList, error) {
	st, ok := p.state.State(engine.ScaledJobKey(key))
	if !ok {
		return nil, apierrors.NewNotFound(externalMetricsResource, fmt.Sprintf("%s (ScaledJob %s is not registered)", metric, key))
	}
	t := st.Metric(metric)
	switch {
	case t == nil:
		return nil, apierrors.NewNotFound(externalMetricsResource, fmt.Sprintf("%s (not a metric of ScaledJob %s)", metric, key))
	case !t.Polled:
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("metric %s of ScaledJob %s has not been polled yet", metric, key))
	case t.Err != nil:
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("metric %s of ScaledJob %s: trigger %d (%s) failed %d time(s) in a row: %v", metric, key, t.Index, t.Type, t.ConsecutiveFailures, t.Err))
	}
	labels := map[string]string{kedav1alpha1.MetricLabelActive: strconv.FormatBool(t.Active)}
	if t.Target.AverageValue != nil {
		labels[kedav1alpha1.MetricLabelTargetAverageValue] = t.Target.AverageValue.String()
	}
	return &external_metrics.ExternalMetricValueList{Items: []external_metrics.ExternalMetricValue{{
		MetricName: metric, MetricLabels: labels, Timestamp: metav1.NewTime(t.Time), Value: t.Value,
	}}}, nil
}

// composite evaluates the ScaledObject's scalingModifiers formula over its triggers' latest values,
// with KEDA's fallback: when a trigger has failed more than failureThreshold times, the fallback
// value is served against the composite target and metric type instead (whatever the other
// triggers do); under the scalingModifiers behavior that trigger enters the formula as nil
// instead, and a formula that gives nil serves fallback.replicas x the composite target. A trigger
// failing without a fallback fails the request.
func (p *Provider) composite(ctx context.Context, key types.NamespacedName, st *engine.ObjectState, metric string) (*external_metrics.ExternalMetricValueList, error) {
	if p.objects == nil {
		return nil, apierrors.NewServiceUnavailable("the composite metric needs the ScaledObject, which this server cannot read")
	}
	so := &kedav1alpha1.ScaledObject{}
	if err := p.objects.Get(ctx, key, so); err != nil {
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("failed to read ScaledObject %s: %v", key, err))
	}
	c, errs := p.formulas.Compile(so)
	if c == nil || len(errs) > 0 {
		return nil, apierrors.NewNotFound(externalMetricsResource, fmt.Sprintf("%s (ScaledObject %s has no valid scalingModifiers: %v)", metric, key, errs.ToAggregate()))
	}
	byFormula := so.Spec.Fallback != nil && so.Spec.Fallback.Behavior == kedav1alpha1.FallbackBehaviorScalingModifiers
	newest := time.Time{}
	var failing, fallingBack *engine.TriggerState
	missing := map[string]bool{}
	for i := range st.Triggers {
		t := &st.Triggers[i]
		if !t.UseCachedMetrics && !t.Resource && t.MetricName != "" {
			if fresh, ok := p.state.Read(ctx, engine.ScaledObjectKey(key), t.MetricName); ok {
				*t = fresh
			}
		}
		if !t.Polled {
			return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("trigger %d of ScaledObject %s has not been polled yet", t.Index, key))
		}
		if t.Time.After(newest) {
			newest = t.Time
		}
		switch {
		case t.Err == nil:
		case scaling.FallbackActive(&so.Spec, t) && byFormula:
			if t.Name != "" {
				missing[t.Name] = true
			}
		case scaling.FallbackActive(&so.Spec, t):
			if fallingBack == nil {
				fallingBack = t
			}
		case failing == nil:
			failing = t
		}
	}
	if t := fallingBack; t != nil {
		v, err := p.fallbackValue(ctx, key, so, c.MetricType, c.Target)
		if err != nil {
			return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("metric %s of ScaledObject %s: trigger %d (%s) failed %d time(s) in a row: %v; no fallback: %v", metric, key, t.Index, t.Type, t.ConsecutiveFailures, t.Err, err))
		}
		return oneValue(metric, t.Time, v), nil
	}
	if t := failing; t != nil {
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("metric %s of ScaledObject %s: trigger %d (%s) failed %d time(s) in a row: %v", metric, key, t.Index, t.Type, t.ConsecutiveFailures, t.Err))
	}
	var v float64
	if len(missing) > 0 {
		var null bool
		var err error
		v, null, err = c.EvaluateWithNil(st.NamedValues(), missing)
		if err != nil {
			return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("metric %s of ScaledObject %s: %v", metric, key, err))
		}
		if null {
			// KEDA serves fallback.replicas x target here, whatever the metric type.
			v = float64(so.Spec.Fallback.Replicas) * c.Target
		}
	} else {
		var err error
		if v, err = c.Evaluate(st.NamedValues()); err != nil {
			return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("metric %s of ScaledObject %s: %v", metric, key, err))
		}
	}
	return oneValue(metric, newest, *resource.NewMilliQuantity(int64(v*1000), resource.DecimalSI)), nil
}

func oneValue(metric string, at time.Time, v resource.Quantity) *external_metrics.ExternalMetricValueList {
	return &external_metrics.ExternalMetricValueList{Items: []external_metrics.ExternalMetricValue{{
		MetricName: metric, MetricLabels: map[string]string{}, Timestamp: metav1.NewTime(at), Value: v,
	}}}
}

// fallback returns the value served for trigger t while it fails, as KEDA's
// GetMetricsWithFallback: once it has failed more than failureThreshold times, the value that
// makes the HPA converge to the fallback replicas (served is true), or KEDA's placeholder -1 under
// the scalingModifiers behavior. err says why a trigger past its threshold has no fallback value
// (a Value target with no ready pod).
func (p *Provider) fallback(ctx context.Context, key types.NamespacedName, t *engine.TriggerState) (v resource.Quantity, served bool, err error) {
	if p.objects == nil {
		return resource.Quantity{}, false, nil
	}
	so := &kedav1alpha1.ScaledObject{}
	if err := p.objects.Get(ctx, key, so); err != nil || !scaling.FallbackActive(&so.Spec, t) {
		return resource.Quantity{}, false, nil
	}
	if so.Spec.Fallback.Behavior == kedav1alpha1.FallbackBehaviorScalingModifiers {
		return scaling.FallbackPlaceholder.DeepCopy(), true, nil
	}
	typ, target, err := scaling.TargetValue(t.Target)
	if err != nil {
		return resource.Quantity{}, false, err
	}
	if v, err = p.fallbackValue(ctx, key, so, typ, target); err != nil {
		return resource.Quantity{}, false, err
	}
	return v, true, nil
}

// fallbackValue is the value of a metric with target (of type typ) that makes the HPA converge to
// the fallback replicas; a Value target's is divided by the target's ready pods.
func (p *Provider) fallbackValue(ctx context.Context, key types.NamespacedName, so *kedav1alpha1.ScaledObject, typ autoscalingv2.MetricTargetType, target float64) (resource.Quantity, error) {
	replicas := so.Spec.Fallback.Replicas
	if b := so.Spec.Fallback.Behavior; b != "" && b != kedav1alpha1.FallbackBehaviorStatic {
		replicas = scaling.FallbackReplicas(so.Spec.Fallback, p.currentReplicas(ctx, key, so))
	}
	var ready int32
	if typ == autoscalingv2.ValueMetricType {
		if p.pods == nil {
			return resource.Quantity{}, fmt.Errorf("this server cannot count the target's ready pods, which a Value target's fallback is divided by")
		}
		n, err := p.pods.ReadyPods(ctx, so)
		if err != nil {
			return resource.Quantity{}, fmt.Errorf("failed to count the ready pods of the target, which a Value target's fallback is divided by: %w", err)
		}
		ready = n
	}
	return scaling.FallbackValue(typ, target, replicas, ready)
}

// ListAllExternalMetrics lists the metric names of every registered ScaledObject's triggers (the
// group's discovery; KEDA lists one placeholder name).
func (p *Provider) ListAllExternalMetrics() []provider.ExternalMetricInfo {
	names := p.state.MetricNames()
	out := make([]provider.ExternalMetricInfo, 0, len(names))
	for _, name := range names {
		out = append(out, provider.ExternalMetricInfo{Metric: name})
	}
	return out
}
