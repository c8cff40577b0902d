package e2e

import (
	"fmt"
	"testing"

	pulsarserver "github.com/kedactl/kedactl/test/servers/pulsar"
)

// TestPulsarScalesZeroToMaxToZero: a pulsar trigger on the fake of Pulsar's admin API (a
// partitioned topic, token authentication, the broker redirecting to the topic's owner), with
// the bearer token from a Secret through a TriggerAuthentication. A backlog at
// activationMsgBacklogThreshold leaves the workers at 0; above it, 0 -> 1; a backlog takes the
// real HPA to the maximum of 4; back to 0 once the subscription has caught up, after the
// cooldown.
func TestPulsarScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	const (
		token = "e2e-pulsar-token"
		topic = "public/default/orders"
	)
	pulsar := pulsarserver.Start(t, pulsarserver.Options{Tokens: []string{token}, Redirect: true})
	pulsar.CreateTopic(topic, 3, "workers", "audit")
	// Another subscription's backlog never counts.
	pulsar.SetBacklog(topic, "audit", 500)

	s.runScalerJourney(t, scalerJourney{
		namespace:   "pulsar",
		secret:      "pulsar-secret",
		auth:        "pulsar-auth",
		params:      []secretParam{{"bearerToken", "token", token}},
		triggerType: "pulsar",
		metadata: fmt.Sprintf(`adminURL: %s
			topic: persistent://%s
			subscription: workers
			isPartitionedTopic: "true"
			msgBacklogThreshold: "5"
			activationMsgBacklogThreshold: "2"
			authModes: bearer`, pulsar.URL, topic),
		metric:       "s0-pulsar-persistent---public-default-orders-workers",
		averageValue: 5,
		set:          func(_ *testing.T, n int) { pulsar.SetBacklog(topic, "workers", int64(n)) },
		polls:        func() int { return len(pulsar.Requests()) },
		idle:         2, one: 3, max: 60,
	})

	// Every answered request carried the token from the Secret, named as a token.
	for _, r := range pulsar.Requests() {
		if r.Status == 307 {
			continue
		}
		if r.Status != 200 || r.Provider != "token" || r.AuthMethod != "token" || r.Path != "/admin/v2/persistent/"+topic+"/partitioned-stats" {
			t.Fatalf("request %+v", r)
		}
	}
}
