package scalers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
	"github.com/kedactl/kedactl/test/cluster"
	promserver "github.com/kedactl/kedactl/test/servers/prometheus"
)

// Credentials the auth proxy in front of Prometheus wants; no error may show them.
const (
	promTestPassword = "Prom-pa55-never-in-errors-91c2"
	promTestToken    = "prom-bearer-never-in-errors-5d7e"
)

// authProxy is a reverse proxy to Prometheus that lets a request through only with the wanted
// credential (Prometheus itself has no authentication) and echoes what it got when refusing.
func authProxy(t *testing.T, target string, ok func(r *http.Request) bool) string {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ok(r) {
			http.Error(w, "refused Authorization: "+r.Header.Get("Authorization"), http.StatusUnauthorized)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestPrometheusScalerAgainstRealServer runs the prometheus scaler against Debian's Prometheus
// scraping a gauge the test sets: values and activation, the result shapes KEDA accepts and
// refuses, basic and bearer authentication through a proxy, and failures bounded by the
// trigger's timeout, none showing a credential.
func TestPrometheusScalerAgainstRealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts prometheus")
	}
	ctx := context.Background()
	const gauge = "kedactl_jobs_waiting"
	exp := promserver.NewExporter(t)
	exp.Set(gauge, 0)
	srv := promserver.Start(t, promserver.Options{Targets: []string{exp.Addr}})
	if err := srv.WaitForValue(ctx, gauge, 0, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	setGauge := func(t *testing.T, v float64) {
		t.Helper()
		exp.Set(gauge, v)
		if err := srv.WaitForValue(ctx, gauge, v, 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}

	build := func(t *testing.T, meta, auth map[string]string) scalers.Scaler {
		t.Helper()
		s, err := scalers.New(ctx, &scalers.Config{TriggerType: "prometheus", TriggerMetadata: meta, AuthParams: auth, Timeout: pollTimeout})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(ctx) })
		return s
	}
	trigger := func(address, query string, extra ...string) map[string]string {
		m := map[string]string{"serverAddress": address, "query": query, "threshold": "2"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	read := func(s scalers.Scaler) (int64, bool, error) {
		vals, active, err := s.GetMetricsAndActivity(ctx, "s0-prometheus")
		if err != nil {
			return 0, false, err
		}
		return vals[0].Value.MilliValue(), active, nil
	}
	failing := func(t *testing.T, s scalers.Scaler, wants ...string) {
		t.Helper()
		start := time.Now()
		_, _, err := read(s)
		took := time.Since(start)
		if err == nil {
			t.Fatal("want an error")
		}
		t.Logf("error after %s: %v", took.Round(time.Millisecond), err)
		if took > pollTimeout+time.Second {
			t.Errorf("failed after %s, the trigger's timeout is %s", took, pollTimeout)
		}
		for _, w := range append([]string{"trigger 0 (prometheus)"}, wants...) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not mention %q", err, w)
			}
		}
		for _, secret := range []string{promTestPassword, promTestToken} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q shows a credential", err)
			}
		}
	}

	t.Run("value and activation", func(t *testing.T) {
		s := build(t, trigger(srv.URL, gauge, "activationThreshold", "2"), nil)
		specs := s.GetMetricSpecForScaling(ctx)
		if len(specs) != 1 || specs[0].External.Metric.Name != "s0-prometheus" || specs[0].External.Target.AverageValue.Value() != 2 {
			t.Fatalf("metric spec = %+v", specs)
		}
		for _, step := range []struct {
			gauge  float64
			milli  int64
			active bool
		}{{0, 0, false}, {2, 2000, false}, {2.5, 2500, true}, {10, 10000, true}, {0, 0, false}} {
			setGauge(t, step.gauge)
			v, active, err := read(s)
			if err != nil {
				t.Fatal(err)
			}
			if v != step.milli || active != step.active {
				t.Errorf("gauge %g: value=%dm active=%v, want %dm %v", step.gauge, v, active, step.milli, step.active)
			}
		}
	})

	t.Run("scalar and aggregated results", func(t *testing.T) {
		setGauge(t, 4)
		for query, want := range map[string]int64{
			"scalar(" + gauge + ") * 2":      8000,
			`sum(` + gauge + `{job="test"})`: 4000,
			"vector(1.5)":                    1500,
		} {
			v, _, err := read(build(t, trigger(srv.URL, query), nil))
			if err != nil || v != want {
				t.Errorf("%s: %dm, %v; want %dm", query, v, err, want)
			}
		}
	})

	t.Run("no sample", func(t *testing.T) {
		v, active, err := read(build(t, trigger(srv.URL, "kedactl_no_such_metric"), nil))
		if err != nil || v != 0 || active {
			t.Errorf("ignoreNullValues default: %dm active=%v %v, want 0", v, active, err)
		}
		failing(t, build(t, trigger(srv.URL, "kedactl_no_such_metric", "ignoreNullValues", "false"), nil), "returned no sample", "ignoreNullValues")
	})

	t.Run("several series", func(t *testing.T) {
		failing(t, build(t, trigger(srv.URL, `{job="test"}`), nil), "series", "not one", "sum(...)")
	})

	t.Run("NaN and Inf", func(t *testing.T) {
		failing(t, build(t, trigger(srv.URL, "vector(0) / 0"), nil), "returned NaN, not a finite number")
		failing(t, build(t, trigger(srv.URL, "vector(1) / 0", "ignoreNullValues", "true"), nil), "returned +Inf, not a finite number")
	})

	t.Run("range vector", func(t *testing.T) {
		failing(t, build(t, trigger(srv.URL, gauge+"[1m]"), nil), "range vector")
	})

	t.Run("bad query", func(t *testing.T) {
		failing(t, build(t, trigger(srv.URL, "sum("), nil), "Prometheus rejected the query (bad_data", "check metadata.query")
	})

	t.Run("basic authentication through a proxy", func(t *testing.T) {
		setGauge(t, 3)
		proxy := authProxy(t, srv.URL, func(r *http.Request) bool {
			u, p, ok := r.BasicAuth()
			return ok && u == "keda" && p == promTestPassword
		})
		s := build(t, trigger(proxy, gauge, "authModes", "basic"), map[string]string{"username": "keda", "password": promTestPassword})
		if v, active, err := read(s); err != nil || v != 3000 || !active {
			t.Errorf("value=%dm active=%v err=%v, want 3000m true", v, active, err)
		}
		failing(t, build(t, trigger(proxy, gauge, "authModes", "basic"), map[string]string{"username": "keda", "password": "wrong-" + promTestPassword}),
			"401 Unauthorized", "refused the credentials of authModes basic")
		failing(t, build(t, trigger(proxy, gauge), nil), "401 Unauthorized", "the server wants credentials")
	})

	t.Run("bearer authentication through a proxy", func(t *testing.T) {
		setGauge(t, 5)
		proxy := authProxy(t, srv.URL, func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer "+promTestToken })
		s := build(t, trigger(proxy, gauge), map[string]string{"authModes": "bearer", "bearerToken": promTestToken})
		if v, _, err := read(s); err != nil || v != 5000 {
			t.Errorf("value=%dm err=%v, want 5000m", v, err)
		}
		failing(t, build(t, trigger(proxy, gauge, "authModes", "bearer"), map[string]string{"bearerToken": "wrong-" + promTestToken}),
			"401 Unauthorized", "refused the credentials of authModes bearer", "Bearer (redacted)")
	})

	t.Run("nothing listens on the port", func(t *testing.T) {
		ports, err := cluster.FreePorts(1)
		if err != nil {
			t.Fatal(err)
		}
		failing(t, build(t, trigger("http://127.0.0.1:"+strconv.Itoa(ports[0]), gauge), nil), "could not reach the server", "metadata.serverAddress", "refused")
	})

	t.Run("server accepts and never answers", func(t *testing.T) {
		addr := silentServer(t)
		failing(t, build(t, trigger("http://"+addr, gauge), nil), "no answer within the trigger's timeout of 1s")
		// The trigger's own timeout (milliseconds, as KEDA reads it) wins over the operator's.
		failing(t, build(t, trigger("http://"+addr, gauge, "timeout", "300"), nil), "no answer within the trigger's timeout of 300ms")
	})
}
