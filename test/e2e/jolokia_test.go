package e2e

import (
	"fmt"
	"testing"

	jolokiaserver "github.com/kedactl/kedactl/test/servers/jolokia"
)

// TestArtemisQueueScalesZeroToMaxToZero: an artemis-queue trigger on the Jolokia fake of an
// Artemis console, the console's username and password from a Secret through a
// TriggerAuthentication. A queue at activationQueueLength leaves the workers at 0; above it,
// 0 -> 1; a backlog takes the real HPA to the maximum of 4; back to 0 once drained.
func TestArtemisQueueScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	const password = "artemis-e2e-console-password"
	srv := jolokiaserver.Start(t, jolokiaserver.Options{Broker: jolokiaserver.Artemis, Username: "keda", Password: password})
	mbean := jolokiaserver.ArtemisQueue("0.0.0.0", "orders", "orders")
	srv.SetQueue(mbean, 0)
	s.runScalerJourney(t, scalerJourney{
		namespace: "artemis", secret: "artemis-secret", auth: "artemis-auth",
		params:      []secretParam{{"username", "username", "keda"}, {"password", "password", password}},
		triggerType: "artemis-queue",
		metadata: fmt.Sprintf(`managementEndpoint: %q
			brokerName: "0.0.0.0"
			brokerAddress: orders
			queueName: orders
			queueLength: "5"
			activationQueueLength: "2"`, srv.Endpoint),
		metric: "s0-artemis-orders", averageValue: 5,
		set:   func(_ *testing.T, n int) { srv.SetQueue(mbean, int64(n)) },
		polls: func() int { return len(srv.Requests()) },
		idle:  2, one: 3, max: 60,
	})
	for _, r := range srv.Requests() {
		if r.User != "keda" || r.Status != 200 || r.ReadStatus != 200 || r.Origin != "http://"+srv.Endpoint {
			t.Fatalf("request %+v", r)
		}
	}
}

// TestActiveMQScalesZeroToMaxToZero: the same journey for an activemq trigger on the Jolokia fake
// of an ActiveMQ web console.
func TestActiveMQScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	const password = "activemq-e2e-console-password"
	srv := jolokiaserver.Start(t, jolokiaserver.Options{Broker: jolokiaserver.ActiveMQ, Username: "keda", Password: password})
	mbean := jolokiaserver.ActiveMQQueue("localhost", "jobs")
	srv.SetQueue(mbean, 0)
	s.runScalerJourney(t, scalerJourney{
		namespace: "activemq", secret: "activemq-secret", auth: "activemq-auth",
		params:      []secretParam{{"username", "username", "keda"}, {"password", "password", password}},
		triggerType: "activemq",
		metadata: fmt.Sprintf(`managementEndpoint: %q
			brokerName: localhost
			destinationName: jobs
			targetQueueSize: "5"
			activationTargetQueueSize: "2"`, srv.Endpoint),
		metric: "s0-activemq-jobs", averageValue: 5,
		set:   func(_ *testing.T, n int) { srv.SetQueue(mbean, int64(n)) },
		polls: func() int { return len(srv.Requests()) },
		idle:  2, one: 3, max: 60,
	})
	for _, r := range srv.Requests() {
		if r.User != "keda" || r.Status != 200 || r.ReadStatus != 200 || r.Origin != "http://"+srv.Endpoint {
			t.Fatalf("request %+v", r)
		}
	}
}
