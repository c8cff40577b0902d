package e2e

import (
	"fmt"
	"testing"

	ddserver "github.com/kedactl/kedactl/test/servers/datadog"
)

// TestDatadogScalesZeroToMaxToZero: a datadog trigger on the Datadog API fake, with the API key,
// the application key and the site (the fake's address) from a Secret through a
// TriggerAuthentication, as KEDA's documentation keeps them. A value at activationQueryValue
// leaves the workers at 0; above it, 0 -> 1; a burst takes the real HPA to the maximum of 4;
// back to 0 once the queue drains, after the cooldown.
func TestDatadogScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	const (
		apiKey = "e2e-datadog-api-key-0c1d"
		appKey = "e2e-datadog-app-key-9a7f"
		query  = "sum:worker.queue.depth{service:checkout}"
	)
	dd := ddserver.Start(t, ddserver.Options{APIKey: apiKey, AppKey: appKey})
	dd.SetValue(query, 0)

	s.runScalerJourney(t, scalerJourney{
		namespace: "datadog",
		secret:    "datadog-secrets",
		auth:      "keda-trigger-auth-datadog-secret",
		params: []secretParam{
			{"apiKey", "apiKey", apiKey},
			{"appKey", "appKey", appKey},
			{"datadogSite", "datadogSite", dd.URL},
		},
		triggerType: "datadog",
		metadata: fmt.Sprintf(`query: %q
			queryValue: "5"
			activationQueryValue: "2"
			age: "60"`, query),
		metric:       "s0-datadog-sum-worker-queue-depth",
		averageValue: 5,
		set:          func(_ *testing.T, n int) { dd.SetValue(query, float64(n)) },
		polls:        func() int { return len(dd.Requests()) },
		// At activationQueryValue, above it, and 60 / 5 per worker = 12 workers.
		idle: 2, one: 3, max: 60,
	})

	// Every request carried the keys from the Secret in Datadog's headers, and a 60 s window.
	for _, r := range dd.Requests() {
		if r.APIKey != apiKey || r.AppKey != appKey || r.Status != 200 || r.Path != "/api/v1/query" || r.Query.Get("query") != query {
			t.Fatalf("request %s %s?%s answered %d (keys as in the Secret: %t)", r.Method, r.Path, r.Query.Encode(), r.Status, r.APIKey == apiKey && r.AppKey == appKey)
		}
	}
}
