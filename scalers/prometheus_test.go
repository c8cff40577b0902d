package scalers

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
)

func TestParsePrometheusMetadata(t *testing.T) {
	base := func(extra ...string) map[string]string {
		m := map[string]string{"serverAddress": "http://prometheus:9090", "query": "sum(jobs)", "threshold": "10"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	tests := []parseCase[meta.PrometheusMetadata]{
		{name: "defaults", meta: base(), check: func(t *testing.T, m *meta.PrometheusMetadata) {
			if m.QueryURL.String() != "http://prometheus:9090/api/v1/query" || !m.IgnoreNullValues || m.UnsafeSsl || m.ActivationThreshold != 0 || m.Threshold != 10 {
				t.Errorf("parsed %+v", m)
			}
			if len(m.Headers) != 0 || len(m.Params) != 0 || len(m.Auth.Modes) != 0 {
				t.Errorf("headers %v params %v modes %v", m.Headers, m.Params, m.Auth.Modes)
			}
		}},
		{name: "path prefix, trailing slash", meta: base("serverAddress", "https://vm:8481/select/0/prometheus/"), check: func(t *testing.T, m *meta.PrometheusMetadata) {
			if got := m.QueryURL.String(); got != "https://vm:8481/select/0/prometheus/api/v1/query" {
				t.Errorf("query URL %s", got)
			}
		}},
		{name: "everything", meta: base("activationThreshold", "2.5", "namespace", "team-a", "customHeaders", "X-Client-Id=cid, X-Tenant-Id=tid",
			"queryParameters", "dedup=true,partial_response=false", "ignoreNullValues", "false", "unsafeSsl", "true", "timeout", "1500", "authModes", "bearer"),
			auth: map[string]string{"bearerToken": "t"}, check: func(t *testing.T, m *meta.PrometheusMetadata) {
				if m.ActivationThreshold != 2.5 || m.IgnoreNullValues || !m.UnsafeSsl || m.Timeout != "1500" {
					t.Errorf("parsed %+v", m)
				}
				if m.Headers.Get("X-Client-Id") != "cid" || m.Headers.Get("X-Tenant-Id") != "tid" {
					t.Errorf("headers %v", m.Headers)
				}
				if m.Params.Get("dedup") != "true" || m.Params.Get("partial_response") != "false" || m.Params.Get("namespace") != "team-a" {
					t.Errorf("params %v", m.Params)
				}
				if !m.Auth.Has(meta.AuthModeBearer) || m.Auth.BearerToken != "t" {
					t.Errorf("auth %+v", m.Auth)
				}
			}},
		{name: "authModes from a TriggerAuthentication", meta: base(), auth: map[string]string{"authModes": "basic", "username": "u", "password": "p"},
			check: func(t *testing.T, m *meta.PrometheusMetadata) {
				if !m.Auth.Has(meta.AuthModeBasic) || m.Auth.Username != "u" || m.Auth.Password != "p" {
					t.Errorf("auth %+v", m.Auth)
				}
			}},
		{name: "missing serverAddress", meta: map[string]string{"query": "q", "threshold": "1"}, wantErr: []string{"trigger 0 (prometheus)", "metadata.serverAddress", "is required"}},
		{name: "missing query", meta: map[string]string{"serverAddress": "http://p:9090", "threshold": "1"}, wantErr: []string{"metadata.query", "is required"}},
		{name: "missing threshold", meta: map[string]string{"serverAddress": "http://p:9090", "query": "q"}, wantErr: []string{"metadata.threshold", "is required"}},
		{name: "zero threshold", meta: base("threshold", "0"), wantErr: []string{"metadata.threshold", "is 0", "above 0"}},
		{name: "threshold not a number", meta: base("threshold", "many"), wantErr: []string{"metadata.threshold", `"many" is not a valid number`}},
		{name: "serverAddress without scheme", meta: base("serverAddress", "prometheus:9090"), wantErr: []string{"metadata.serverAddress", "not an http(s) URL", "http://prometheus.monitoring:9090"}},
		{name: "bad customHeaders", meta: base("customHeaders", "X-A"), wantErr: []string{"metadata.customHeaders", `"X-A", which is not key=value`}},
		{name: "bad header name", meta: base("customHeaders", "X A=b"), wantErr: []string{"metadata.customHeaders", "not an HTTP header name"}},
		{name: "bad queryParameters", meta: base("queryParameters", "=x"), wantErr: []string{"metadata.queryParameters", "not key=value"}},
		{name: "bad ignoreNullValues", meta: base("ignoreNullValues", "sometimes"), wantErr: []string{"metadata.ignoreNullValues", "true or false"}},
		{name: "bad timeout", meta: base("timeout", "soon"), wantErr: []string{"metadata.timeout", `"soon" is not a timeout`}},
		{name: "bad mode", meta: base("authModes", "kerberos"), wantErr: []string{"metadata.authModes", `"kerberos" is not an authentication mode`}},
		{name: "bearer without a token", meta: base("authModes", "bearer"), wantErr: []string{"bearerToken", "is required for authModes bearer"}},
		{name: "offline: credentials may come later", meta: base("authModes", "bearer"), offline: true, check: func(*testing.T, *meta.PrometheusMetadata) {}},
		{name: "offline still checks the address", meta: base("serverAddress", "nope", "authModes", "bearer"), offline: true, wantErr: []string{"serverAddress"}},
	}
	runParseCases(t, "prometheus", tests)
}

func TestPrometheusScalerSpec(t *testing.T) {
	cfg := &Config{TriggerType: "prometheus", TriggerIndex: 3, Timeout: time.Second,
		TriggerMetadata: map[string]string{"serverAddress": "http://127.0.0.1:1", "query": "up", "threshold": "2.5"}}
	s, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(t.Context())
	specs := s.GetMetricSpecForScaling(t.Context())
	if len(specs) != 1 || specs[0].External.Metric.Name != "s3-prometheus" || specs[0].External.Target.AverageValue.MilliValue() != 2500 {
		t.Fatalf("metric spec = %+v", specs)
	}
}

// TestPrometheusResults runs the scaler against canned answers of Prometheus' query API.
func TestPrometheusResults(t *testing.T) {
	vector := func(samples ...string) string {
		return `{"status":"success","data":{"resultType":"vector","result":[` + strings.Join(samples, ",") + `]}}`
	}
	sample := func(labels, v string) string {
		return `{"metric":{` + labels + `},"value":[1700000000.123,"` + v + `"]}`
	}
	tests := []struct {
		name     string
		status   int
		body     string
		meta     []string
		want     int64 // milli
		active   bool
		wantErr  []string
		wantPath string
	}{
		{name: "one sample", body: vector(sample(`"job":"a"`, "12.5")), want: 12500, active: true},
		{name: "below activation", body: vector(sample(``, "2")), meta: []string{"activationThreshold", "2"}, want: 2000, active: false},
		{name: "scalar", body: `{"status":"success","data":{"resultType":"scalar","result":[1700000000,"7"]}}`, want: 7000, active: true},
		{name: "empty is zero by default", body: vector(), want: 0, active: false},
		{name: "empty is an error without ignoreNullValues", body: vector(), meta: []string{"ignoreNullValues", "false"},
			wantErr: []string{"returned no sample", "metadata.ignoreNullValues"}},
		{name: "two series", body: vector(sample(`"__name__":"jobs","queue":"a"`, "1"), sample(`"__name__":"jobs","queue":"b"`, "2")),
			wantErr: []string{`returned 2 series (jobs{queue="a"}, jobs{queue="b"})`, "sum(...)"}},
		{name: "NaN", body: vector(sample(``, "NaN")), wantErr: []string{"returned NaN, not a finite number"}},
		{name: "+Inf", body: vector(sample(``, "+Inf")), wantErr: []string{"returned +Inf, not a finite number"}},
		{name: "-Inf ignoring nulls is still an error", body: vector(sample(``, "-Inf")), meta: []string{"ignoreNullValues", "true"}, wantErr: []string{"returned -Inf"}},
		{name: "matrix", body: `{"status":"success","data":{"resultType":"matrix","result":[]}}`, wantErr: []string{"range vector", "instant"}},
		{name: "bad query", status: 400, body: `{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected end of input"}`,
			wantErr: []string{"Prometheus rejected the query (bad_data: 1:5: parse error", "check metadata.query"}},
		{name: "not prometheus", body: `<html>hello</html>`, wantErr: []string{"not a Prometheus API response", "metadata.serverAddress"}},
		{name: "server error without JSON", status: 502, body: `bad gateway`, wantErr: []string{"502 Bad Gateway", "bad gateway"}},
		{name: "query parameters, namespace and headers", body: vector(sample(``, "1")), want: 1000, active: true,
			meta: []string{"namespace", "ns-1", "queryParameters", "dedup=true", "customHeaders", "X-Scope-OrgID=tenant"}, wantPath: "dedup=true&namespace=ns-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				q := r.URL.Query()
				if r.URL.Path != "/prom/api/v1/query" || q.Get("query") != `sum(jobs{queue="a b"})` {
					http.Error(w, "unexpected request "+r.URL.String(), http.StatusTeapot)
					return
				}
				if tt.wantPath != "" && (q.Get("dedup") != "true" || q.Get("namespace") != "ns-1" || r.Header.Get("X-Scope-OrgID") != "tenant") {
					http.Error(w, "missing parameters or headers "+r.URL.String(), http.StatusTeapot)
					return
				}
				if tt.status != 0 {
					w.WriteHeader(tt.status)
				}
				fmt.Fprint(w, tt.body)
			}))
			defer srv.Close()
			meta := map[string]string{"serverAddress": srv.URL + "/prom", "query": `sum(jobs{queue="a b"})`, "threshold": "5"}
			for i := 0; i+1 < len(tt.meta); i += 2 {
				meta[tt.meta[i]] = tt.meta[i+1]
			}
			s, err := New(t.Context(), &Config{TriggerType: "prometheus", TriggerMetadata: meta, Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close(t.Context())
			vals, active, err := s.GetMetricsAndActivity(t.Context(), "s0-prometheus")
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("want an error mentioning %q", tt.wantErr)
				}
				for _, w := range append(tt.wantErr, "trigger 0 (prometheus)") {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := vals[0].Value.MilliValue(); got != tt.want || active != tt.active || vals[0].MetricName != "s0-prometheus" {
				t.Errorf("value %dm active %v name %s, want %dm %v", got, active, vals[0].MetricName, tt.want, tt.active)
			}
		})
	}
}
