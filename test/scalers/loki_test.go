package scalers_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
	lokiserver "github.com/kedactl/kedactl/test/servers/loki"
)

// Credentials of the gateway in front of the Loki fake; no error may show them.
const (
	lokiTestPassword = "Loki-pa55-never-in-errors-7a1f"
	lokiTestToken    = "loki-bearer-never-in-errors-c40e"
)

const lokiTestQuery = `sum(count_over_time({app="worker"} |= "job queued" [1m]))`

// newLokiTrigger builds a loki trigger on the fake.
func newLokiTrigger(t *testing.T, meta, auth map[string]string, pool *scalers.ClientPool) scalers.Scaler {
	t.Helper()
	s, err := scalers.New(context.Background(), &scalers.Config{TriggerType: "loki", TriggerMetadata: meta, AuthParams: auth, Timeout: 5 * time.Second, Clients: pool})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// lokiMeta is a trigger's metadata on srv, with extra key/value pairs.
func lokiMeta(srv *lokiserver.Server, extra ...string) map[string]string {
	m := map[string]string{"serverAddress": srv.URL, "query": lokiTestQuery, "threshold": "5", "activationThreshold": "1"}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return m
}

// pollLoki polls once.
func pollLoki(t *testing.T, s scalers.Scaler) (float64, bool, error) {
	t.Helper()
	vals, active, err := s.GetMetricsAndActivity(context.Background(), "s0-loki")
	if err != nil {
		return 0, false, err
	}
	if len(vals) != 1 || vals[0].MetricName != "s0-loki" {
		t.Fatalf("poll gave %+v", vals)
	}
	return vals[0].Value.AsApproximateFloat64(), active, nil
}

// wantLokiErr checks that err mentions every text and shows no credential.
func wantLokiErr(t *testing.T, err error, mentions ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error mentioning %q", mentions)
	}
	for _, m := range append(mentions, "trigger 0 (loki)") {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not mention %q", err, m)
		}
	}
	for _, secret := range []string{lokiTestPassword, lokiTestToken} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q shows a credential", err)
		}
	}
}

// TestLokiMultiTenantBasicAuth: on a multi-tenant Loki behind a gateway taking basic credentials,
// the trigger sends one GET of /loki/api/v1/query per poll with the LogQL query, no time (Loki's
// now), its tenant in X-Scope-OrgID and the credentials; it reads its own tenant's value, and
// is active above activationThreshold.
func TestLokiMultiTenantBasicAuth(t *testing.T) {
	srv := lokiserver.Start(t, lokiserver.Options{MultiTenant: true, Username: "1234", Password: lokiTestPassword})
	srv.SetValue("team-b", lokiTestQuery, 99)
	s := newLokiTrigger(t, lokiMeta(srv, "tenantName", "team-a", "authModes", "basic"), map[string]string{"username": "1234", "password": lokiTestPassword}, nil)

	for _, tt := range []struct {
		value  float64
		active bool
	}{{0, false}, {1, false}, {1.5, true}, {12, true}} {
		srv.SetValue("team-a", lokiTestQuery, tt.value)
		v, active, err := pollLoki(t, s)
		if err != nil {
			t.Fatal(err)
		}
		if v != tt.value || active != tt.active {
			t.Errorf("value %g: read %g active %v, want active %v", tt.value, v, active, tt.active)
		}
	}
	reqs := srv.Requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests for 4 polls", len(reqs))
	}
	for _, r := range reqs {
		u, p, _ := basicAuth(r.Authorization)
		if r.Method != "GET" || r.Path != "/loki/api/v1/query" || r.Query.Get("query") != lokiTestQuery || r.Query.Has("time") ||
			r.Tenant != "team-a" || u != "1234" || p != lokiTestPassword || r.Status != 200 {
			t.Errorf("request %s %s?%s tenant %q answered %d", r.Method, r.Path, r.Query.Encode(), r.Tenant, r.Status)
		}
	}
}

// TestLokiBearerThroughAddressForms: a bearer token reaches the gateway, whichever form of the
// address names Loki (its root, its /loki prefix, the query endpoint itself).
func TestLokiBearerThroughAddressForms(t *testing.T) {
	srv := lokiserver.Start(t, lokiserver.Options{BearerToken: lokiTestToken})
	srv.SetValue("", lokiTestQuery, 7)
	for _, addr := range []string{srv.URL, srv.URL + "/", srv.URL + "/loki", srv.URL + "/loki/api/v1/query"} {
		s := newLokiTrigger(t, lokiMeta(srv, "serverAddress", addr, "authModes", "bearer"), map[string]string{"bearerToken": lokiTestToken}, nil)
		if v, active, err := pollLoki(t, s); err != nil || v != 7 || !active {
			t.Errorf("serverAddress %s: read %g active %v: %v", addr, v, active, err)
		}
	}
	for _, r := range srv.Requests() {
		if r.Authorization != "Bearer "+lokiTestToken || r.Path != "/loki/api/v1/query" {
			t.Errorf("request %s with Authorization %q", r.Path, r.Authorization)
		}
	}
}

