package metrics

import (
	"context"
	"errors"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"slices"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"

	"github.com/kedactl/kedactl/operator/engine"
)

type fakeState map[engine.Key]engine.ObjectState

func (f fakeState) State(k engine.Key) (engine.ObjectState, bool) {
	s, ok := f[k]
	return s, ok
}

func (f fakeState) MetricNames() []string {
	seen := map[string]bool{}
	var names []string
	for k, st := range f {
		if k.Kind != engine.KindScaledObject {
			continue
		}
		for _, t := range st.Triggers {
			if t.MetricName != "" && !seen[t.MetricName] {
				seen[t.MetricName] = true
				names = append(names, t.MetricName)
			}
		}
	}
	slices.Sort(names)
	return names
}

// Read answers like an engine that cannot read the source now: the cached sample is served.
func (f fakeState) Read(context.Context, engine.Key, string) (engine.TriggerState, bool) {
	return engine.TriggerState{}, false
}

// readingState reads the source at each request: its value is fresh.
type readingState struct {
	fakeState
	reads map[string]int
	fresh int64
}

func (r *readingState) Read(_ context.Context, key engine.Key, metric string) (engine.TriggerState, bool) {
	r.reads[metric]++
	st := r.fakeState[key]
	t := *st.Metric(metric)
	t.Value = *resource.NewQuantity(r.fresh, resource.DecimalSI)
	return t, true
}

// TestUseCachedMetricsDecidesWhereTheValueComesFrom: as in KEDA, a trigger without
// useCachedMetrics is read from its source at the HPA's request; one with it is served the cache.
func TestUseCachedMetricsDecidesWhereTheValueComesFrom(t *testing.T) {
	key := engine.Key{Kind: engine.KindScaledObject, Namespace: "ns", Name: "worker"}
	polled := engine.Sample{Value: *resource.NewQuantity(1, resource.DecimalSI), Polled: true}
	state := &readingState{reads: map[string]int{}, fresh: 42, fakeState: fakeState{key: {Key: key, Triggers: []engine.TriggerState{
		{Index: 0, Type: "redis", MetricName: "s0-redis-live", Sample: polled},
		{Index: 1, Type: "redis", MetricName: "s1-redis-cached", UseCachedMetrics: true, Sample: polled},
	}}}}
	p := NewProvider(state, nil, nil, nil, nil)
	sel := labels.SelectorFromSet(labels.Set{"scaledobject.keda.sh/name": "worker"})
	for metric, want := range map[string]int64{"s0-redis-live": 42, "s1-redis-cached": 1} {
		list, err := p.GetExternalMetric(t.Context(), "ns", sel, provider.ExternalMetricInfo{Metric: metric})
		if err != nil || list.Items[0].Value.Value() != want {
			t.Errorf("%s = %+v, %v; want %d", metric, list, err, want)
		}
	}
	if state.reads["s0-redis-live"] != 1 || state.reads["s1-redis-cached"] != 0 {
		t.Errorf("source reads = %v, want one for the live trigger and none for the cached one", state.reads)
	}
}

