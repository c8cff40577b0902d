package e2e

import (
	"testing"

	asbserver "github.com/kedactl/kedactl/test/servers/azureservicebus"
)

// TestAzureServiceBusScalesZeroToMaxToZero: an azure-servicebus trigger on the fake of Service
// Bus's management API over TLS (its CA in the operator's --ca-dir), the namespace's connection
// string from a Secret through a TriggerAuthentication (parameter connection, as KEDA documents
// it). Active messages at activationMessageCount leave the workers at 0 (dead-lettered ones never
// count); above it, 0 -> 1; a backlog takes the real HPA to the maximum of 4; back to 0 once
// drained. Every request carried a shared access signature for the queue, signed with the key.
func TestAzureServiceBusScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	const key = "c2VydmljZWJ1cy1lMmUta2V5LWZyb20tYS1zZWNyZXQ="
	srv := asbserver.Start(t, asbserver.Options{TLS: s.serviceBusCA.ServerConfig(),
		Policies: []asbserver.Policy{{Name: "keda-monitor", Key: key, Rights: []string{"Manage", "Listen"}}}})
	set := func(_ *testing.T, n int) { srv.SetQueue("orders", asbserver.Counts{Active: int64(n), DeadLetter: 7}) }
	set(t, 0)
	s.runScalerJourney(t, scalerJourney{
		namespace: "azservicebus", secret: "servicebus-secret", auth: "servicebus-auth",
		params:      []secretParam{{"connection", "connection-string", srv.ConnectionString("keda-monitor")}},
		triggerType: "azure-servicebus",
		metadata: `queueName: orders
			messageCount: "5"
			activationMessageCount: "2"`,
		metric: "s0-azure-servicebus-orders", averageValue: 5,
		set:   set,
		polls: func() int { return len(srv.Requests()) },
		idle:  2, one: 3, max: 60,
	})
	for _, r := range srv.Requests() {
		if r.Path != "/orders" || r.KeyName != "keda-monitor" || r.Audience != "https://"+srv.Host+"/orders" || r.Status != 200 {
			t.Fatalf("request %+v", r)
		}
	}
}
