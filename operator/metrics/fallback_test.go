package metrics

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	scalefake "k8s.io/client-go/scale/fake"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/internal/modifiers"
	"github.com/kedactl/kedactl/operator/engine"
)

type fixedReplicas int32

func (f fixedReplicas) CurrentReplicas(types.NamespacedName) (int32, bool) { return int32(f), true }

type fixedReady struct {
	n   int32
	err error
}

func (f fixedReady) ReadyPods(context.Context, *kedav1alpha1.ScaledObject) (int32, error) {
	return f.n, f.err
}

func target(typ autoscalingv2.MetricTargetType, v int64) autoscalingv2.MetricTarget {
	q := resource.NewQuantity(v, resource.DecimalSI)
	if typ == autoscalingv2.ValueMetricType {
		return autoscalingv2.MetricTarget{Type: typ, Value: q}
	}
	return autoscalingv2.MetricTarget{Type: typ, AverageValue: q}
}

func objectsWith(t *testing.T, so *kedav1alpha1.ScaledObject) *fake.ClientBuilder {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := kedav1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := autoscalingv2.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	return fake.NewClientBuilder().WithScheme(scheme).WithObjects(so)
}

// TestTriggerFallback: what the HPA is served for a failing trigger, as KEDA's
// GetMetricsWithFallback serves it (fallback replicas 3, target at 5 replicas).
func TestTriggerFallback(t *testing.T) {
	down := errors.New("connection refused")
	tests := []struct {
		name      string
		fallback  kedav1alpha1.Fallback
		target    autoscalingv2.MetricTarget
		failures  int32
		ready     fixedReady
		wantMilli int64
		wantErr   string
	}{
		{name: "at the threshold: not yet", fallback: kedav1alpha1.Fallback{FailureThreshold: 2, Replicas: 3}, target: target("AverageValue", 5), failures: 2, wantErr: "failed 2 time(s)"},
		{name: "past the threshold: AverageValue", fallback: kedav1alpha1.Fallback{FailureThreshold: 2, Replicas: 3}, target: target("AverageValue", 5), failures: 3, wantMilli: 15000},
		{name: "threshold 0: the first failure", fallback: kedav1alpha1.Fallback{FailureThreshold: 0, Replicas: 3}, target: target("AverageValue", 5), failures: 1, wantMilli: 15000},
		{name: "currentReplicas", fallback: kedav1alpha1.Fallback{FailureThreshold: 0, Replicas: 3, Behavior: "currentReplicas"}, target: target("AverageValue", 5), failures: 1, wantMilli: 25000},
		{name: "Value divided by the ready pods", fallback: kedav1alpha1.Fallback{FailureThreshold: 0, Replicas: 3}, target: target("Value", 5), failures: 1, ready: fixedReady{n: 2}, wantMilli: 7500},
		{name: "Value with currentReplicasIfHigher", fallback: kedav1alpha1.Fallback{FailureThreshold: 0, Replicas: 3, Behavior: "currentReplicasIfHigher"}, target: target("Value", 4), failures: 1, ready: fixedReady{n: 5}, wantMilli: 4000},
		{name: "Value with no ready pod: no fallback", fallback: kedav1alpha1.Fallback{FailureThreshold: 0, Replicas: 3}, target: target("Value", 5), failures: 1, ready: fixedReady{n: 0}, wantErr: "no fallback: the target has no Running and Ready pod"},
		{name: "Value, pods not countable", fallback: kedav1alpha1.Fallback{FailureThreshold: 0, Replicas: 3}, target: target("Value", 5), failures: 1, ready: fixedReady{err: errors.New("forbidden")}, wantErr: "failed to count the ready pods"},
		{name: "scalingModifiers behavior: KEDA's placeholder", fallback: kedav1alpha1.Fallback{FailureThreshold: 0, Replicas: 3, Behavior: "scalingModifiers"}, target: target("AverageValue", 5), failures: 1, wantMilli: -1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			so := &kedav1alpha1.ScaledObject{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "worker"}, Spec: kedav1alpha1.ScaledObjectSpec{Fallback: &tt.fallback}}
			key := engine.Key{Kind: engine.KindScaledObject, Namespace: "ns", Name: "worker"}
			state := fakeState{key: {Key: key, Triggers: []engine.TriggerState{
				{Index: 0, Type: "redis", MetricName: "s0-redis-jobs", Target: tt.target, UseCachedMetrics: true, Sample: engine.Sample{Polled: true, Err: down, ConsecutiveFailures: tt.failures, Time: time.Unix(1, 0)}},
			}}}
			p := NewProvider(state, objectsWith(t, so).Build(), fixedReplicas(5), nil, tt.ready)
			list, err := p.GetExternalMetric(t.Context(), "ns", labels.SelectorFromSet(labels.Set{kedav1alpha1.LabelScaledObjectName: "worker"}), provider.ExternalMetricInfo{Metric: "s0-redis-jobs"})
			if tt.wantErr != "" {
				if !apierrors.IsServiceUnavailable(err) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want ServiceUnavailable with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := list.Items[0].Value.MilliValue(); got != tt.wantMilli {
				t.Errorf("value = %dm, want %dm", got, tt.wantMilli)
			}
		})
	}
}

