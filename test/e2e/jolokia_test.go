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
	runJolokiaJourney(t, jolokiaserver.Artemis, "artemis-queue", "s0-artemis-orders", jolokiaserver.ArtemisQueue("0.0.0.0", "orders", "orders"),
		`brokerName: "0.0.0.0"
			brokerAddress: orders
			queueName: orders
			queueLength: "5"
			activationQueueLength: "2"`)
}

// TestActiveMQScalesZeroToMaxToZero: the same journey for an activemq trigger on the Jolokia fake
// of an ActiveMQ web console.
func TestActiveMQScalesZeroToMaxToZero(t *testing.T) {
	runJolokiaJourney(t, jolokiaserver.ActiveMQ, "activemq", "s0-activemq-jobs", jolokiaserver.ActiveMQQueue("localhost", "jobs"),
		`brokerName: localhost
			destinationName: jobs
			targetQueueSize: "5"
			activationTargetQueueSize: "2"`)
}

// runJolokiaJourney walks the scaler journey of a trigger reading mbean's size from a Jolokia
// fake of broker's console; metadata is the trigger's, but for managementEndpoint. Every read
// carried the Secret's credentials and KEDA's default Origin.
func runJolokiaJourney(t *testing.T, broker, triggerType, metric, mbean, metadata string) {
	s := requireSuite(t)
	t.Parallel()
	password := triggerType + "-e2e-console-password"
	srv := jolokiaserver.Start(t, jolokiaserver.Options{Broker: broker, Username: "keda", Password: password})
	srv.SetQueue(mbean, 0)
	s.runScalerJourney(t, scalerJourney{
		namespace: triggerType, secret: triggerType + "-secret", auth: triggerType + "-auth",
		params:      []secretParam{{"username", "username", "keda"}, {"password", "password", password}},
		triggerType: triggerType,
		metadata:    fmt.Sprintf("managementEndpoint: %q\n\t\t\t%s", srv.Endpoint, metadata),
		metric:      metric, averageValue: 5,
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
