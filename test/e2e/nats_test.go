package e2e

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"

	natsserver "github.com/kedactl/kedactl/test/servers/nats"
)

// TestNATSJetStreamScalesZeroToMaxToZero: a nats-jetstream trigger on a real nats-server, with
// the monitoring endpoint and account from a Secret through a TriggerAuthentication, keeps a
// worker at 0 while its pull consumer has no lag, activates it on the first published message,
// lets the real HPA scale it to max on a backlog and returns it to 0 after the cooldown once a
// pull consumer has fetched and acknowledged every message.
func TestNATSJetStreamScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	srv := natsserver.Start(t)
	nc, err := natsgo.Connect(srv.URL, natsgo.Timeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := nc.JetStream(natsgo.MaxWait(10 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.AddStream(&natsgo.StreamConfig{Name: "orders", Subjects: []string{"orders.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.AddConsumer("orders", &natsgo.ConsumerConfig{Durable: "workers", AckPolicy: natsgo.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}
	sub, err := js.PullSubscribe("orders.>", "workers", natsgo.Bind("orders", "workers"))
	if err != nil {
		t.Fatal(err)
	}
	publish := func(n int) {
		t.Helper()
		for i := range n {
			if _, err := js.Publish("orders.new", []byte(strconv.Itoa(i))); err != nil {
				t.Fatal(err)
			}
		}
	}

	ns := s.newNamespace(t, "nats")
	s.apply(t, ns, deployment("worker", 0, nil))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: nats-secret
stringData:
  natsServerMonitoringEndpoint: %q
  account: $G
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: nats-auth
spec:
  secretTargetRef:
    - parameter: natsServerMonitoringEndpoint
      name: nats-secret
      key: natsServerMonitoringEndpoint
    - parameter: account
      name: nats-secret
      key: account
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
spec:
  scaleTargetRef:
    name: worker
  pollingInterval: 1
  cooldownPeriod: 5
  maxReplicaCount: 4
  triggers:
    - type: nats-jetstream
      authenticationRef:
        name: nats-auth
      metadata:
        stream: orders
        consumer: workers
        lagThreshold: "2"
`, srv.MonitoringAddr))

	published := 0
	fill := func(total int) {
		publish(total - published)
		published = total
	}
	// The pull consumer fetches and acknowledges everything: the lag is gone.
	drain := func() {
		for done := 0; done < published; {
			msgs, err := sub.Fetch(published-done, natsgo.MaxWait(5*time.Second))
			if err != nil {
				t.Fatalf("fetched %d of %d: %v", done, published, err)
			}
			for _, m := range msgs {
				if err := m.AckSync(); err != nil {
					t.Fatal(err)
				}
			}
			done += len(msgs)
		}
	}
	s.walkZeroToMaxToZero(t, ns, journey{metric: "s0-nats-jetstream-orders", fill: fill, drain: drain, slack: 2 * time.Second})
}
