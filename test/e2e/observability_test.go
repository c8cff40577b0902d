package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	promserver "github.com/kedactl/kedactl/test/servers/prometheus"
)

func (s *suite) prometheus(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(s.env.PrometheusURL)
	if err != nil {
		t.Fatalf("GET %s: %v", s.env.PrometheusURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// TestPrometheusMetricsAndNoSecretLeak: the operator's metrics endpoint carries KEDA's metric
// names and labels for a running ScaledObject whose trigger uses a password, and the password
// appears nowhere the operator writes: its log, events, ScaledObject and HPA status, metrics.
func TestPrometheusMetricsAndNoSecretLeak(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "obs")
	list := "obs-" + ns
	s.apply(t, ns, deployment("observed", 0, map[string]string{"REDIS_PASSWORD": redisPassword, "WRONG_PASSWORD": "wrong-" + redisPassword}))
	s.apply(t, ns, s.redisScaledObject("observed", list, ""))
	// A second trigger with a wrong password fails: its errors must not echo the password either.
	s.apply(t, ns, deployment("observed-2", 1, map[string]string{"WRONG_PASSWORD": "wrong-" + redisPassword}))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: wrongpass
spec:
  scaleTargetRef:
    name: observed-2
  pollingInterval: 1
  triggers:
    - type: redis
      metadata:
        address: %s
        passwordFromEnv: WRONG_PASSWORD
        listName: x
`, s.redis.Addr))
	rc := s.redis.Client()
	defer rc.Close()
	if err := rc.RPush(context.Background(), list, "a", "b", "c").Err(); err != nil {
		t.Fatal(err)
	}
	labels := fmt.Sprintf(`metric="s0-redis-%s",namespace="%s",scaledObject="observed",scaler="redisScaler",triggerIndex="0",type="scaledobject"`, list, ns)
	eventually(t, 30*time.Second, "KEDA's metrics for the ScaledObject", func(context.Context) (bool, string) {
		body := s.prometheus(t)
		for _, want := range []string{
			"keda_scaler_metrics_value{" + labels + "} 3",
			"keda_scaler_active{" + labels + "} 1",
			"keda_scaler_metrics_latency_seconds{" + labels + "}",
			"keda_scaler_detail_errors_total{" + labels + "} 0",
			fmt.Sprintf(`keda_scaled_object_paused{namespace="%s",scaledObject="observed"} 0`, ns),
			fmt.Sprintf(`keda_resource_registered_total{namespace="%s",type="scaled_object"} 2`, ns),
			`keda_trigger_registered_total{type="redis"} `,
			fmt.Sprintf(`keda_webhook_scaled_object_validations_total{action="create",namespace="%s"} 2`, ns),
			fmt.Sprintf(`keda_scaled_object_errors_total{namespace="%s",scaledObject="wrongpass"}`, ns),
			`keda_internal_scale_loop_latency_seconds{namespace="` + ns + `",resource="observed",type="scaledobject"}`,
			"keda_build_info{",
		} {
			if !strings.Contains(body, want) {
				return false, "missing " + want
			}
		}
		return true, ""
	})
	s.waitEvent(t, ns, "wrongpass", "KEDAScalerFailed")

	var places []string
	places = append(places, "prometheus", s.prometheus(t))
	logData, err := os.ReadFile(s.env.OperatorLog)
	if err != nil {
		t.Fatal(err)
	}
	places = append(places, "operator log", string(logData))
	events, err := s.env.Kube.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"observed", "wrongpass"} {
		so, err := s.scaledObject(context.Background(), ns, name)
		if err != nil {
			t.Fatal(err)
		}
		status, _ := json.Marshal(so.Status)
		places = append(places, "status of "+name, string(status))
	}
	for _, ev := range events.Items {
		places = append(places, "event "+ev.Reason, ev.Message)
	}
	hpa, err := s.hpa(context.Background(), ns, "keda-hpa-observed")
	if err == nil {
		data, _ := json.Marshal(hpa)
		places = append(places, "HPA", string(data))
	}
	for i := 0; i < len(places); i += 2 {
		if strings.Contains(places[i+1], redisPassword) {
			t.Errorf("the Redis password appears in the %s", places[i])
		}
	}
	if len(logData) == 0 {
		t.Error("the operator log is empty: the scan proves nothing")
	}
}

// TestScalerHTTPSeries: the scalers' HTTP requests and a Prometheus query's empty answers show in
// KEDA's series: keda_scaler_http_requests_total by object and status code (error for a server
// that does not answer), keda_scaler_http_request_duration_seconds by scaler and status code, and
// keda_scaler_empty_upstream_responses_total for a query with no sample read as 0.
func TestScalerHTTPSeries(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	prom := promserver.Start(t, promserver.Options{})
	ns := s.newNamespace(t, "httpseries")
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close() // nothing answers there now
	for _, so := range []struct{ name, addr string }{{"absent", prom.URL}, {"unreachable", downURL}} {
		s.apply(t, ns, deployment(so.name, 0, nil))
		s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: %s
spec:
  scaleTargetRef:
    name: %s
  pollingInterval: 1
  triggers:
    - type: prometheus
      name: backlog
      metadata:
        serverAddress: %s
        query: sum(kedactl_e2e_never_exported)
        threshold: "2"
        ignoreNullValues: "true"
`, so.name, so.name, so.addr))
	}
	hasSeries := func(body, name string, pairs ...string) bool {
		for _, line := range strings.Split(body, "\n") {
			if !strings.HasPrefix(line, name+"{") {
				continue
			}
			all := true
			for _, p := range pairs {
				all = all && strings.Contains(line, p)
			}
			if all {
				return true
			}
		}
		return false
	}
	eventually(t, 60*time.Second, "the scalers' HTTP series", func(context.Context) (bool, string) {
		body := s.prometheus(t)
		nsPair := `namespace="` + ns + `"`
		for _, want := range []struct {
			name  string
			pairs []string
		}{
			{"keda_scaler_http_requests_total", []string{nsPair, `scaled_resource="absent"`, `scaler="prometheus"`, `trigger_name="backlog"`, `metric_name="s0-prometheus"`, `status_code="200"`}},
			{"keda_scaler_http_requests_total", []string{nsPair, `scaled_resource="unreachable"`, `status_code="error"`}},
			{"keda_scaler_http_request_duration_seconds_count", []string{`scaler="prometheus"`, `status_code="200"`}},
			{"keda_scaler_empty_upstream_responses_total", []string{nsPair, `scaledResource="absent"`, `triggerName="backlog"`, `metricName="s0-prometheus"`, `resourceType="ScaledObject"`, `ignoreNullValues="true"`}},
		} {
			if !hasSeries(body, want.name, want.pairs...) {
				return false, "no " + want.name + " with " + strings.Join(want.pairs, ",")
			}
		}
		return true, ""
	})
}
