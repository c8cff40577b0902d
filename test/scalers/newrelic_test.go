package scalers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
	nrserver "github.com/kedactl/kedactl/test/servers/newrelic"
)

// A user key of the New Relic fake; no error may show it.
const nrTestKey = "NRAK-never-in-errors-5d0c9e1b"

const (
	nrTestAccount = 1234567
	nrTestNRQL    = "SELECT count(*) FROM Transaction WHERE appName = 'worker' SINCE 1 minute ago"
)

// startNewRelic starts the fake and points the new-relic triggers at it, as an operator does
// with NEW_RELIC_NERDGRAPH_BASE_URL. t.Setenv keeps these tests sequential.
func startNewRelic(t *testing.T) *nrserver.Server {
	t.Helper()
	srv := nrserver.Start(t)
	srv.AddKey(nrTestKey, nrTestAccount)
	t.Setenv("NEW_RELIC_NERDGRAPH_BASE_URL", srv.URL)
	return srv
}

// newNewRelicTrigger builds a new-relic trigger; the key comes as from a TriggerAuthentication.
func newNewRelicTrigger(t *testing.T, key string, pool *scalers.ClientPool, extra ...string) scalers.Scaler {
	t.Helper()
	meta := map[string]string{"account": fmt.Sprint(nrTestAccount), "nrql": nrTestNRQL, "threshold": "10", "activationThreshold": "2"}
	for i := 0; i+1 < len(extra); i += 2 {
		meta[extra[i]] = extra[i+1]
	}
	s, err := scalers.New(context.Background(), &scalers.Config{TriggerType: "new-relic", TriggerMetadata: meta,
		AuthParams: map[string]string{"queryKey": key}, Timeout: 5 * time.Second, Clients: pool})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

func pollNewRelic(t *testing.T, s scalers.Scaler) (float64, bool, error) {
	t.Helper()
	vals, active, err := s.GetMetricsAndActivity(context.Background(), "s0-new-relic")
	if err != nil {
		return 0, false, err
	}
	if len(vals) != 1 || vals[0].MetricName != "s0-new-relic" {
		t.Fatalf("poll gave %+v", vals)
	}
	return vals[0].Value.AsApproximateFloat64(), active, nil
}

// TestNewRelicQueriesNerdGraph: each poll is one POST of the NRQL query to NerdGraph with the
// user key in Api-Key and the account as a variable; the value is the row's count, active
// above activationThreshold; the metric spec is KEDA's s0-new-relic with the threshold.
func TestNewRelicQueriesNerdGraph(t *testing.T) {
	srv := startNewRelic(t)
	s := newNewRelicTrigger(t, nrTestKey, nil)
	specs := s.GetMetricSpecForScaling(context.Background())
	if len(specs) != 1 || specs[0].External.Metric.Name != "s0-new-relic" || specs[0].External.Target.AverageValue.Value() != 10 {
		t.Fatalf("metric spec %+v", specs)
	}
	for _, tt := range []struct {
		value  float64
		active bool
	}{{0, false}, {2, false}, {2.5, true}, {42, true}} {
		srv.SetCount(nrTestAccount, nrTestNRQL, tt.value)
		v, active, err := pollNewRelic(t, s)
		if err != nil {
			t.Fatal(err)
		}
		if v != tt.value || active != tt.active {
			t.Errorf("count %g: read %g active %v, want active %v", tt.value, v, active, tt.active)
		}
	}
	reqs := srv.Requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests for 4 polls", len(reqs))
	}
	for _, r := range reqs {
		if r.Method != "POST" || r.Path != "/graphql" || r.APIKey != nrTestKey || !strings.HasPrefix(r.ContentType, "application/json") ||
			r.AccountID != nrTestAccount || r.NRQL != nrTestNRQL || r.Status != 200 {
			t.Errorf("request %+v", r)
		}
	}
}

