package observability

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/apimachinery/pkg/types"
)

func TestHTTPSeriesAsKEDA(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New()
	if err := m.Register(reg, "v1", "c"); err != nil {
		t.Fatal(err)
	}
	key := types.NamespacedName{Namespace: "ns", Name: "worker"}
	m.HTTPRequest(key, TypeScaledObject, "prometheus", "queue", "s0-prometheus", 10*time.Millisecond, 200, nil)
	m.HTTPRequest(key, TypeScaledObject, "prometheus", "queue", "s0-prometheus", 20*time.Millisecond, 200, nil)
	m.HTTPRequest(key, TypeScaledObject, "prometheus", "queue", "s0-prometheus", time.Second, 0, errors.New("refused"))
	m.EmptyResponse(key, TypeScaledObject, "queue", "s0-prometheus", "ScaledObject", true)
	want := `
# HELP keda_scaler_http_requests_total HTTP requests the scalers made while reading their sources, by object, trigger and status code (error when no answer came).
# TYPE keda_scaler_http_requests_total counter
keda_scaler_http_requests_total{metric_name="s0-prometheus",namespace="ns",scaled_resource="worker",scaler="prometheus",status_code="200",trigger_name="queue"} 2
keda_scaler_http_requests_total{metric_name="s0-prometheus",namespace="ns",scaled_resource="worker",scaler="prometheus",status_code="error",trigger_name="queue"} 1
# HELP keda_scaler_empty_upstream_responses_total Answers of a source that held no value (a Prometheus query with no sample).
# TYPE keda_scaler_empty_upstream_responses_total counter
keda_scaler_empty_upstream_responses_total{ignoreNullValues="true",metricName="s0-prometheus",namespace="ns",resourceType="ScaledObject",scaledResource="worker",triggerName="queue"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "keda_scaler_http_requests_total", "keda_scaler_empty_upstream_responses_total"); err != nil {
		t.Error(err)
	}
	// The duration histogram is labelled by scaler and status code only, unless asked otherwise.
	if n := testutil.CollectAndCount(m.http.duration); n != 2 {
		t.Errorf("%d duration series, want 2 (200 and error)", n)
	}
	m.Forget(key, TypeScaledObject)
	if n := testutil.CollectAndCount(m.http, "keda_scaler_http_requests_total", "keda_scaler_empty_upstream_responses_total"); n != 0 {
		t.Errorf("%d series left after Forget", n)
	}

	high := New(WithHighCardinalityLabels(true))
	high.HTTPRequest(key, TypeScaledObject, "prometheus", "queue", "s0-prometheus", time.Millisecond, 200, nil)
	other := types.NamespacedName{Namespace: "ns", Name: "other"}
	high.HTTPRequest(other, TypeScaledObject, "prometheus", "queue", "s0-prometheus", time.Millisecond, 200, nil)
	if n := testutil.CollectAndCount(high.http.duration); n != 2 {
		t.Errorf("%d high-cardinality duration series, want one per object", n)
	}
	high.Forget(key, TypeScaledObject)
	if n := testutil.CollectAndCount(high.http.duration); n != 1 {
		t.Errorf("%d high-cardinality duration series after forgetting one object, want 1", n)
	}
}
