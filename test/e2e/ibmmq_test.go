package e2e

import (
	"fmt"
	"testing"

	ibmmqserver "github.com/kedactl/kedactl/test/servers/ibmmq"
)

// TestIBMMQScalesZeroToMaxToZero: an ibmmq trigger on the fake of IBM MQ's administrative REST
// API over TLS, the username, password and the server's CA from a Secret through a
// TriggerAuthentication. A depth at activationQueueDepth leaves the workers at 0; above it,
// 0 -> 1; a backlog takes the real HPA to the maximum of 4; back to 0 once drained.
func TestIBMMQScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	const password = "ibmmq-e2e-app-password"
	srv := ibmmqserver.Start(t, ibmmqserver.Options{Username: "app", Password: password})
	srv.SetDepth("DEV.QUEUE.1", 0)
	s.runScalerJourney(t, scalerJourney{
		namespace: "ibmmq", secret: "ibmmq-secret", auth: "ibmmq-auth",
		params:      []secretParam{{"username", "username", "app"}, {"password", "password", password}, {"ca", "ca.crt", srv.CertPEM}},
		triggerType: "ibmmq",
		metadata: fmt.Sprintf(`host: %q
			queueName: DEV.QUEUE.1
			queueDepth: "5"
			activationQueueDepth: "2"`, srv.MQSC),
		metric: "s0-ibmmq-DEV-QUEUE-1", averageValue: 5,
		set:   func(_ *testing.T, n int) { srv.SetDepth("DEV.QUEUE.1", int64(n)) },
		polls: func() int { return len(srv.Requests()) },
		idle:  2, one: 3, max: 60,
	})
	for _, r := range srv.Requests() {
		if r.User != "app" || r.Status != 200 || r.CSRFToken == "" || r.Command.Name != "DEV.QUEUE.1" {
			t.Fatalf("request %+v", r)
		}
	}
}
