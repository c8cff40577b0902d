package scalers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
	graphiteserver "github.com/kedactl/kedactl/test/servers/graphite"
)

// TestGraphiteScalerAgainstRealServer follows a queue's points through Debian's Graphite
// (carbon-cache and graphite-web), behind the harness's basic-auth proxy: a metric nobody sent
// reads 0, each new point is the value, sumSeries adds two queues' last points, a wildcard over
// two series fails naming them, two triggers of one server share one transport, wrong
// credentials and an unknown function fail without showing a secret, and a stopped server fails
// the poll naming it.
func TestGraphiteScalerAgainstRealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts carbon-cache and graphite-web")
	}
	const password = "gr4phite-s3cret"
	srv := graphiteserver.Start(t, graphiteserver.Options{Username: "keda", Password: password})
	pool := scalers.NewClientPool()
	defer pool.Close()
	build := func(auth map[string]string, extra ...string) scalers.Scaler {
		meta := map[string]string{"serverAddress": srv.URL, "query": "queue.emails.jobs", "queryTime": "-5min", "threshold": "2", "activationThreshold": "1", "authModes": "basic"}
		for i := 0; i+1 < len(extra); i += 2 {
			meta[extra[i]] = extra[i+1]
		}
		s, err := scalers.New(context.Background(), &scalers.Config{TriggerType: "graphite", TriggerMetadata: meta, AuthParams: auth, Clients: pool, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(context.Background()) })
		return s
	}
	creds := map[string]string{"username": "keda", "password": password}
	emails := build(creds)
	both := build(creds, "query", "sumSeries(queue.{emails,sms}.jobs)")
	if pool.Len() != 1 {
		t.Errorf("two triggers of one server hold %d transports, want 1", pool.Len())
	}
	if specs := emails.GetMetricSpecForScaling(context.Background()); specs[0].External.Metric.Name != "s0-graphite" || specs[0].External.Target.AverageValue.Value() != 2 {
		t.Errorf("metric spec %+v, want s0-graphite with target 2", specs[0].External)
	}
	check := func(step string, s scalers.Scaler, want float64, wantActive bool) {
		t.Helper()
		m, active, err := s.GetMetricsAndActivity(context.Background(), "s0-graphite")
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if got := m[0].Value.AsApproximateFloat64(); got != want || active != wantActive {
			t.Errorf("%s: %g (active %v), want %g (active %v)", step, got, active, want, wantActive)
		}
	}
	wantErr := func(step string, s scalers.Scaler, parts ...string) {
		t.Helper()
		_, _, err := s.GetMetricsAndActivity(context.Background(), "s0-graphite")
		if err == nil {
			t.Fatalf("%s: no error", step)
		}
		for _, p := range append(parts, "trigger 0 (graphite)") {
			if !strings.Contains(err.Error(), p) {
				t.Errorf("%s: error %q does not mention %q", step, err, p)
			}
		}
		if strings.Contains(err.Error(), password) {
			t.Errorf("%s: error %q shows the password", step, err)
		}
	}

	check("a metric nobody sent", emails, 0, false)
	srv.Put(t, "queue.emails.jobs", 1)
	check("at the activation threshold", emails, 1, false)
	srv.Put(t, "queue.emails.jobs", 7.5)
	check("a new point", emails, 7.5, true)
	srv.Put(t, "queue.sms.jobs", 4)
	check("sumSeries of two queues", both, 11.5, true)
	wantErr("a wildcard over two series", build(creds, "query", "queue.*.jobs"), "matched 2 series", "sumSeries()")
	wantErr("an unknown function", build(creds, "query", "noSuchFunction(queue.emails.jobs)"), "metadata.query")
	wantErr("a wrong password", build(map[string]string{"username": "keda", "password": "not-" + password}), "401", "authModes basic")
	wantErr("no credentials", build(nil, "authModes", ""), "401", "authModes")

	srv.Stop()
	wantErr("a stopped server", emails, srv.URL)
}
