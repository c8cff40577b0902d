package scalers_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
	ddserver "github.com/kedactl/kedactl/test/servers/datadog"
)

// Keys the Datadog fake takes; no error may show them.
const (
	ddTestAPIKey = "dd-api-0f3c-never-in-errors"
	ddTestAppKey = "dd-app-77b1-never-in-errors"
)

const ddTestQuery = "sum:trace.redis.command.hits{env:none,service:redis}.as_count()"

// newDatadogTrigger builds a datadog trigger whose site is the fake.
func newDatadogTrigger(t *testing.T, srv *ddserver.Server, meta map[string]string, pool *scalers.ClientPool) scalers.Scaler {
	t.Helper()
	auth := map[string]string{"apiKey": ddTestAPIKey, "appKey": ddTestAppKey, "datadogSite": srv.URL}
	s, err := scalers.New(context.Background(), &scalers.Config{TriggerType: "datadog", TriggerMetadata: meta, AuthParams: auth, Timeout: 5 * time.Second, Clients: pool})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// ddMeta is a trigger's metadata with extra key/value pairs.
func ddMeta(extra ...string) map[string]string {
	m := map[string]string{"query": ddTestQuery, "queryValue": "5", "activationQueryValue": "1"}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return m
}

// pollDatadog polls once.
func pollDatadog(t *testing.T, s scalers.Scaler) (float64, bool, error) {
	t.Helper()
	const name = "s0-datadog-sum-trace-redis-command-hits"
	vals, active, err := s.GetMetricsAndActivity(context.Background(), name)
	if err != nil {
		return 0, false, err
	}
	if len(vals) != 1 || vals[0].MetricName != name {
		t.Fatalf("poll gave %+v", vals)
	}
	return vals[0].Value.AsApproximateFloat64(), active, nil
}

// wantDatadogErr checks that err mentions every text and shows no key.
func wantDatadogErr(t *testing.T, err error, mentions ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error mentioning %q", mentions)
	}
	for _, m := range append(mentions, "trigger 0 (datadog)") {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not mention %q", err, m)
		}
	}
	for _, key := range []string{ddTestAPIKey, ddTestAppKey} {
		if strings.Contains(err.Error(), key) {
			t.Errorf("error %q shows a key", err)
		}
	}
}

// TestDatadogQueriesTheAPI: one GET of /api/v1/query per poll, with the keys in Datadog's
// headers and the window [now-timeWindowOffset-age, now-timeWindowOffset] in seconds; the value
// is the last point with data, and the trigger is active above activationQueryValue.
func TestDatadogQueriesTheAPI(t *testing.T) {
	srv := ddserver.Start(t, ddserver.Options{APIKey: ddTestAPIKey, AppKey: ddTestAppKey})
	srv.SetValue(ddTestQuery, 7)
	s := newDatadogTrigger(t, srv, ddMeta("age", "120", "timeWindowOffset", "30"), nil)
	before := time.Now().Unix()
	v, active, err := pollDatadog(t, s)
	after := time.Now().Unix()
	if err != nil || v != 7 || !active {
		t.Fatalf("poll: %g, active %t, %v", v, active, err)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	from, _ := strconv.ParseInt(r.Query.Get("from"), 10, 64)
	to, _ := strconv.ParseInt(r.Query.Get("to"), 10, 64)
	if r.Method != "GET" || r.Path != "/api/v1/query" || r.Query.Get("query") != ddTestQuery || r.APIKey != ddTestAPIKey || r.AppKey != ddTestAppKey ||
		to < before-30 || to > after-30 || to-from != 120 {
		t.Errorf("request %+v", r)
	}

	srv.SetValue(ddTestQuery, 1)
	if v, active, err := pollDatadog(t, s); err != nil || v != 1 || active {
		t.Errorf("at the activation value: %g, active %t, %v", v, active, err)
	}
}

// TestDatadogPicksValues: lastAvailablePointOffset, the aggregators over several series, and
// metricUnavailableValue for a query without data.
func TestDatadogPicksValues(t *testing.T) {
	srv := ddserver.Start(t, ddserver.Options{APIKey: ddTestAPIKey, AppKey: ddTestAppKey})
	v := ddserver.Value
	const byHost = "avg:worker.queue.depth{env:prod} by {host}"
	srv.Set(ddTestQuery, ddserver.Series{Points: []*float64{v(1), v(2), v(3), nil}})
	srv.Set(byHost, ddserver.Series{Scope: "host:a", Points: []*float64{v(2)}}, ddserver.Series{Scope: "host:b", Points: []*float64{v(8), nil}})
	for _, tt := range []struct {
		name    string
		meta    map[string]string
		want    float64
		wantErr string
	}{
		{name: "last point with data", meta: ddMeta(), want: 3},
		{name: "one point further back", meta: ddMeta("lastAvailablePointOffset", "1"), want: 2},
		{name: "too far back", meta: ddMeta("lastAvailablePointOffset", "3"), wantErr: "lastAvailablePointOffset"},
		{name: "several series need an aggregator", meta: ddMeta("query", byHost), wantErr: "queryAggregator"},
		{name: "max", meta: ddMeta("query", byHost, "queryAggregator", "max"), want: 8},
		{name: "average", meta: ddMeta("query", byHost, "queryAggregator", "average"), want: 5},
		{name: "no data", meta: ddMeta("query", "sum:nothing{*}"), wantErr: "no point"},
		{name: "no data, filled", meta: ddMeta("query", "sum:nothing{*}", "metricUnavailableValue", "0"), want: 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newDatadogTrigger(t, srv, tt.meta, nil)
			vals, _, err := s.GetMetricsAndActivity(context.Background(), "m")
			if tt.wantErr != "" {
				wantDatadogErr(t, err, tt.wantErr)
				return
			}
			if err != nil || vals[0].Value.AsApproximateFloat64() != tt.want {
				t.Fatalf("got %+v, %v; want %g", vals, err, tt.want)
			}
		})
	}
}

