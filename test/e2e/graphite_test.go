package e2e

import (
	"fmt"
	"testing"

	graphiteserver "github.com/kedactl/kedactl/test/servers/graphite"
)

// TestGraphiteScalesZeroToMaxToZero: a graphite trigger reads a queue's length from Debian's
// Graphite, behind a proxy that requires basic auth, with the username and password from a
// Secret through a TriggerAuthentication. A point at the activation threshold leaves the workers
// at 0; above it they start; 40 jobs at 5 per worker take the real HPA to the maximum of 4; a
// point of 0 takes them back to 0 after the cooldown.
func TestGraphiteScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	const user, password = "keda", "e2e-graphite-s3cret"
	g := graphiteserver.Start(t, graphiteserver.Options{Username: user, Password: password})
	const metric = "queue.orders.jobs"
	g.Put(t, metric, 1)

	// The operator polls through the proxy, so with the Secret's credentials.
	s.runScalerJourney(t, scalerJourney{
		namespace: "graphite",
		secret:    "graphite-secret",
		auth:      "graphite-auth",
		params: []secretParam{
			{"username", "username", user},
			{"password", "password", password},
		},
		triggerType: "graphite",
		metadata: fmt.Sprintf(`serverAddress: %s
			query: %s
			queryTime: -5min
			threshold: "5"
			activationThreshold: "1"
			authModes: basic`, g.URL, metric),
		metric:       "s0-graphite",
		averageValue: 5,
		set:          func(t *testing.T, n int) { g.Put(t, metric, float64(n)) },
		polls:        func() int { return int(g.Served()) },
		// A point at activationThreshold, above it, and 40 jobs / 5 per worker = 8 workers.
		idle: 1, one: 3, max: 40,
	})
}