// TestCompositeFallback: the composite metric while triggers fail, as KEDA's
// GetScaledObjectMetrics and HandleScalingModifiers serve it (fallback replicas 3, target 2).
func TestCompositeFallback(t *testing.T) {
	down := errors.New("connection refused")
	good := func(v int64) engine.Sample {
		return engine.Sample{Polled: true, Value: *resource.NewQuantity(v, resource.DecimalSI), Time: time.Unix(1, 0)}
	}
	bad := func(failures int32) engine.Sample {
		return engine.Sample{Polled: true, Err: down, ConsecutiveFailures: failures, Value: *resource.NewQuantity(100, resource.DecimalSI), Time: time.Unix(1, 0)}
	}
	tests := []struct {
		name       string
		formula    string
		metricType autoscalingv2.MetricTargetType
		behavior   string
		primary    engine.Sample
		secondary  engine.Sample
		ready      int32
		wantMilli  int64
		wantErr    string
	}{
		{name: "both working", formula: "primary + secondary", primary: good(16), secondary: good(12), wantMilli: 28000},
		{name: "failing at the threshold fails the request", formula: "primary + secondary", primary: good(16), secondary: bad(2), wantErr: "trigger 1 (redis) failed 2 time(s)"},
		{name: "past the threshold: fallback against the composite target", formula: "primary + secondary", primary: good(16), secondary: bad(3), wantMilli: 6000},
		{name: "one past the threshold wins over one below it", formula: "primary + secondary", primary: bad(1), secondary: bad(3), wantMilli: 6000},
		{name: "composite Value: divided by the ready pods", formula: "primary + secondary", metricType: "Value", primary: good(16), secondary: bad(3), ready: 4, wantMilli: 1500},
		{name: "composite Value with no ready pod", formula: "primary + secondary", metricType: "Value", primary: good(16), secondary: bad(3), ready: 0, wantErr: "no Running and Ready pod"},
		{name: "scalingModifiers: ?? reads the next trigger", formula: "primary ?? secondary ?? 8", behavior: "scalingModifiers", primary: bad(3), secondary: good(12), wantMilli: 12000},
		{name: "scalingModifiers: the formula's constant", formula: "primary ?? secondary ?? 8", behavior: "scalingModifiers", primary: bad(3), secondary: bad(5), wantMilli: 8000},
		{name: "scalingModifiers: nil serves fallback replicas x target", formula: "primary ?? secondary", behavior: "scalingModifiers", primary: bad(3), secondary: bad(3), wantMilli: 6000},
		{name: "scalingModifiers: below the threshold fails", formula: "primary ?? secondary ?? 8", behavior: "scalingModifiers", primary: bad(1), secondary: good(12), wantErr: "trigger 0 (redis) failed 1 time(s)"},
		{name: "scalingModifiers: a formula that cannot take nil", formula: "primary + secondary", behavior: "scalingModifiers", primary: good(16), secondary: bad(3), wantErr: "use ?? to replace them"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			so := &kedav1alpha1.ScaledObject{
				ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "worker"},
				Spec: kedav1alpha1.ScaledObjectSpec{
					Fallback: &kedav1alpha1.Fallback{FailureThreshold: 2, Replicas: 3, Behavior: tt.behavior},
					Advanced: &kedav1alpha1.AdvancedConfig{ScalingModifiers: kedav1alpha1.ScalingModifiers{Formula: tt.formula, Target: "2", MetricType: tt.metricType}},
					Triggers: []kedav1alpha1.ScaleTriggers{{Type: "redis", Name: "primary"}, {Type: "redis", Name: "secondary"}},
				},
			}
			key := engine.Key{Kind: engine.KindScaledObject, Namespace: "ns", Name: "worker"}
			state := fakeState{key: {Key: key, Triggers: []engine.TriggerState{
				{Index: 0, Name: "primary", Type: "redis", MetricName: "s0-redis-a", UseCachedMetrics: true, Sample: tt.primary},
				{Index: 1, Name: "secondary", Type: "redis", MetricName: "s1-redis-b", UseCachedMetrics: true, Sample: tt.secondary},
			}}}
			p := NewProvider(state, objectsWith(t, so).Build(), fixedReplicas(5), &modifiers.Cache{}, fixedReady{n: tt.ready})
			list, err := p.GetExternalMetric(t.Context(), "ns", labels.SelectorFromSet(labels.Set{kedav1alpha1.LabelScaledObjectName: "worker"}), provider.ExternalMetricInfo{Metric: modifiers.MetricName})
			if tt.wantErr != "" {
				if !apierrors.IsServiceUnavailable(err) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want ServiceUnavailable with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := list.Items[0].Value.MilliValue(); got != tt.wantMilli {
				t.Errorf("value = %dm, want %dm", got, tt.wantMilli)
			}
		})
	}
}