// TestNewRelicRows: the value is the first number of the first row, in the order the query
// selects; no row, or a row without a number, is 0 unless noDataError.
func TestNewRelicRows(t *testing.T) {
	srv := startNewRelic(t)
	for _, tt := range []struct {
		name        string
		rows        []string
		want        float64
		wantNoData  bool
		noDataError bool
	}{
		{name: "two values: the first selected", rows: []string{`{"average.duration": 0.25, "count": 9}`}, want: 0.25},
		{name: "a facet before the value", rows: []string{`{"facet": "worker", "appName": "worker", "count": 3}`, `{"facet": "api", "count": 8}`}, want: 3},
		{name: "latest() without data is null", rows: []string{`{"latest.queueDepth": null}`}, wantNoData: true},
		{name: "no rows", rows: nil, wantNoData: true},
		{name: "percentile is an object", rows: []string{`{"percentile.duration": {"95": 1.5}}`}, wantNoData: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			nrql := "SELECT something FROM Q WHERE case = '" + tt.name + "'"
			srv.SetRows(nrTestAccount, nrql, tt.rows...)
			for _, noDataError := range []bool{false, true} {
				s := newNewRelicTrigger(t, nrTestKey, nil, "nrql", nrql, "noDataError", fmt.Sprint(noDataError))
				v, _, err := pollNewRelic(t, s)
				switch {
				case tt.wantNoData && noDataError:
					if err == nil || !strings.Contains(err.Error(), "noDataError") || !strings.Contains(err.Error(), "trigger 0 (new-relic)") {
						t.Errorf("noDataError: want an error naming noDataError, got %v (%g)", err, v)
					}
				case err != nil:
					t.Errorf("noDataError %v: %v", noDataError, err)
				case tt.wantNoData && v != 0, !tt.wantNoData && v != tt.want:
					t.Errorf("noDataError %v: read %g, want %g", noDataError, v, tt.want)
				}
			}
		})
	}
}

// TestNewRelicFailures: a wrong key, an account the key may not read, a NRQL syntax error and an
// unreachable NerdGraph each fail the poll with what to check, never with the key.
func TestNewRelicFailures(t *testing.T) {
	srv := startNewRelic(t)
	srv.SetSyntaxError(nrTestAccount, "SELEC count(*) FROM Transaction", "Unknown function SELEC")
	for _, tt := range []struct {
		name    string
		key     string
		extra   []string
		url     string
		mention []string
	}{
		{name: "wrong key", key: "NRAK-wrong-" + nrTestKey, mention: []string{"401", "queryKey", "Invalid API key"}},
		{name: "other account", key: nrTestKey, extra: []string{"account", "7654321"}, mention: []string{"FORBIDDEN", "account 7654321"}},
		{name: "syntax error", key: nrTestKey, extra: []string{"nrql", "SELEC count(*) FROM Transaction"}, mention: []string{"NRQL Syntax Error", "SELEC"}},
		{name: "unreachable", key: nrTestKey, url: "http://127.0.0.1:1/graphql", mention: []string{"could not reach"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.url != "" {
				t.Setenv("NEW_RELIC_NERDGRAPH_BASE_URL", tt.url)
			}
			s := newNewRelicTrigger(t, tt.key, nil, tt.extra...)
			_, _, err := pollNewRelic(t, s)
			if err == nil {
				t.Fatal("want an error")
			}
			t.Log(err)
			for _, m := range append(tt.mention, "trigger 0 (new-relic)") {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			if strings.Contains(err.Error(), nrTestKey) {
				t.Errorf("error %q shows the key", err)
			}
		})
	}
}

// TestNewRelicTriggersShareATransport: triggers on NerdGraph share one transport through the
// ClientPool, so their polls reuse one connection instead of one each.
func TestNewRelicTriggersShareATransport(t *testing.T) {
	const triggers = 10
	srv := startNewRelic(t)
	pool := scalers.NewClientPool()
	defer pool.Close()
	var built []scalers.Scaler
	for i := range triggers {
		nrql := fmt.Sprintf("SELECT count(*) FROM Queue WHERE name = 'q%d'", i)
		srv.SetCount(nrTestAccount, nrql, float64(i))
		built = append(built, newNewRelicTrigger(t, nrTestKey, pool, "nrql", nrql))
	}
	for range 2 {
		for i, s := range built {
			if v, _, err := pollNewRelic(t, s); err != nil || v != float64(i) {
				t.Fatalf("trigger %d read %g: %v", i, v, err)
			}
		}
	}
	remotes := map[string]bool{}
	for _, r := range srv.Requests() {
		remotes[r.RemoteAddr] = true
	}
	if len(remotes) != 1 {
		t.Errorf("%d triggers polled twice over %d connections, want 1", triggers, len(remotes))
	}
	for _, s := range built {
		_ = s.Close(context.Background())
	}
	if pool.Len() != 0 {
		t.Errorf("the pool holds %d transports after every trigger closed", pool.Len())
	}
}