// TestDatadogFailures: Datadog's refusals are worded with the parameter to fix, and no error
// shows a key.
func TestDatadogFailures(t *testing.T) {
	srv := ddserver.Start(t, ddserver.Options{APIKey: ddTestAPIKey, AppKey: ddTestAppKey})
	srv.SetError(ddTestQuery, "Error executing query: series limit exceeded")

	wrong := ddserver.Start(t, ddserver.Options{APIKey: "other", AppKey: "keys"})
	_, _, err := pollDatadog(t, newDatadogTrigger(t, wrong, ddMeta(), nil))
	wantDatadogErr(t, err, "403", "check apiKey and appKey", "Forbidden")

	_, _, err = pollDatadog(t, newDatadogTrigger(t, srv, ddMeta(), nil))
	wantDatadogErr(t, err, "series limit exceeded", "metadata.query")

	_, _, err = pollDatadog(t, newDatadogTrigger(t, srv, ddMeta("query", "sum:a{b}.rollup(sum, bad"), nil))
	wantDatadogErr(t, err, "400", "metadata.query")

	limited := ddserver.Start(t, ddserver.Options{APIKey: ddTestAPIKey, AppKey: ddTestAppKey, RateLimit: 1, RatePeriod: time.Hour})
	limited.SetValue(ddTestQuery, 3)
	s := newDatadogTrigger(t, limited, ddMeta(), nil)
	if v, _, err := pollDatadog(t, s); err != nil || v != 3 {
		t.Fatalf("first poll: %g, %v", v, err)
	}
	_, _, err = pollDatadog(t, s)
	wantDatadogErr(t, err, "429", "rate limit of 1 queries per 3600 seconds", "resets in 3600 seconds", "pollingInterval")

	s, err = scalers.New(context.Background(), &scalers.Config{TriggerType: "datadog", TriggerMetadata: ddMeta(), Timeout: time.Second,
		AuthParams: map[string]string{"apiKey": ddTestAPIKey, "appKey": ddTestAppKey, "datadogSite": "http://127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	_, _, err = pollDatadog(t, s)
	wantDatadogErr(t, err, "could not reach the server", "datadogSite")
}

// TestDatadogTriggersShareATransport: triggers on one Datadog site share one transport through
// the ClientPool, so their polls reuse a connection instead of one each.
func TestDatadogTriggersShareATransport(t *testing.T) {
	const triggers = 10
	connections := func(pool *scalers.ClientPool) int {
		srv := ddserver.Start(t, ddserver.Options{APIKey: ddTestAPIKey, AppKey: ddTestAppKey})
		var built []scalers.Scaler
		for i := range triggers {
			q := fmt.Sprintf("sum:jobs.queued{queue:q%d}", i)
			srv.SetValue(q, float64(i))
			built = append(built, newDatadogTrigger(t, srv, ddMeta("query", q), pool))
		}
		for range 2 {
			for i, s := range built {
				vals, _, err := s.GetMetricsAndActivity(context.Background(), "m")
				if err != nil || vals[0].Value.AsApproximateFloat64() != float64(i) {
					t.Fatalf("trigger %d read %+v: %v", i, vals, err)
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
