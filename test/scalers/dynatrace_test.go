package scalers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
	dtserver "github.com/kedactl/kedactl/test/servers/dynatrace"
)

// Tokens of the Dynatrace fake; no error may show them.
const (
	dtMetricsToken = "dt0c01.METRICSREAD.never-in-errors-51d3"
	dtPlatformTok  = "dt0s16.PLATFORM.never-in-errors-9e0b"
	dtNoScopeToken = "dt0c01.NOSCOPE.never-in-errors-03aa"
)

const dtSelector = `builtin:queue.incoming_requests:filter(eq("dt.entity.queue","QUEUE-1")):splitBy():fold(sum)`

func startDynatrace(t *testing.T, pollsUntilDone int) *dtserver.Server {
	return dtserver.Start(t, dtserver.Options{PollsUntilDone: pollsUntilDone, Tokens: map[string][]string{
		dtMetricsToken: {dtserver.ScopeMetricsRead},
		dtPlatformTok:  {dtserver.ScopeStorageRead},
		dtNoScopeToken: {"entities.read"},
	}})
}

func newDynatraceTrigger(t *testing.T, meta map[string]string, token string, pool *scalers.ClientPool) scalers.Scaler {
	t.Helper()
	s, err := scalers.New(context.Background(), &scalers.Config{TriggerType: "dynatrace", TriggerMetadata: meta,
		AuthParams: map[string]string{"token": token}, Timeout: 5 * time.Second, Clients: pool})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

func pollDynatrace(t *testing.T, s scalers.Scaler) (float64, bool, error) {
	t.Helper()
	vals, active, err := s.GetMetricsAndActivity(context.Background(), "s0-dynatrace")
	if err != nil {
		for _, tok := range []string{dtMetricsToken, dtPlatformTok, dtNoScopeToken} {
			if strings.Contains(err.Error(), tok) {
				t.Errorf("error shows a token: %v", err)
			}
		}
		return 0, false, err
	}
	if len(vals) != 1 || vals[0].MetricName != "s0-dynatrace" {
		t.Fatalf("values %+v", vals)
	}
	return vals[0].Value.AsApproximateFloat64(), active, nil
}

func f(v float64) *float64 { return &v }

// TestDynatraceMetricsAPI: the metricSelector trigger against the Metrics API v2 fake.
func TestDynatraceMetricsAPI(t *testing.T) {
	srv := startDynatrace(t, 0)
	meta := func(extra ...string) map[string]string {
		m := map[string]string{"host": srv.URL + "/", "metricSelector": dtSelector, "threshold": "10", "activationThreshold": "3"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	srv.SetValue(dtSelector, 42)
	s := newDynatraceTrigger(t, meta(), dtMetricsToken, nil)
	if v, active, err := pollDynatrace(t, s); err != nil || v != 42 || !active {
		t.Fatalf("read %g active %t: %v", v, active, err)
	}
	srv.SetValue(dtSelector, 3)
	if v, active, err := pollDynatrace(t, s); err != nil || v != 3 || active {
		t.Fatalf("at activationThreshold: read %g active %t: %v", v, active, err)
	}
	// The request: the documented path, the selector and KEDA's default range, Api-Token auth.
	reqs := srv.Requests()
	last := reqs[len(reqs)-1]
	if last.Method != "GET" || last.Path != "/api/v2/metrics/query" || last.Query.Get("metricSelector") != dtSelector ||
		last.Query.Get("from") != "now-2h" || last.Authorization != "Api-Token "+dtMetricsToken || last.Status != 200 {
		t.Fatalf("request %+v", last)
	}

	// Several slots and series: the first value of the first series, as KEDA reads it; a slot
	// without data reads 0.
	srv.SetMetric(dtSelector, dtserver.Series{Dimensions: map[string]string{"dt.entity.queue": "QUEUE-1"}, Values: []*float64{f(5), f(8)}},
		dtserver.Series{Values: []*float64{f(100)}})
	if v, _, err := pollDynatrace(t, s); err != nil || v != 5 {
		t.Fatalf("several slots: read %g: %v", v, err)
	}
	srv.SetMetric(dtSelector, dtserver.Series{Values: []*float64{nil, f(8)}})
	if v, _, err := pollDynatrace(t, s); err != nil || v != 0 {
		t.Fatalf("an empty slot: read %g: %v", v, err)
	}
	srv.SetMetric(dtSelector)
	if _, _, err := pollDynatrace(t, s); err == nil || !strings.Contains(err.Error(), "no series") {
		t.Fatalf("no series: %v", err)
	}

	for _, tt := range []struct {
		name    string
		meta    map[string]string
		token   string
		wantErr []string
	}{
		{"unknown token", meta(), "dt0c01.WRONG", []string{"401", "Token Authentication failed", "parameter token"}},
		{"platform token without metrics.read", meta(), dtNoScopeToken, []string{"403", "missing required scope", "metrics.read"}},
		{"unknown metric", meta("metricSelector", "builtin:nope"), dtMetricsToken, []string{"404", "builtin:nope", "metadata.host"}},
		{"bad from", meta("from", "yesterday"), dtMetricsToken, []string{"400", "Constraints violated", "metadata.from"}},
		{"wrong host path", meta("host", srv.URL+"/e/abc"), dtMetricsToken, []string{"404", "metadata.host"}},
		{"nothing listens", meta("host", "http://127.0.0.1:1"), dtMetricsToken, []string{"trigger 0 (dynatrace)", "metadata.host"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := pollDynatrace(t, newDynatraceTrigger(t, tt.meta, tt.token, nil))
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestDynatraceDQL: the query trigger starts the DQL query, polls it until it succeeds and
// reads field r of the first record.
func TestDynatraceDQL(t *testing.T) {
	const query = `fetch logs | filter loglevel == "ERROR" | summarize r = count()`
	srv := startDynatrace(t, 2)
	srv.SetDQL(query, 17, 99)
	meta := map[string]string{"host": srv.URL, "query": query, "threshold": "5", "queryPollingWait": "20ms", "queryTimeoutSeconds": "30"}
	s := newDynatraceTrigger(t, meta, dtPlatformTok, nil)
	if v, active, err := pollDynatrace(t, s); err != nil || v != 17 || !active {
		t.Fatalf("read %g active %t: %v", v, active, err)
	}
	reqs := srv.Requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests, want execute and 3 polls", len(reqs))
	}
	var body struct {
		Query               string `json:"query"`
		FetchTimeoutSeconds int    `json:"fetchTimeoutSeconds"`
	}
	if err := json.Unmarshal([]byte(reqs[0].Body), &body); err != nil || body.Query != query || body.FetchTimeoutSeconds != 30 ||
		reqs[0].Method != "POST" || reqs[0].Status != 202 || reqs[0].Authorization != "Bearer "+dtPlatformTok {
		t.Fatalf("execute request %+v (%v)", reqs[0], err)
	}
	for _, r := range reqs[1:] {
		if r.Method != "GET" || r.Path != "/platform/storage/query/v1/query:poll" || !strings.HasPrefix(r.Query.Get("request-token"), "dt-req/") || r.Status != 200 {
			t.Fatalf("poll request %+v", r)
		}
	}

	// Fewer tries than the query needs.
	meta["queryPollingTries"] = "2"
	if _, _, err := pollDynatrace(t, newDynatraceTrigger(t, meta, dtPlatformTok, nil)); err == nil || !strings.Contains(err.Error(), "metadata.queryPollingTries") {
		t.Fatalf("out of tries: %v", err)
	}
	delete(meta, "queryPollingTries")
	// A metrics token has no storage scope; an unknown query is refused.
	if _, _, err := pollDynatrace(t, newDynatraceTrigger(t, meta, dtMetricsToken, nil)); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("metrics token on the platform API: %v", err)
	}
	meta["query"] = "fetch nothing"
	if _, _, err := pollDynatrace(t, newDynatraceTrigger(t, meta, dtPlatformTok, nil)); err == nil || !strings.Contains(err.Error(), "metadata.query") {
		t.Fatalf("refused query: %v", err)
	}
}

// TestDynatraceTriggersShareATransport: triggers on one environment share one transport through
// the ClientPool, so their polls reuse one connection instead of one each.
func TestDynatraceTriggersShareATransport(t *testing.T) {
	const triggers = 10
	connections := func(pool *scalers.ClientPool) int {
		srv := startDynatrace(t, 0)
		var built []scalers.Scaler
		for i := range triggers {
			sel := fmt.Sprintf("custom.queue.q%d:fold", i)
			srv.SetValue(sel, float64(i))
			built = append(built, newDynatraceTrigger(t, map[string]string{"host": srv.URL, "metricSelector": sel, "threshold": "1"}, dtMetricsToken, pool))
		}
		for range 2 {
			for i, s := range built {
				if v, _, err := pollDynatrace(t, s); err != nil || v != float64(i) {
					t.Fatalf("trigger %d read %g: %v", i, v, err)
				}
			}
		}
		remotes := map[string]bool{}
		for _, r := range srv.Requests() {
			remotes[r.RemoteAddr] = true
		}
		for _, s := range built {
			_ = s.Close(context.Background())
		}
		return len(remotes)
	}
	without := connections(nil)
	pool := scalers.NewClientPool()
	defer pool.Close()
	with := connections(pool)
	if without != triggers || with != 1 {
		t.Errorf("connections: %d without a pool (want %d), %d with one (want 1)", without, triggers, with)
	}
	if pool.Len() != 0 {
		t.Errorf("the pool holds %d transports after every trigger closed", pool.Len())
	}
}
