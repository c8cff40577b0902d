package e2e

import (
	"fmt"
	"testing"

	lokiserver "github.com/kedactl/kedactl/test/servers/loki"
)

// TestLokiScalesZeroToMaxToZero: a loki trigger on the Loki fake (multi-tenant, behind a gateway
// taking basic credentials), with the username and password from a Secret through a
// TriggerAuthentication and the tenant in metadata. A value at activationThreshold leaves the
// workers at 0; above it, 0 -> 1; a burst takes the real HPA to the maximum of 4; back to 0 once
// the errors stop, after the cooldown.
func TestLokiScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	const (
		user     = "29384"
		password = "glc_e2e-loki-password"
		tenant   = "team-a"
		query    = `sum(count_over_time({app="checkout"} |= "retry" [1m]))`
	)
	loki := lokiserver.Start(t, lokiserver.Options{MultiTenant: true, Username: user, Password: password})
	loki.SetValue(tenant, query, 0)
	// Another tenant's logs never count.
	loki.SetValue("team-b", query, 500)

	s.runScalerJourney(t, scalerJourney{
		namespace: "loki",
		secret:    "loki-secret",
		auth:      "loki-auth",
		params: []secretParam{
			{"username", "username", user},
			{"password", "password", password},
		},
		triggerType: "loki",
		metadata: fmt.Sprintf(`serverAddress: %s
			query: %q
			threshold: "5"
			activationThreshold: "2"
			tenantName: %s
			authModes: basic`, loki.URL, query, tenant),
		metric:       "s0-loki",
		averageValue: 5,
		set:          func(_ *testing.T, n int) { loki.SetValue(tenant, query, float64(n)) },
		polls:        func() int { return len(loki.Requests()) },
		// At activationThreshold, above it, and 60 / 5 per worker = 12 workers; the retries
		// stop at 0.
		idle: 2, one: 3, max: 60,
	})

	// Every request carried the tenant and the credentials from the Secret, and the query.
	for _, r := range loki.Requests() {
		if r.Tenant != tenant || r.Status != 200 || r.Path != "/loki/api/v1/query" || r.Query.Get("query") != query {
			t.Fatalf("request %s %s?%s (tenant %q) answered %d", r.Method, r.Path, r.Query.Encode(), r.Tenant, r.Status)
		}
	}
}