// TestLokiFailures: what Loki or its gateway refuses, and what it answers that is not one
// number, fails the poll with an error that says what to fix and shows no credential.
func TestLokiFailures(t *testing.T) {
	srv := lokiserver.Start(t, lokiserver.Options{MultiTenant: true, Username: "1234", Password: lokiTestPassword})
	basic := map[string]string{"username": "1234", "password": lokiTestPassword}
	two := []lokiserver.Series{{Labels: map[string]string{"app": "a"}, Values: []float64{1}}, {Labels: map[string]string{"app": "b"}, Values: []float64{2}}}
	srv.Set("t", "two", lokiserver.Answer{Series: two})
	srv.Set("t", "range", lokiserver.Answer{Type: lokiserver.Matrix, Series: two})
	srv.Set("t", "lines", lokiserver.Answer{Type: lokiserver.Streams, Series: two})
	srv.Set("t", "bad", lokiserver.Answer{ParseError: "syntax error: unexpected IDENTIFIER"})
	srv.Set("t", "scalar", lokiserver.Answer{Type: lokiserver.Scalar, Series: []lokiserver.Series{{Values: []float64{3}}}})

	for _, tt := range []struct {
		name     string
		meta     []string
		auth     map[string]string
		want     float64
		mentions []string
	}{
		{name: "scalar reads", meta: []string{"query", "scalar"}, auth: basic, want: 3},
		{name: "no match is 0", meta: []string{"query", "nothing matches"}, auth: basic, want: 0},
		{name: "no match without ignoreNullValues", meta: []string{"query", "nothing matches", "ignoreNullValues", "false"}, auth: basic,
			mentions: []string{"no sample", "metadata.ignoreNullValues"}},
		{name: "two series", meta: []string{"query", "two"}, auth: basic, mentions: []string{"2 series", `{app="a"}`, "sum(...)"}},
		{name: "range vector", meta: []string{"query", "range"}, auth: basic, mentions: []string{"range vector"}},
		{name: "log lines", meta: []string{"query", "lines"}, auth: basic, mentions: []string{"log lines", "metric query"}},
		{name: "parse error", meta: []string{"query", "bad"}, auth: basic, mentions: []string{"400 Bad Request", "parse error at line 1", "check metadata.query"}},
		{name: "no tenant", meta: []string{"tenantName", ""}, auth: basic, mentions: []string{"401", "no org id", "metadata.tenantName"}},
		{name: "wrong password", auth: map[string]string{"username": "1234", "password": "wrong-" + lokiTestPassword},
			mentions: []string{"401 Unauthorized", "refused the credentials of authModes basic"}},
		{name: "no credentials", meta: []string{"authModes", ""}, mentions: []string{"401 Unauthorized", "set metadata.authModes"}},
		{name: "not Loki", meta: []string{"serverAddress", srv.URL + "/elsewhere/loki/api/v1/query/x"}, auth: basic, mentions: []string{"404"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			meta := lokiMeta(srv, append([]string{"tenantName", "t", "authModes", "basic"}, tt.meta...)...)
			for k, v := range meta {
				if v == "" {
					delete(meta, k)
				}
			}
			v, _, err := pollLoki(t, newLokiTrigger(t, meta, tt.auth, nil))
			if len(tt.mentions) == 0 {
				if err != nil || v != tt.want {
					t.Fatalf("read %g (%v), want %g", v, err, tt.want)
				}
				return
			}
			wantLokiErr(t, err, tt.mentions...)
		})
	}
}

// TestLokiTriggersShareATransport: triggers on one Loki with the same credentials share one
// transport through the ClientPool, so their polls reuse a few connections instead of one each.
func TestLokiTriggersShareATransport(t *testing.T) {
	const triggers = 20
	connections := func(pool *scalers.ClientPool) int {
		srv := lokiserver.Start(t, lokiserver.Options{BearerToken: lokiTestToken})
		var built []scalers.Scaler
		for i := range triggers {
			q := fmt.Sprintf(`sum(count_over_time({app="w%d"}[1m]))`, i)
			srv.SetValue("", q, float64(i))
			built = append(built, newLokiTrigger(t, lokiMeta(srv, "query", q, "authModes", "bearer"), map[string]string{"bearerToken": lokiTestToken}, pool))
		}
		for range 2 {
			for i, s := range built {
				if v, _, err := pollLoki(t, s); err != nil || v != float64(i) {
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
	t.Logf("%d triggers polled twice: %d connections without a pool, %d with one", triggers, without, with)
	if without != triggers || with != 1 {
		t.Errorf("connections: %d without a pool (want %d), %d with one (want 1)", without, triggers, with)
	}
	if pool.Len() != 0 {
		t.Errorf("the pool holds %d transports after every trigger closed", pool.Len())
	}
}

// basicAuth decodes an Authorization header of HTTP basic authentication.
func basicAuth(header string) (user, password string, ok bool) {
	r, _ := http.NewRequest(http.MethodGet, "http://x", nil)
	r.Header.Set("Authorization", header)
	return r.BasicAuth()
}
