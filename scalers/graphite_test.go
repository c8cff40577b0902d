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

func TestParseGraphiteMetadata(t *testing.T) {
	base := func(extra ...string) map[string]string {
		m := map[string]string{"serverAddress": "http://graphite.monitoring:8080", "query": "sumSeries(queue.*.jobs)", "queryTime": "-1min"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	tests := []parseCase[meta.GraphiteMetadata]{
		{name: "defaults", meta: base(), check: func(t *testing.T, m *meta.GraphiteMetadata) {
			if m.RenderURL.String() != "http://graphite.monitoring:8080/render" || m.Threshold != 100 || m.ActivationThreshold != 0 || m.QueryTime != "-1min" {
				t.Errorf("parsed %+v", m)
			}
			if len(m.Auth.Modes) != 0 {
				t.Errorf("modes %v", m.Auth.Modes)
			}
		}},
		{name: "everything", meta: base("serverAddress", "https://gw.example/graphite/", "threshold", "2.5", "activationThreshold", "1", "authModes", "basic"),
			auth: map[string]string{"username": "u", "password": "pa55"}, check: func(t *testing.T, m *meta.GraphiteMetadata) {
				if m.RenderURL.String() != "https://gw.example/graphite/render" || m.Threshold != 2.5 || m.ActivationThreshold != 1 {
					t.Errorf("parsed %+v", m)
				}
				if !m.Auth.Has(meta.AuthModeBasic) || m.Auth.Username != "u" || m.Auth.Password != "pa55" {
					t.Errorf("auth %+v", m.Auth)
				}
			}},
		{name: "a username alone turns basic on", meta: base(), auth: map[string]string{"username": "u", "password": "pa55"},
			check: func(t *testing.T, m *meta.GraphiteMetadata) {
				if !m.Auth.Has(meta.AuthModeBasic) || m.Auth.Username != "u" {
					t.Errorf("auth %+v", m.Auth)
				}
			}},
		{name: "authMode spelling", meta: base("authMode", "basic"), auth: map[string]string{"username": "u"},
			check: func(t *testing.T, m *meta.GraphiteMetadata) {
				if !m.Auth.Has(meta.AuthModeBasic) {
					t.Errorf("auth %+v", m.Auth)
				}
			}},
		{name: "missing serverAddress", meta: map[string]string{"query": "q", "queryTime": "-1min"}, wantErr: []string{"trigger 0 (graphite)", "metadata.serverAddress", "is required"}},
		{name: "missing query", meta: map[string]string{"serverAddress": "http://g", "queryTime": "-1min"}, wantErr: []string{"metadata.query", "is required"}},
		{name: "missing queryTime", meta: map[string]string{"serverAddress": "http://g", "query": "q"}, wantErr: []string{"metadata.queryTime", "is required"}},
		{name: "blank query", meta: base("query", "  "), wantErr: []string{"metadata.query", "is required"}},
		{name: "blank queryTime", meta: base("queryTime", " "), wantErr: []string{"metadata.queryTime", "is required"}},
		{name: "serverAddress without scheme", meta: base("serverAddress", "graphite:8080"), wantErr: []string{"metadata.serverAddress", "not an http(s) URL"}},
		{name: "serverAddress with a query", meta: base("serverAddress", "http://g/?x=1"), wantErr: []string{"metadata.serverAddress", "query or fragment"}},
		{name: "zero threshold", meta: base("threshold", "0"), wantErr: []string{"metadata.threshold", "is 0", "above 0"}},
		{name: "threshold not a number", meta: base("threshold", "lots"), wantErr: []string{"metadata.threshold", `"lots" is not a valid number`}},
		{name: "activationThreshold not a number", meta: base("activationThreshold", "x"), wantErr: []string{"metadata.activationThreshold"}},
		{name: "bearer is not graphite's", meta: base("authModes", "bearer"), auth: map[string]string{"bearerToken": "t0ken"}, wantErr: []string{"metadata.authModes", `"bearer"`, "only basic"}},
		{name: "unknown mode", meta: base("authMode", "kerberos"), wantErr: []string{"metadata.authMode", `"kerberos"`, "only basic"}},
		{name: "basic without a username", meta: base("authModes", "basic"), auth: map[string]string{"password": "pa55"}, wantErr: []string{"username", "authModes basic"}},
		{name: "offline: credentials may come later", meta: base("authModes", "basic"), offline: true, check: func(*testing.T, *meta.GraphiteMetadata) {}},
		{name: "offline still checks the address", meta: base("serverAddress", "nope", "authModes", "basic"), offline: true, wantErr: []string{"serverAddress"}},
	}
	runParseCases(t, "graphite", tests, "t0ken", "pa55")
}

// TestGraphiteAnswerValue: the last non-null point of the one series, as KEDA reads it.
func TestGraphiteAnswerValue(t *testing.T) {
	series := func(points string) string {
		return `[{"target":"queue.jobs","tags":{"name":"queue.jobs"},"datapoints":[` + points + `]}]`
	}
	for _, tt := range []struct {
		name    string
		body    string
		want    float64
		wantErr []string
	}{
		{name: "last point", body: series(`[1, 100], [2.5, 101]`), want: 2.5},
		{name: "skips trailing nulls", body: series(`[4, 100], [null, 101], [null, 102]`), want: 4},
		{name: "no series is zero", body: `[]`, want: 0},
		{name: "no points is zero", body: series(``), want: 0},
		{name: "no datapoints key is zero", body: `[{"target":"x"}]`, want: 0},
		{name: "all null", body: series(`[null, 100], [null, 101]`), wantErr: []string{"every point", "null", "metadata.queryTime"}},
		{name: "empty point skipped", body: series(`[7, 100], []`), want: 7},
		{name: "negative", body: series(`[-3, 100]`), want: -3},
		{name: "two series", body: `[{"target":"a","datapoints":[[1,1]]},{"target":"b","datapoints":[[2,1]]}]`, wantErr: []string{"matched 2 series", `"a"`, "sumSeries()"}},
		{name: "huge", body: series(`[1e400, 100]`), wantErr: []string{"not a finite number"}},
		{name: "html", body: `<html>graphite</html>`, wantErr: []string{"not graphite-web's render JSON", "metadata.serverAddress"}},
		{name: "object", body: `{"error":"x"}`, wantErr: []string{"not graphite-web's render JSON"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := graphiteAnswerValue([]byte(tt.body))
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("read %g, want an error", got)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %g, %v; want %g", got, err, tt.want)
			}
		})
	}
}

func TestGraphiteScalerSpec(t *testing.T) {
	cfg := &Config{TriggerType: "graphite", TriggerIndex: 2, Timeout: time.Second,
		TriggerMetadata: map[string]string{"serverAddress": "http://127.0.0.1:1", "query": "x", "queryTime": "-1min", "threshold": "0.5"}}
	s, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(t.Context())
	specs := s.GetMetricSpecForScaling(t.Context())
	if len(specs) != 1 || specs[0].External.Metric.Name != "s2-graphite" || specs[0].External.Target.AverageValue.MilliValue() != 500 {
		t.Fatalf("metric spec = %+v", specs)
	}
}

// TestGraphiteResults runs the scaler against canned answers of the render API.
func TestGraphiteResults(t *testing.T) {
	one := func(v string) string {
		return `[{"target":"q","datapoints":[[` + v + `,1700000000],[null,1700000001]]}]`
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
		{name: "value", body: one("12.5"), want: 12500, active: true},
		{name: "at activation", body: one("2"), meta: []string{"activationThreshold", "2"}, want: 2000},
		{name: "no series", body: `[]`, want: 0},
		{name: "bad target", status: 400, body: "Invalid target: 'sumSeries('", wantErr: []string{"400 Bad Request", "could not evaluate the target", "metadata.query"}},
		{name: "server error", status: 500, body: "Traceback ...", wantErr: []string{"500", "metadata.query"}},
		{name: "not graphite", body: `<html>grafana</html>`, wantErr: []string{"not graphite-web's render JSON", "metadata.serverAddress", `query "sumSeries(queue.*.jobs)"`}},
		{name: "basic", body: one("3"), want: 3000, active: true,
			meta: []string{"authModes", "basic"}, auth: map[string]string{"username": "u", "password": "s3cret"},
			check: func(r *http.Request) string {
				if u, p, ok := r.BasicAuth(); !ok || u != "u" || p != "s3cret" {
					return "missing basic auth"
				}
				return ""
			}},
		{name: "refused basic credentials are not shown", status: 401, body: "bad credentials u:s3cret",
			auth:    map[string]string{"username": "u", "password": "s3cret"},
			wantErr: []string{"401 Unauthorized", "authModes basic"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				q := r.URL.Query()
				if r.Method != http.MethodGet || r.URL.Path != "/gw/render" || q.Get("target") != "sumSeries(queue.*.jobs)" || q.Get("from") != "-5min" || q.Get("format") != "json" {
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
			meta := map[string]string{"serverAddress": srv.URL + "/gw", "query": "sumSeries(queue.*.jobs)", "queryTime": "-5min", "threshold": "5"}
			for i := 0; i+1 < len(tt.meta); i += 2 {
				meta[tt.meta[i]] = tt.meta[i+1]
			}
			s, err := New(t.Context(), &Config{TriggerType: "graphite", TriggerMetadata: meta, AuthParams: tt.auth, Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close(t.Context())
			vals, active, err := s.GetMetricsAndActivity(t.Context(), "s0-graphite")
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("want an error mentioning %q", tt.wantErr)
				}
				for _, w := range append(tt.wantErr, "trigger 0 (graphite)") {
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
			if got := vals[0].Value.MilliValue(); got != tt.want || active != tt.active || vals[0].MetricName != "s0-graphite" {
				t.Errorf("value %dm active %v name %s, want %dm %v", got, active, vals[0].MetricName, tt.want, tt.active)
			}
		})
	}
}