func TestGetExternalMetric(t *testing.T) {
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	key := engine.Key{Kind: engine.KindScaledObject, Namespace: "ns", Name: "worker"}
	state := fakeState{key: {Key: key, Triggers: []engine.TriggerState{
		{Index: 0, Type: "redis", MetricName: "s0-redis-jobs", Sample: engine.Sample{Value: *resource.NewQuantity(7, resource.DecimalSI), Time: now, Polled: true}},
		{Index: 1, Type: "cron", MetricName: "s1-cron-Etc-UTC-0xxxx-5xxxx", Sample: engine.Sample{Value: *resource.NewQuantity(3, resource.DecimalSI), Time: now, Polled: true}},
		{Index: 2, Type: "redis", MetricName: "s2-redis-other", Sample: engine.Sample{Polled: true, Err: errors.New("connection refused"), ConsecutiveFailures: 3}},
		{Index: 3, Type: "redis", MetricName: "s3-redis-new"},
	}}}
	// A ScaledJob of the same name shares the engine, but the HPA is never served its metrics.
	jobKey := engine.Key{Kind: engine.KindScaledJob, Namespace: "ns", Name: "worker"}
	state[jobKey] = engine.ObjectState{Key: jobKey, Triggers: []engine.TriggerState{
		{Index: 0, Type: "redis", MetricName: "s0-redis-queue", Sample: engine.Sample{Value: *resource.NewQuantity(5, resource.DecimalSI), Time: now, Polled: true}},
	}}
	p := NewProvider(state, nil, nil, nil, nil)
	sel := labels.SelectorFromSet(labels.Set{"scaledobject.keda.sh/name": "worker"})
	tests := []struct {
		name    string
		ns      string
		sel     labels.Selector
		metric  string
		value   int64
		errWhat func(error) bool
		errText string
	}{
		{name: "value", ns: "ns", sel: sel, metric: "s0-redis-jobs", value: 7},
		{name: "lower-cased name from the API", ns: "ns", sel: sel, metric: "s1-cron-etc-utc-0xxxx-5xxxx", value: 3},
		{name: "failing trigger", ns: "ns", sel: sel, metric: "s2-redis-other", errWhat: apierrors.IsServiceUnavailable, errText: "failed 3 time(s)"},
		{name: "not polled yet", ns: "ns", sel: sel, metric: "s3-redis-new", errWhat: apierrors.IsServiceUnavailable, errText: "not been polled"},
		{name: "unknown metric", ns: "ns", sel: sel, metric: "s9-nope", errWhat: apierrors.IsNotFound},
		{name: "a ScaledJob's metric asked as a ScaledObject's", ns: "ns", sel: sel, metric: "s0-redis-queue", errWhat: apierrors.IsNotFound},
		{name: "unknown object", ns: "other", sel: sel, metric: "s0-redis-jobs", errWhat: apierrors.IsNotFound},
		{name: "no selector", ns: "ns", sel: labels.Everything(), metric: "s0-redis-jobs", errWhat: apierrors.IsBadRequest, errText: "scaledobject.keda.sh/name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, err := p.GetExternalMetric(t.Context(), tt.ns, tt.sel, provider.ExternalMetricInfo{Metric: tt.metric})
			if tt.errWhat != nil {
				if err == nil || !tt.errWhat(err) || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("error = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(list.Items) != 1 || list.Items[0].Value.Value() != tt.value || !list.Items[0].Timestamp.Time.Equal(now) {
				t.Errorf("items = %+v", list.Items)
			}
		})
	}
	if got := p.ListAllExternalMetrics(); len(got) != 4 {
		t.Errorf("ListAllExternalMetrics = %v", got)
	}
}

// TestScaledJobMetric: a ScaledJob's trigger is served by the scaledjob.keda.sh/name selector, from
// its last poll, labelled with its target per Job and activity for `kubectl keda describe sj`.
func TestScaledJobMetric(t *testing.T) {
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	key := engine.Key{Kind: engine.KindScaledJob, Namespace: "ns", Name: "importer"}
	target := autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: resource.NewQuantity(5, resource.DecimalSI)}
	state := fakeState{key: {Key: key, Triggers: []engine.TriggerState{
		{Index: 0, Type: "redis", MetricName: "s0-redis-files", Target: target, Sample: engine.Sample{Value: *resource.NewQuantity(12, resource.DecimalSI), Active: true, Time: now, Polled: true}},
		{Index: 1, Type: "redis", MetricName: "s1-redis-down", Target: target, Sample: engine.Sample{Polled: true, Err: errors.New("refused"), ConsecutiveFailures: 2}},
	}}}
	p := NewProvider(state, nil, nil, nil, nil)
	sel := labels.SelectorFromSet(labels.Set{"scaledjob.keda.sh/name": "importer"})
	list, err := p.GetExternalMetric(t.Context(), "ns", sel, provider.ExternalMetricInfo{Metric: "s0-redis-files"})
	if err != nil {
		t.Fatal(err)
	}
	it := list.Items[0]
	if it.Value.Value() != 12 || it.MetricLabels["kedactl.dev/target-average-value"] != "5" || it.MetricLabels["kedactl.dev/active"] != "true" {
		t.Errorf("item = %+v", it)
	}
	if _, err := p.GetExternalMetric(t.Context(), "ns", sel, provider.ExternalMetricInfo{Metric: "s1-redis-down"}); !apierrors.IsServiceUnavailable(err) {
		t.Errorf("failing trigger: error = %v, want ServiceUnavailable", err)
	}
	if _, err := p.GetExternalMetric(t.Context(), "other", sel, provider.ExternalMetricInfo{Metric: "s0-redis-files"}); !apierrors.IsNotFound(err) {
		t.Errorf("unknown ScaledJob: error = %v, want NotFound", err)
	}
}
