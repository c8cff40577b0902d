package metrics

import (
	"errors"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"

	"github.com/kedactl/kedactl/operator/engine"
)

type fakeState map[types.NamespacedName]engine.ObjectState

func (f fakeState) State(k types.NamespacedName) (engine.ObjectState, bool) {
	s, ok := f[k]
	return s, ok
}

func (f fakeState) Keys() []types.NamespacedName {
	var keys []types.NamespacedName
	for k := range f {
		keys = append(keys, k)
	}
	return keys
}

func TestGetExternalMetric(t *testing.T) {
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	key := types.NamespacedName{Namespace: "ns", Name: "worker"}
	state := fakeState{key: {Key: key, Triggers: []engine.TriggerState{
		{Index: 0, Type: "redis", MetricName: "s0-redis-jobs", Sample: engine.Sample{Value: *resource.NewQuantity(7, resource.DecimalSI), Time: now, Polled: true}},
		{Index: 1, Type: "cron", MetricName: "s1-cron-Etc-UTC-0xxxx-5xxxx", Sample: engine.Sample{Value: *resource.NewQuantity(3, resource.DecimalSI), Time: now, Polled: true}},
		{Index: 2, Type: "redis", MetricName: "s2-redis-other", Sample: engine.Sample{Polled: true, Err: errors.New("connection refused"), ConsecutiveFailures: 3}},
		{Index: 3, Type: "redis", MetricName: "s3-redis-new"},
	}}}
	p := NewProvider(state, nil, nil)
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