type listedPods struct {
	pods     []corev1.Pod
	selector labels.Selector
}

func (l *listedPods) ListPods(_ context.Context, _ string, selector labels.Selector) ([]corev1.Pod, error) {
	l.selector = selector
	var out []corev1.Pod
	for _, p := range l.pods {
		if selector.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	return out, nil
}

// TestTargetPods: the ready pods are those of the /scale selector that are Running and Ready.
func TestTargetPods(t *testing.T) {
	scales := &scalefake.FakeScaleClient{}
	scales.AddReactor("get", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, &autoscalingv1.Scale{Status: autoscalingv1.ScaleStatus{Replicas: 3, Selector: "app=web"}}, nil
	})
	pod := func(app string, phase corev1.PodPhase, ready corev1.ConditionStatus) corev1.Pod {
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}}, Status: corev1.PodStatus{Phase: phase, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: ready}}}}
	}
	pods := &listedPods{pods: []corev1.Pod{
		pod("web", corev1.PodRunning, corev1.ConditionTrue),
		pod("web", corev1.PodRunning, corev1.ConditionTrue),
		pod("web", corev1.PodRunning, corev1.ConditionFalse),
		pod("web", corev1.PodPending, corev1.ConditionFalse),
		pod("db", corev1.PodRunning, corev1.ConditionTrue),
	}}
	so := &kedav1alpha1.ScaledObject{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "worker"},
		Spec:       kedav1alpha1.ScaledObjectSpec{ScaleTargetRef: &kedav1alpha1.ScaleTarget{Name: "web"}},
		Status:     kedav1alpha1.ScaledObjectStatus{ScaleTargetGVKR: &kedav1alpha1.GroupVersionKindResource{Group: "apps", Version: "v1", Kind: "Deployment", Resource: "deployments"}},
	}
	n, err := TargetPods{Scales: scales, Pods: pods}.ReadyPods(t.Context(), so)
	if err != nil || n != 2 {
		t.Errorf("ReadyPods = %d, %v; want 2", n, err)
	}
	if pods.selector.String() != "app=web" {
		t.Errorf("pods listed with selector %q, want the /scale's app=web", pods.selector)
	}
	so.Status.ScaleTargetGVKR = nil
	if _, err := (TargetPods{Scales: scales, Pods: pods}).ReadyPods(t.Context(), so); err == nil {
		t.Error("no error for an unresolved target")
	}
}
