package scalers

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

const (
	ddTestAPIKey = "dd-api-key-never-in-errors-51c2"
	ddTestAppKey = "dd-app-key-never-in-errors-9e07"
	ddTestToken  = "dd-cluster-agent-token-never-shown"
)

func TestParseDatadogMetadata(t *testing.T) {
	const q = "sum:trace.redis.command.hits{env:none,service:redis}.as_count()"
	base := func(extra ...string) map[string]string {
		m := map[string]string{"query": q, "queryValue": "7"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	keys := func(extra ...string) map[string]string {
		m := map[string]string{"apiKey": ddTestAPIKey, "appKey": ddTestAppKey}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	agent := func(extra ...string) map[string]string {
		m := map[string]string{"useClusterAgentProxy": "true", "datadogMetricName": "nginx-hits", "datadogMetricNamespace": "default", "targetValue": "2"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	agentAuth := map[string]string{"datadogNamespace": "datadog", "datadogMetricsService": "datadog-cluster-agent-metrics-api", "authModes": "bearer", "bearerToken": ddTestToken}
	tests := []parseCase[meta.DatadogMetadata]{
		{name: "KEDA's defaults", meta: base(), auth: keys(), check: func(t *testing.T, m *meta.DatadogMetadata) {
			if m.Age != 90 || m.TimeWindowOffset != 0 || m.LastAvailablePointOffset != 0 || m.ActivationQueryValue != 0 || m.QueryAggregator != "" ||
				m.Target != 7 || m.MetricUnavailableValue != nil || m.UnsafeSsl || m.ResolvedTimeout != 0 {
				t.Errorf("parsed %+v", m)
			}
			if m.BaseURL.String() != "https://api.datadoghq.com" || m.MetricName != "datadog-sum:trace.redis.command.hits" || len(m.Auth.Modes) != 0 {
				t.Errorf("base %s, metric name %s, modes %v", m.BaseURL, m.MetricName, m.Auth.Modes)
			}
		}},
		{name: "everything", meta: base("age", "120", "timeWindowOffset", "30", "lastAvailablePointOffset", "1", "queryAggregator", "average",
			"activationQueryValue", "1.5", "metricUnavailableValue", "0", "timeout", "2500"), auth: keys("datadogSite", "datadoghq.eu"),
			check: func(t *testing.T, m *meta.DatadogMetadata) {
				if m.Age != 120 || m.TimeWindowOffset != 30 || m.LastAvailablePointOffset != 1 || m.QueryAggregator != "average" || m.ActivationQueryValue != 1.5 ||
					m.MetricUnavailableValue == nil || *m.MetricUnavailableValue != 0 || m.ResolvedTimeout != 2500*time.Millisecond {
					t.Errorf("parsed %+v", m)
				}
				if m.BaseURL.String() != "https://api.datadoghq.eu" {
					t.Errorf("base %s", m.BaseURL)
				}
			}},
		{name: "targetValue wins over queryValue", meta: base("targetValue", "3"), auth: keys(), check: func(t *testing.T, m *meta.DatadogMetadata) {
			if m.Target != 3 {
				t.Errorf("target %g", m.Target)
			}
		}},
		{name: "site as the API's URL", meta: base(), auth: keys("datadogSite", "http://127.0.0.1:8126/"), check: func(t *testing.T, m *meta.DatadogMetadata) {
			if m.BaseURL.String() != "http://127.0.0.1:8126" {
				t.Errorf("base %s", m.BaseURL)
			}
		}},
		{name: "cluster agent", meta: agent("activationTargetValue", "1"), auth: agentAuth, check: func(t *testing.T, m *meta.DatadogMetadata) {
			if m.BaseURL.String() != "https://datadog-cluster-agent-metrics-api.datadog:8443/apis/external.metrics.k8s.io/v1beta1" ||
				m.MetricName != "datadogmetric@default:nginx-hits" || m.Target != 2 || m.ActivationTargetValue != 1 || !m.Auth.Has(meta.AuthModeBearer) {
				t.Errorf("parsed %+v, base %s", m, m.BaseURL)
			}
		}},
		{name: "cluster agent needs no keys nor query", meta: agent(), auth: map[string]string{"datadogNamespace": "dd", "datadogMetricsService": "svc", "datadogMetricsServicePort": "443", "unsafeSsl": "true"},
			check: func(t *testing.T, m *meta.DatadogMetadata) {
				if m.BaseURL.Host != "svc.dd:443" || !m.UnsafeSsl {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "missing query", meta: map[string]string{"queryValue": "1"}, auth: keys(), wantErr: []string{"trigger 0 (datadog)", "metadata.query", "is not set"}},
		{name: "query without scope", meta: base("query", "avg:system.cpu.user"), auth: keys(), wantErr: []string{"metadata.query", "scope"}},
		{name: "missing queryValue", meta: map[string]string{"query": q}, auth: keys(), wantErr: []string{"metadata.queryValue", "is not set"}},
		{name: "missing appKey", meta: base(), auth: map[string]string{"apiKey": ddTestAPIKey}, wantErr: []string{"appKey", "is required", "TriggerAuthentication"}},
		{name: "missing apiKey", meta: base(), auth: map[string]string{"appKey": ddTestAppKey}, wantErr: []string{"apiKey", "is required"}},
		{name: "unknown site", meta: base(), auth: keys("datadogSite", "datadog.example"), wantErr: []string{"datadogSite", "not a Datadog site", "datadoghq.eu"}},
		{name: "bad aggregator", meta: base("queryAggregator", "sum"), auth: keys(), wantErr: []string{"metadata.queryAggregator", "average, max"}},
		{name: "negative age", meta: base("age", "-1"), auth: keys(), wantErr: []string{"metadata.age", "is -1"}},
		{name: "negative timeWindowOffset", meta: base("timeWindowOffset", "-5"), auth: keys(), wantErr: []string{"metadata.timeWindowOffset"}},
		{name: "negative lastAvailablePointOffset", meta: base("lastAvailablePointOffset", "-1"), auth: keys(), wantErr: []string{"metadata.lastAvailablePointOffset"}},
		{name: "age not a number", meta: base("age", "1m"), auth: keys(), wantErr: []string{"metadata.age", "whole number"}},
		{name: "bad timeout", meta: base("timeout", "soon"), auth: keys(), wantErr: []string{"metadata.timeout"}},
		{name: "authModes other than bearer", meta: base("authModes", "apiKey"), auth: keys(), wantErr: []string{"metadata.authModes", "not allowed"}},
		{name: "cluster agent without service", meta: agent(), auth: map[string]string{"datadogNamespace": "dd"}, wantErr: []string{"datadogMetricsService", "useClusterAgentProxy"}},
		{name: "cluster agent without metric name", meta: agent("datadogMetricName", ""), auth: agentAuth, wantErr: []string{"metadata.datadogMetricName"}},
		{name: "cluster agent bearer without token", meta: agent("authModes", "bearer"), auth: map[string]string{"datadogNamespace": "dd", "datadogMetricsService": "svc"}, wantErr: []string{"bearerToken"}},
		{name: "offline: keys may come from the TriggerAuthentication", meta: base(), offline: true, check: func(*testing.T, *meta.DatadogMetadata) {}},
		{name: "offline still wants a query", meta: map[string]string{"queryValue": "1"}, offline: true, wantErr: []string{"metadata.query", "is not set"}},
		{name: "offline still wants a target", meta: map[string]string{"query": q}, offline: true, wantErr: []string{"metadata.queryValue"}},
		{name: "deprecated type", meta: base("type", "Global"), auth: keys(), check: func(*testing.T, *meta.DatadogMetadata) {}},
		{name: "bad deprecated type", meta: base("type", "sum"), auth: keys(), wantErr: []string{"metadata.type", "average or global"}},
		{name: "offline still checks the query", meta: base("query", "no scope"), offline: true, wantErr: []string{"metadata.query"}},
	}
	runParseCases(t, "datadog", tests, ddTestAPIKey, ddTestAppKey, ddTestToken)
}

// TestDatadogMetricSpec: KEDA's metric names (s<index>-datadog-<query up to its scope>, or the
// Cluster Agent's datadogmetric@<namespace>:<name>), the target, and a metric source without one.
func TestDatadogMetricSpec(t *testing.T) {
	for _, tt := range []struct {
		name       string
		cfg        Config
		wantName   string
		wantTarget int64 // millis; 0 with no spec
	}{
		{name: "API", cfg: Config{TriggerIndex: 2, TriggerMetadata: map[string]string{"query": "avg:nginx.net.request_per_s{service:web}", "queryValue": "2.5"}},
			wantName: "s2-datadog-avg-nginx-net-request_per_s", wantTarget: 2500},
		{name: "Value metric type", cfg: Config{MetricType: autoscalingv2.ValueMetricType, TriggerMetadata: map[string]string{"query": "a{*}", "targetValue": "4"}},
			wantName: "s0-datadog-a", wantTarget: 4000},
		{name: "cluster agent", cfg: Config{TriggerIndex: 1, TriggerMetadata: map[string]string{"useClusterAgentProxy": "true", "datadogMetricName": "m", "datadogMetricNamespace": "ns", "queryValue": "1"},
			AuthParams: map[string]string{"datadogNamespace": "dd", "datadogMetricsService": "svc"}}, wantName: "datadogmetric@ns:m", wantTarget: 1000},
		{name: "metric source without a target", cfg: Config{AsMetricSource: true, TriggerMetadata: map[string]string{"query": "a{*}"}}, wantName: "s0-datadog-a", wantTarget: 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.TriggerType = "datadog"
			if cfg.AuthParams == nil {
				cfg.AuthParams = map[string]string{"apiKey": ddTestAPIKey, "appKey": ddTestAppKey}
			}
			s, err := New(context.Background(), &cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close(context.Background())
			specs := s.GetMetricSpecForScaling(context.Background())
			if len(specs) != 1 || specs[0].External.Metric.Name != tt.wantName {
				t.Fatalf("specs %+v, want metric %s", specs, tt.wantName)
			}
			target := specs[0].External.Target
			q := target.AverageValue
			if cfg.MetricType == autoscalingv2.ValueMetricType {
				q = target.Value
			}
			if q.MilliValue() != tt.wantTarget {
				t.Errorf("target %s, want %d millis", q, tt.wantTarget)
			}
		})
	}
}

// TestDatadogPickValue: each series' last point with a value, lastAvailablePointOffset points
// further back, then max (the default) or average over the series.
func TestDatadogPickValue(t *testing.T) {
	for _, tt := range []struct {
		name       string
		body       string
		skip       int
		aggregator string
		want       float64
		wantErr    string
		noData     bool
	}{
		{name: "last point", body: `{"status":"ok","series":[{"pointlist":[[1000,1],[2000,2],[3000,3]]}]}`, want: 3},
		{name: "last point with a value", body: `{"status":"ok","series":[{"pointlist":[[1000,1],[2000,2],[3000,null]]}]}`, want: 2},
		{name: "offset", body: `{"status":"ok","series":[{"pointlist":[[1000,1],[2000,2],[3000,3]]}]}`, skip: 2, want: 1},
		{name: "offset past the first point", body: `{"status":"ok","series":[{"pointlist":[[1000,1],[2000,2]]}]}`, skip: 2, wantErr: "lastAvailablePointOffset"},
		{name: "offset onto a null", body: `{"status":"ok","series":[{"pointlist":[[1000,null],[2000,2]]}]}`, skip: 1, noData: true},
		{name: "all null", body: `{"status":"ok","series":[{"pointlist":[[1000,null]]}]}`, noData: true},
		{name: "empty pointlist", body: `{"status":"ok","series":[{"pointlist":[]}]}`, noData: true},
		{name: "no series", body: `{"status":"ok","series":[]}`, noData: true},
		{name: "two series need an aggregator", body: `{"status":"ok","series":[{"pointlist":[[1,1]]},{"pointlist":[[1,5]]}]}`, wantErr: "queryAggregator"},
		{name: "max", body: `{"status":"ok","series":[{"pointlist":[[1,1]]},{"pointlist":[[1,5]]}]}`, aggregator: "max", want: 5},
		{name: "average", body: `{"status":"ok","series":[{"pointlist":[[1,1]]},{"pointlist":[[1,4]]}]}`, aggregator: "average", want: 2.5},
		{name: "one empty series among several", body: `{"status":"ok","series":[{"pointlist":[[1,1]]},{"pointlist":[]}]}`, aggregator: "max", noData: true},
		{name: "error status", body: `{"status":"error","error":"Rule 'unknown' not found","series":[]}`, wantErr: "Rule 'unknown' not found"},
		{name: "not JSON", body: `<html>`, wantErr: "not Datadog's query response"},
		{name: "wrong shape", body: `{"series":{"pointlist":1}}`, wantErr: "not Datadog's query response"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := datadogPickValue([]byte(tt.body), tt.skip, tt.aggregator)
			switch {
			case tt.noData:
				if !errors.Is(err, errDatadogNoData) {
					t.Fatalf("got %g, %v; want no data", got, err)
				}
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %g, %v; want an error mentioning %q", got, err, tt.wantErr)
				}
			case err != nil || got != tt.want:
				t.Fatalf("got %g, %v; want %g", got, err, tt.want)
			}
		})
	}
}

// TestDatadogClusterAgent: the trigger reads the DatadogMetric from the Cluster Agent's external
// metrics API with the bearer token; 422 gives metricUnavailableValue when it is set.
func TestDatadogClusterAgent(t *testing.T) {
	var status int
	var body, gotPath, gotAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotAuth = r.URL.Path, r.Header.Get("Authorization")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	build := func(extra ...string) *datadogScaler {
		meta := map[string]string{"useClusterAgentProxy": "true", "datadogMetricName": "hits", "datadogMetricNamespace": "web", "targetValue": "2", "activationTargetValue": "1"}
		for i := 0; i+1 < len(extra); i += 2 {
			meta[extra[i]] = extra[i+1]
		}
		s, err := New(context.Background(), &Config{TriggerType: "datadog", TriggerMetadata: meta,
			AuthParams: map[string]string{"datadogNamespace": "datadog", "datadogMetricsService": "dca", "authModes": "bearer", "bearerToken": ddTestToken}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(context.Background()) })
		ds := s.(*datadogScaler)
		// The agent's service name resolves in a cluster only: point the scaler at the test server.
		u, _ := url.Parse(srv.URL + "/apis/external.metrics.k8s.io/v1beta1")
		ds.meta.BaseURL = u
		return ds
	}
	for _, tt := range []struct {
		name, body string
		status     int
		extra      []string
		want       float64
		wantErr    string
	}{
		{name: "number", status: 200, body: `{"kind":"ExternalMetricValueList","items":[{"metricName":"datadogmetric@web:hits","value":3}]}`, want: 3},
		{name: "quantity", status: 200, body: `{"items":[{"value":"1500m"}]}`, want: 1.5},
		{name: "no items", status: 200, body: `{"items":[]}`, wantErr: "no value"},
		{name: "no items, filled", status: 200, body: `{"items":[]}`, extra: []string{"metricUnavailableValue", "0.5"}, want: 0.5},
		{name: "unavailable, filled", status: 422, body: `{"message":"DatadogMetric is invalid"}`, extra: []string{"metricUnavailableValue", "4"}, want: 4},
		{name: "unavailable", status: 422, body: `{"message":"DatadogMetric is invalid"}`, wantErr: "DatadogMetric is invalid"},
		{name: "not found", status: 404, body: `{"message":"not found"}`, wantErr: "web/hits"},
		{name: "bad value", status: 200, body: `{"items":[{"value":"lots"}]}`, wantErr: "not a quantity"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body = tt.status, tt.body
			s := build(tt.extra...)
			vals, active, err := s.GetMetricsAndActivity(context.Background(), "datadogmetric@web:hits")
			if gotPath != "/apis/external.metrics.k8s.io/v1beta1/namespaces/web/datadogmetric@web:hits" || gotAuth != "Bearer "+ddTestToken {
				t.Errorf("request %s with Authorization %q", gotPath, gotAuth)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), ddTestToken) {
					t.Fatalf("err %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkPoll(t, vals, active, "datadogmetric@web:hits", tt.want, 1)
		})
	}
}

// TestDatadogDeprecatedTypeWithMetricType: KEDA refuses metadata.type along with
// spec.triggers[].metricType.
func TestDatadogDeprecatedTypeWithMetricType(t *testing.T) {
	err := ValidateTrigger(&Config{TriggerType: "datadog", MetricType: autoscalingv2.ValueMetricType,
		TriggerMetadata: map[string]string{"query": "a{*}", "queryValue": "1", "type": "global"}, AuthParams: map[string]string{"apiKey": ddTestAPIKey, "appKey": ddTestAppKey}})
	if err == nil || !strings.Contains(err.Error(), "metadata.type") || !strings.Contains(err.Error(), "metricType") {
		t.Fatalf("err %v", err)
	}
}
