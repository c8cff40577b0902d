package scalers

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
)

func TestParseLokiMetadata(t *testing.T) {
	base := func(extra ...string) map[string]string {
		m := map[string]string{"serverAddress": "http://loki:3100", "query": `sum(rate({app="worker"} |= "error" [1m]))`, "threshold": "10"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	tests := []parseCase[meta.LokiMetadata]{
		{name: "defaults", meta: base(), check: func(t *testing.T, m *meta.LokiMetadata) {
			if m.QueryURL.String() != "http://loki:3100/loki/api/v1/query" || !m.IgnoreNullValues || m.UnsafeSsl || m.ActivationThreshold != 0 || m.Threshold != 10 {
				t.Errorf("parsed %+v", m)
			}
			if len(m.Headers) != 0 || len(m.Auth.Modes) != 0 {
				t.Errorf("headers %v modes %v", m.Headers, m.Auth.Modes)
			}
		}},
		{name: "everything", meta: base("activationThreshold", "2.5", "tenantName", "team-a", "ignoreNullValues", "false", "unsafeSsl", "true", "authModes", "bearer"),
			auth: map[string]string{"bearerToken": "t0ken"}, check: func(t *testing.T, m *meta.LokiMetadata) {
				if m.ActivationThreshold != 2.5 || m.IgnoreNullValues || !m.UnsafeSsl || m.Headers.Get("X-Scope-OrgID") != "team-a" {
					t.Errorf("parsed %+v, headers %v", m, m.Headers)
				}
				if !m.Auth.Has(meta.AuthModeBearer) || m.Auth.BearerToken != "t0ken" {
					t.Errorf("auth %+v", m.Auth)
				}
			}},
		{name: "basic from a TriggerAuthentication", meta: base(), auth: map[string]string{"authModes": "basic", "username": "u", "password": "pa55"},
			check: func(t *testing.T, m *meta.LokiMetadata) {
				if !m.Auth.Has(meta.AuthModeBasic) || m.Auth.Username != "u" || m.Auth.Password != "pa55" {
					t.Errorf("auth %+v", m.Auth)
				}
			}},
		{name: "missing serverAddress", meta: map[string]string{"query": "q", "threshold": "1"}, wantErr: []string{"trigger 0 (loki)", "metadata.serverAddress", "is required"}},
		{name: "missing query", meta: map[string]string{"serverAddress": "http://loki:3100", "threshold": "1"}, wantErr: []string{"metadata.query", "is required"}},
		{name: "missing threshold", meta: map[string]string{"serverAddress": "http://loki:3100", "query": "q"}, wantErr: []string{"metadata.threshold", "is required"}},
		{name: "zero threshold", meta: base("threshold", "0"), wantErr: []string{"metadata.threshold", "is 0", "above 0"}},
		{name: "threshold not a number", meta: base("threshold", "lots"), wantErr: []string{"metadata.threshold", `"lots" is not a valid number`}},
		{name: "activationThreshold not a number", meta: base("activationThreshold", "x"), wantErr: []string{"metadata.activationThreshold"}},
		{name: "serverAddress without scheme", meta: base("serverAddress", "loki:3100"), wantErr: []string{"metadata.serverAddress", "not an http(s) URL"}},
		{name: "tenant with a line break", meta: base("tenantName", "a\r\nX-Evil: 1"), wantErr: []string{"metadata.tenantName", "line break"}},
		{name: "bad ignoreNullValues", meta: base("ignoreNullValues", "maybe"), wantErr: []string{"metadata.ignoreNullValues", "true or false"}},
		{name: "bad unsafeSsl", meta: base("unsafeSsl", "yes please"), wantErr: []string{"metadata.unsafeSsl"}},
		{name: "bad mode", meta: base("authModes", "kerberos"), wantErr: []string{"metadata.authModes", `"kerberos" is not an authentication mode`}},
		{name: "basic without a username", meta: base("authModes", "basic"), auth: map[string]string{"password": "pa55"}, wantErr: []string{"username", "authModes basic"}},
		{name: "bearer without a token", meta: base("authModes", "bearer"), wantErr: []string{"bearerToken", "is required for authModes bearer"}},
		{name: "offline: credentials may come later", meta: base("authModes", "bearer"), offline: true, check: func(*testing.T, *meta.LokiMetadata) {}},
		{name: "offline still checks the address", meta: base("serverAddress", "nope", "authModes", "bearer"), offline: true, wantErr: []string{"serverAddress"}},
	}
	runParseCases(t, "loki", tests, "t0ken", "pa55")
}

// TestLokiQueryURL: the address may be Loki's root, a prefix behind a gateway, part of the
// query endpoint's path or the endpoint itself.
func TestLokiQueryURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"http://loki:3100", "http://loki:3100/loki/api/v1/query"},
		{"http://loki:3100/", "http://loki:3100/loki/api/v1/query"},
		{"http://loki:3100/loki", "http://loki:3100/loki/api/v1/query"},
		{"http://loki:3100/loki/api/v1/", "http://loki:3100/loki/api/v1/query"},
		{"http://loki:3100/loki/api/v1/query", "http://loki:3100/loki/api/v1/query"},
		{"http://loki:3100/loki/api/v1/query/", "http://loki:3100/loki/api/v1/query"},
		{"https://gw.example/tenant-a", "https://gw.example/tenant-a/loki/api/v1/query"},
		{"https://gw.example/logs/loki/api/v1/query", "https://gw.example/logs/loki/api/v1/query"},
		{"https://u:p@gw.example/lo", "https://u:p@gw.example/lo/loki/api/v1/query"},
	} {
		u, err := url.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := meta.LokiQueryURL(u).String(); got != tt.want {
			t.Errorf("lokiQueryURL(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestLokiMetricSource: as a metric source of scalingModifiers the threshold is still required
// (KEDA requires it) but any value is accepted and unused; otherwise it must be above 0.
func TestLokiMetricSource(t *testing.T) {
	meta := map[string]string{"serverAddress": "http://127.0.0.1:1", "query": "sum(x)", "threshold": "0"}
	if err := ValidateTrigger(&Config{TriggerType: "loki", TriggerMetadata: meta}); err == nil || !strings.Contains(err.Error(), "threshold") {
		t.Fatalf("threshold 0 outside scalingModifiers: %v", err)
	}
	cfg := &Config{TriggerType: "loki", TriggerMetadata: meta, AsMetricSource: true, Timeout: time.Second}
	s, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("threshold 0 as a metric source: %v", err)
	}
	defer s.Close(t.Context())
	if specs := s.GetMetricSpecForScaling(t.Context()); len(specs) != 1 || specs[0].External.Metric.Name != "s0-loki" {
		t.Fatalf("metric specs %+v", specs)
	}
	delete(meta, "threshold")
	if err := ValidateTrigger(&Config{TriggerType: "loki", TriggerMetadata: meta, AsMetricSource: true}); err == nil || !strings.Contains(err.Error(), "threshold") {
		t.Fatalf("no threshold as a metric source: %v", err)
	}
}

func TestLokiScalerSpec(t *testing.T) {
	cfg := &Config{TriggerType: "loki", TriggerIndex: 2, Timeout: time.Second,
		TriggerMetadata: map[string]string{"serverAddress": "http://127.0.0.1:1", "query": "sum(x)", "threshold": "0.5"}}
	s, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(t.Context())
	specs := s.GetMetricSpecForScaling(t.Context())
	if len(specs) != 1 || specs[0].External.Metric.Name != "s2-loki" || specs[0].External.Target.AverageValue.MilliValue() != 500 {
		t.Fatalf("metric spec = %+v", specs)
	}
}

// TestLokiResults runs the scaler against canned answers of Loki's query API.
func TestLokiResults(t *testing.T) {
	vector := func(samples ...string) string {
		return `{"status":"success","data":{"resultType":"vector","result":[` + strings.Join(samples, ",") + `],"stats":{"summary":{"execTime":0.01}}}}`
	}
	sample := func(labels, v string) string {
		return `{"metric":{` + labels + `},"value":[1700000000.123,"` + v + `"]}`
	}
	tests := []struct {
		name    string
		status  int
		body    string
		meta    []string
		auth    map[string]string
		want    int64 // milli
		active  bool
		wantErr []string
		check   func(r *http.Request) string
	}{
		{name: "one sample", body: vector(sample(``, "12.5")), want: 12500, active: true},
		{name: "below activation", body: vector(sample(`"app":"w"`, "2")), meta: []string{"activationThreshold", "2"}, want: 2000},
		{name: "scalar", body: `{"status":"success","data":{"resultType":"scalar","result":[1700000000,"7"]}}`, want: 7000, active: true},
		{name: "empty is zero by default", body: vector(), want: 0},
		{name: "empty is an error without ignoreNullValues", body: vector(), meta: []string{"ignoreNullValues", "false"},
			wantErr: []string{"returned no sample", "no log line", "metadata.ignoreNullValues"}},
		{name: "two series", body: vector(sample(`"app":"a"`, "1"), sample(`"app":"b"`, "2")), wantErr: []string{`returned 2 series ({app="a"}, {app="b"})`, "sum(...)"}},
		{name: "log lines", body: `{"status":"success","data":{"resultType":"streams","result":[{"stream":{"app":"w"},"values":[["1700000000000000000","line"]]}]}}`,
			wantErr: []string{"returned log lines", "metric query", "count_over_time"}},
		{name: "matrix", body: `{"status":"success","data":{"resultType":"matrix","result":[]}}`, wantErr: []string{"range vector"}},
		{name: "NaN", body: vector(sample(``, "NaN")), wantErr: []string{"returned NaN, not a finite number", "or vector(0)"}},
		{name: "parse error", status: 400, body: "parse error at line 1, col 5: syntax error: unexpected IDENTIFIER\n",
			wantErr: []string{"400 Bad Request", "parse error at line 1", "Loki refused the query", "metadata.query"}},
		{name: "no org id", status: 401, body: "no org id\n", wantErr: []string{"401 Unauthorized", "no org id", "metadata.tenantName"}},
		{name: "not loki", body: `<html>grafana</html>`, wantErr: []string{"not a Loki query API response", "metadata.serverAddress"}},
		{name: "tenant and bearer", body: vector(sample(``, "3")), want: 3000, active: true,
			meta: []string{"tenantName", "team-a", "authModes", "bearer"}, auth: map[string]string{"bearerToken": "s3cret"},
			check: func(r *http.Request) string {
				if r.Header.Get("X-Scope-OrgID") != "team-a" || r.Header.Get("Authorization") != "Bearer s3cret" {
					return "missing tenant or bearer"
				}
				return ""
			}},
		{name: "refused basic credentials are not shown", status: 401, body: "invalid credentials for u:s3cret",
			meta: []string{"authModes", "basic"}, auth: map[string]string{"username": "u", "password": "s3cret"},
			wantErr: []string{"401 Unauthorized", "refused the credentials of authModes basic"},
			check: func(r *http.Request) string {
				if u, p, ok := r.BasicAuth(); !ok || u != "u" || p != "s3cret" {
					return "missing basic auth"
				}
				return ""
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				q := r.URL.Query()
				if r.Method != http.MethodGet || r.URL.Path != "/gw/loki/api/v1/query" || q.Get("query") != `sum(count_over_time({app="w"}[1m]))` {
					http.Error(w, "unexpected request "+r.URL.String(), http.StatusTeapot)
					return
				}
				if tt.check != nil {
					if problem := tt.check(r); problem != "" {
						http.Error(w, problem, http.StatusTeapot)
						return
					}
				}
				if tt.status != 0 {
					w.WriteHeader(tt.status)
				}
				fmt.Fprint(w, tt.body)
			}))
			defer srv.Close()
			meta := map[string]string{"serverAddress": srv.URL + "/gw", "query": `sum(count_over_time({app="w"}[1m]))`, "threshold": "5"}
			for i := 0; i+1 < len(tt.meta); i += 2 {
				meta[tt.meta[i]] = tt.meta[i+1]
			}
			s, err := New(t.Context(), &Config{TriggerType: "loki", TriggerMetadata: meta, AuthParams: tt.auth, Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close(t.Context())
			vals, active, err := s.GetMetricsAndActivity(t.Context(), "s0-loki")
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("want an error mentioning %q", tt.wantErr)
				}
				for _, w := range append(tt.wantErr, "trigger 0 (loki)") {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error %q shows a secret", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := vals[0].Value.MilliValue(); got != tt.want || active != tt.active || vals[0].MetricName != "s0-loki" {
				t.Errorf("value %dm active %v name %s, want %dm %v", got, active, vals[0].MetricName, tt.want, tt.active)
			}
		})
	}
}
