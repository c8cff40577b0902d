package e2e

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
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

	const metric = "s0-nats-jetstream-orders"
	so := s.waitReady(t, ns, "worker", metav1.ConditionTrue)
	if got := so.Status.ExternalMetricNames; len(got) != 1 || got[0] != metric {
		t.Fatalf("status.externalMetricNames = %v, want [%s]", got, metric)
	}
	hpa, err := s.hpa(context.Background(), ns, "keda-hpa-worker")
	if err != nil {
		t.Fatalf("HPA keda-hpa-worker: %v", err)
	}
	checkHPA(t, hpa, metric)

	// No lag keeps the worker at zero.
	s.holdReplicas(t, ns, "worker", 0, 3*time.Second)

	// One message activates it.
	publish(1)
	s.waitReplicas(t, ns, "worker", 1, 20*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetActivated, "from 0 to 1")
	if v := s.externalMetric(t, ns, metric, "worker"); v != 1 {
		t.Errorf("external metric %s = %d, want 1", metric, v)
	}

	// A backlog makes the real HPA scale it to max (20 messages / lagThreshold 2 = 10 > max 4).
	publish(19)
	s.waitReplicas(t, ns, "worker", 4, 60*time.Second)
	if v := s.externalMetric(t, ns, metric, "worker"); v != 20 {
		t.Errorf("external metric %s = %d, want 20", metric, v)
	}

	// The pull consumer fetches and acknowledges everything: the lag is gone and the worker
	// returns to zero after the cooldown.
	for done := 0; done < 20; {
		msgs, err := sub.Fetch(20-done, natsgo.MaxWait(5*time.Second))
		if err != nil {
			t.Fatalf("fetched %d of 20: %v", done, err)
		}
		for _, m := range msgs {
			if err := m.AckSync(); err != nil {
				t.Fatal(err)
			}
		}
		done += len(msgs)
	}
	drained := time.Now()
	s.waitReplicas(t, ns, "worker", 0, 30*time.Second)
	checkCooldown(t, drained, 5*time.Second, 2*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetDeactivated, "from 4 to 0")
}
