package scalers

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
)

const dynatraceTestToken = "dt0c01.SECRETSECRET.TOKENTOKEN"

func TestParseDynatraceMetadata(t *testing.T) {
	base := func(extra ...string) map[string]string {
		m := map[string]string{"host": "https://abc12345.live.dynatrace.com/", "metricSelector": "builtin:service.requestCount.total:fold", "threshold": "10"}
		for i := 0; i+1 < len(extra); i += 2 {
			if extra[i+1] == "" {
				delete(m, extra[i])
				continue
			}
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	auth := map[string]string{"token": dynatraceTestToken}
	tests := []parseCase[meta.DynatraceMetadata]{
		{name: "metricSelector defaults", meta: base(), auth: auth, check: func(t *testing.T, m *meta.DynatraceMetadata) {
			if m.From != "now-2h" || m.Threshold != 10 || m.ActivationThreshold != 0 || m.Token != dynatraceTestToken {
				t.Errorf("parsed %+v", m)
			}
			if got := dynatraceEndpoint(m.HostURL, meta.DynatraceMetricsPath).String(); got != "https://abc12345.live.dynatrace.com/api/v2/metrics/query" {
				t.Errorf("endpoint %s", got)
			}
		}},
		{name: "metricSelector with from and activation", meta: base("from", "now-5m", "activationThreshold", "2.5"), auth: auth, check: func(t *testing.T, m *meta.DynatraceMetadata) {
			if m.From != "now-5m" || m.ActivationThreshold != 2.5 {
				t.Errorf("parsed %+v", m)
			}
		}},
		{name: "host from the TriggerAuthentication", meta: base("host", ""), auth: map[string]string{"token": dynatraceTestToken, "host": "https://gw.example/e/abc"},
			check: func(t *testing.T, m *meta.DynatraceMetadata) {
				if got := dynatraceEndpoint(m.HostURL, meta.DynatraceDQLPath+":execute").String(); got != "https://gw.example/e/abc/platform/storage/query/v1/query:execute" {
					t.Errorf("endpoint %s", got)
				}
			}},
		{name: "DQL defaults", meta: base("metricSelector", "", "query", "fetch logs | summarize r = count()"), auth: auth, check: func(t *testing.T, m *meta.DynatraceMetadata) {
			if m.QueryTimeoutSeconds != 10 || m.QueryPollingWait != time.Second || m.QueryPollingTries != 5 || m.From != "" {
				t.Errorf("parsed %+v", m)
			}
		}},
		{name: "DQL everything", meta: base("metricSelector", "", "query", "q", "queryTimeoutSeconds", "30", "queryPollingWait", "250ms", "queryPollingTries", "8"), auth: auth,
			check: func(t *testing.T, m *meta.DynatraceMetadata) {
				if m.QueryTimeoutSeconds != 30 || m.QueryPollingWait != 250*time.Millisecond || m.QueryPollingTries != 8 {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "missing host", meta: base("host", ""), auth: auth, wantErr: []string{"trigger 0 (dynatrace)", "metadata.host", "is required"}},
		{name: "host without scheme", meta: base("host", "abc.live.dynatrace.com"), auth: auth, wantErr: []string{"metadata.host", "not an http(s) URL"}},
		{name: "missing token", meta: base(), wantErr: []string{"metadata.token", "is required", "TriggerAuthentication"}},
		{name: "token in metadata is not read", meta: base("token", dynatraceTestToken), wantErr: []string{"metadata.token", "is required"}},
		{name: "neither selector nor query", meta: base("metricSelector", ""), auth: auth, wantErr: []string{"metadata.metricSelector", "metadata.query", "both unset"}},
		{name: "both selector and query", meta: base("query", "q"), auth: auth, wantErr: []string{"metadata.metricSelector", "both set"}},
		{name: "from with a DQL query", meta: base("metricSelector", "", "query", "q", "from", "now-1h"), auth: auth, wantErr: []string{"metadata.from", "DQL query itself"}},
		{name: "missing threshold", meta: base("threshold", ""), auth: auth, wantErr: []string{"metadata.threshold", "is required"}},
		{name: "zero threshold", meta: base("threshold", "0"), auth: auth, wantErr: []string{"metadata.threshold", "is 0", "above 0"}},
		{name: "threshold not a number", meta: base("threshold", "lots"), auth: auth, wantErr: []string{"metadata.threshold", `"lots" is not a valid number`}},
		{name: "activationThreshold not a number", meta: base("activationThreshold", "x"), auth: auth, wantErr: []string{"metadata.activationThreshold"}},
		{name: "queryPollingWait not a duration", meta: base("metricSelector", "", "query", "q", "queryPollingWait", "soon"), auth: auth, wantErr: []string{"metadata.queryPollingWait"}},
		{name: "queryPollingTries zero", meta: base("metricSelector", "", "query", "q", "queryPollingTries", "0"), auth: auth, wantErr: []string{"metadata.queryPollingTries", "at least 1"}},
		{name: "queryTimeoutSeconds zero", meta: base("metricSelector", "", "query", "q", "queryTimeoutSeconds", "0"), auth: auth, wantErr: []string{"metadata.queryTimeoutSeconds", "above 0"}},
		{name: "token with a line break", meta: base(), auth: map[string]string{"token": dynatraceTestToken + "\n"}, wantErr: []string{"metadata.token", "line break"}},
		{name: "offline: the token may come later", meta: base(), offline: true, check: func(*testing.T, *meta.DynatraceMetadata) {}},
		{name: "offline still checks the selector", meta: base("query", "q"), offline: true, wantErr: []string{"both set"}},
	}
	runParseCases(t, "dynatrace", tests, dynatraceTestToken)
}

func TestDynatraceScalerSpec(t *testing.T) {
	cfg := &Config{TriggerType: "dynatrace", TriggerIndex: 3, Timeout: time.Second, AuthParams: map[string]string{"token": dynatraceTestToken},
		TriggerMetadata: map[string]string{"host": "http://127.0.0.1:1", "metricSelector": "m", "threshold": "0.5"}}
	s, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(t.Context())
	specs := s.GetMetricSpecForScaling(t.Context())
	if len(specs) != 1 || specs[0].External.Metric.Name != "s3-dynatrace" || specs[0].External.Target.AverageValue.MilliValue() != 500 {
		t.Fatalf("metric spec = %+v", specs)
	}
}

// TestDynatraceMetricsValue: the first value of the first series of the first metric, as KEDA.
func TestDynatraceMetricsValue(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		want       float64
		wantErr    string
	}{
		{name: "one value", body: `{"totalCount":1,"resolution":"Inf","result":[{"metricId":"m:fold","data":[{"dimensions":[],"timestamps":[1],"values":[42.5]}]}]}`, want: 42.5},
		{name: "first of several", body: `{"result":[{"data":[{"values":[3,4]},{"values":[9]}]},{"data":[{"values":[7]}]}]}`, want: 3},
		{name: "null slot", body: `{"result":[{"data":[{"values":[null,4]}]}]}`, want: 0},
		{name: "no metric", body: `{"result":[]}`, wantErr: "no metric"},
		{name: "no series", body: `{"result":[{"metricId":"m","data":[]}]}`, wantErr: "no series"},
		{name: "no values", body: `{"result":[{"data":[{"values":[]}]}]}`, wantErr: "no value"},
		{name: "not an answer", body: `{"error":{"code":400}}`, wantErr: "not a Dynatrace Metrics API"},
		{name: "a value that is not a number", body: `{"result":[{"data":[{"values":["1"]}]}]}`, wantErr: "not a Dynatrace Metrics API"},
		{name: "html", body: `<html>`, wantErr: "metadata.host"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := dynatraceMetricsValue([]byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %g, %v; want %g", got, err, tt.want)
			}
		})
	}
}

func TestDQLPollValue(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		want       float64
		done       bool
		wantErr    string
	}{
		{name: "running", body: `{"state":"RUNNING","progress":10}`},
		{name: "not started", body: `{"state":"NOT_STARTED"}`},
		{name: "succeeded", body: `{"state":"SUCCEEDED","result":{"records":[{"r":12},{"r":99}],"types":[]}}`, want: 12, done: true},
		{name: "null r", body: `{"state":"SUCCEEDED","result":{"records":[{"r":null}]}}`, want: 0, done: true},
		{name: "no record", body: `{"state":"SUCCEEDED","result":{"records":[]}}`, done: true, wantErr: "no record"},
		{name: "no r", body: `{"state":"SUCCEEDED","result":{"records":[{"count()":3}]}}`, done: true, wantErr: "no field r"},
		{name: "r not a number", body: `{"state":"SUCCEEDED","result":{"records":[{"r":"3"}]}}`, done: true, wantErr: "not a number"},
		{name: "failed", body: `{"state":"FAILED"}`, done: true, wantErr: "failed"},
		{name: "cancelled", body: `{"state":"CANCELLED"}`, done: true, wantErr: "cancelled"},
		{name: "gone", body: `{"state":"RESULT_GONE"}`, done: true, wantErr: "expired"},
		{name: "unknown", body: `{"state":"SLEEPING"}`, done: true, wantErr: "SLEEPING"},
		{name: "not json", body: `nope`, wantErr: "not a Dynatrace DQL"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, done, err := dqlPollValue([]byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want || done != tt.done {
				t.Fatalf("got %g %t %v; want %g %t", got, done, err, tt.want, tt.done)
			}
		})
	}
}

// TestDynatraceRequests checks what the trigger sends and how it words refusals, on canned
// answers; the contract fake in test/servers/dynatrace covers the API's conventions.
func TestDynatraceRequests(t *testing.T) {
	var polls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/v2/metrics/query":
			if r.Header.Get("Authorization") != "Api-Token "+dynatraceTestToken {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = io.WriteString(w, `{"error":{"code":401,"message":"Token Authentication failed"}}`)
				return
			}
			if q := r.URL.Query(); q.Get("metricSelector") != "m:fold" || q.Get("from") != "now-2h" {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = io.WriteString(w, `{"error":{"code":400,"message":"bad selector `+dynatraceTestToken+`"}}`)
				return
			}
			_, _ = io.WriteString(w, `{"result":[{"data":[{"values":[7]}]}]}`)
		case r.URL.Path == "/platform/storage/query/v1/query:execute" && r.Method == http.MethodPost:
			var req struct {
				Query               string `json:"query"`
				FetchTimeoutSeconds int    `json:"fetchTimeoutSeconds"`
			}
			if json.NewDecoder(r.Body).Decode(&req) != nil || req.Query != "q" || req.FetchTimeoutSeconds != 10 || r.Header.Get("Authorization") != "Bearer "+dynatraceTestToken {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			w.WriteHeader(http.StatusAccepted)
			_, _ = io.WriteString(w, `{"state":"RUNNING","requestToken":"tok/+="}`)
		case r.URL.Path == "/platform/storage/query/v1/query:poll":
			if r.URL.Query().Get("request-token") != "tok/+=" {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			if polls.Add(1) < 3 {
				_, _ = io.WriteString(w, `{"state":"RUNNING"}`)
				return
			}
			_, _ = io.WriteString(w, `{"state":"SUCCEEDED","result":{"records":[{"r":4}]}}`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	run := func(meta map[string]string, token string) (float64, bool, error) {
		t.Helper()
		meta["host"] = srv.URL
		s, err := New(t.Context(), &Config{TriggerType: "dynatrace", Timeout: 5 * time.Second, TriggerMetadata: meta, AuthParams: map[string]string{"token": token}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close(t.Context())
		vals, active, err := s.GetMetricsAndActivity(t.Context(), "s0-dynatrace")
		if err != nil {
			if strings.Contains(err.Error(), token) {
				t.Errorf("error shows the token: %v", err)
			}
			return 0, false, err
		}
		return vals[0].Value.AsApproximateFloat64(), active, nil
	}
	if v, active, err := run(map[string]string{"metricSelector": "m:fold", "threshold": "5", "activationThreshold": "7"}, dynatraceTestToken); err != nil || v != 7 || active {
		t.Errorf("metrics: %g %t %v", v, active, err)
	}
	if _, _, err := run(map[string]string{"metricSelector": "m:fold", "threshold": "5"}, "dt0c01.WRONG"); err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "Token Authentication failed") || !strings.Contains(err.Error(), "parameter token") {
		t.Errorf("wrong token: %v", err)
	}
	if _, _, err := run(map[string]string{"metricSelector": "other", "threshold": "5"}, dynatraceTestToken); err == nil || !strings.Contains(err.Error(), "metadata.metricSelector") {
		t.Errorf("refused selector: %v", err)
	}
	if v, active, err := run(map[string]string{"query": "q", "threshold": "5", "queryPollingWait": "10ms"}, dynatraceTestToken); err != nil || v != 4 || !active || polls.Load() != 3 {
		t.Errorf("DQL: %g %t %v after %d polls", v, active, err, polls.Load())
	}
	polls.Store(0)
	if _, _, err := run(map[string]string{"query": "q", "threshold": "5", "queryPollingWait": "1ms", "queryPollingTries": "2"}, dynatraceTestToken); err == nil || !strings.Contains(err.Error(), "queryPollingTries") {
		t.Errorf("DQL out of tries: %v", err)
	}
}
