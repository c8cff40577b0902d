package e2e

import (
	"fmt"
	"testing"

	dtserver "github.com/kedactl/kedactl/test/servers/dynatrace"
)

// TestDynatraceScalesZeroToMaxToZero: a dynatrace trigger on the Dynatrace contract fake, with
// the access token from a Secret through a TriggerAuthentication. A value at
// activationThreshold leaves the workers at 0; above it, 0 -> 1; a burst takes the real HPA to
// the maximum of 4; back to 0 once the queue drains, after the cooldown.
func TestDynatraceScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	const (
		token    = "dt0c01.E2EMETRICS.never-in-status-6b2f"
		selector = `builtin:queue.incoming_requests:splitBy():fold(sum)`
	)
	dt := dtserver.Start(t, dtserver.Options{Tokens: map[string][]string{token: {dtserver.ScopeMetricsRead}}})
	dt.SetValue(selector, 0)

	s.runScalerJourney(t, scalerJourney{
		namespace:   "dynatrace",
		secret:      "dynatrace-secret",
		auth:        "dynatrace-auth",
		params:      []secretParam{{"token", "token", token}},
		triggerType: "dynatrace",
		metadata: fmt.Sprintf(`host: %s
			metricSelector: %q
			from: now-5m
			threshold: "5"
			activationThreshold: "2"`, dt.URL, selector),
		metric:       "s0-dynatrace",
		averageValue: 5,
		set:          func(_ *testing.T, n int) { dt.SetValue(selector, float64(n)) },
		polls:        func() int { return len(dt.Requests()) },
		// At activationThreshold, above it, and 60 / 5 per worker = 12 workers.
		idle: 2, one: 3, max: 60,
	})

	// Every request carried the token from the Secret, the selector and the range.
	for _, r := range dt.Requests() {
		if r.Authorization != "Api-Token "+token || r.Status != 200 || r.Path != "/api/v2/metrics/query" ||
			r.Query.Get("metricSelector") != selector || r.Query.Get("from") != "now-5m" {
			t.Fatalf("request %s %s?%s answered %d", r.Method, r.Path, r.Query.Encode(), r.Status)
		}
	}
}
