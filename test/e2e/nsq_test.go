package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	nsqserver "github.com/kedactl/kedactl/test/servers/nsq"
)

// TestNSQScalesZeroToMaxToZero: an nsq trigger on a real nsqlookupd and two nsqd nodes (nsq
// v1.3.0), for a topic no node has yet (nsqlookupd answers 404: depth 0, the consumers stay at
// 0). NSQ has no credentials, and KEDA's nsq trigger no authentication parameter: plain
// metadata. One message waiting in the topic before any consumer subscribed activates the
// consumers (the first one must start); the channel's depth summed over both nodes takes the
// real HPA to the maximum of 4; once the channel is drained the consumers go back to 0 after the
// cooldown.
func TestNSQScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	srv := nsqserver.Start(t, 2)
	ctx := context.Background()

	ns := s.newNamespace(t, "nsq")
	s.apply(t, ns, deployment("consumer", 0, nil))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: consumer
spec:
  scaleTargetRef:
    name: consumer
  pollingInterval: 1
  cooldownPeriod: 5
  maxReplicaCount: 4
  triggers:
    - type: nsq
      metadata:
        nsqLookupdHTTPAddresses: %s
        topic: orders
        channel: billing
        depthThreshold: "3"
        activationDepthThreshold: "0"
`, srv.LookupdHTTPAddr))

	const metric = "s0-nsq-orders-billing"
	so := s.waitReady(t, ns, "consumer", metav1.ConditionTrue)
	if got := so.Status.ExternalMetricNames; len(got) != 1 || got[0] != metric {
		t.Fatalf("status.externalMetricNames = %v, want [%s]", got, metric)
	}
	hpa, err := s.hpa(ctx, ns, "keda-hpa-consumer")
	if err != nil {
		t.Fatalf("HPA keda-hpa-consumer: %v", err)
	}
	if len(hpa.Spec.Metrics) != 1 || hpa.Spec.Metrics[0].External == nil || hpa.Spec.Metrics[0].External.Metric.Name != metric ||
		hpa.Spec.Metrics[0].External.Target.Type != autoscalingv2.AverageValueMetricType || hpa.Spec.Metrics[0].External.Target.AverageValue.Value() != 3 {
		t.Fatalf("HPA metrics = %+v, want %s with AverageValue 3", hpa.Spec.Metrics, metric)
	}

	// The topic does not exist yet: the trigger is ready and inactive, not failing.
	s.holdReplicas(t, ns, "consumer", 0, 3*time.Second)
	if so, err := s.scaledObject(ctx, ns, "consumer"); err != nil || so.Status.Conditions.IsTrue(kedav1alpha1.ConditionActive) ||
		!so.Status.Conditions.IsTrue(kedav1alpha1.ConditionReady) {
		t.Fatalf("a topic no nsqd has: the ScaledObject is active or not ready (%v): %+v", err, so.Status.Conditions)
	}

	// One message, before any consumer created the channel: it waits in the topic and counts.
	n0, n1 := srv.Nodes[0], srv.Nodes[1]
	if err := n0.Publish(ctx, "orders", 1); err != nil {
		t.Fatal(err)
	}
	s.waitReplicas(t, ns, "consumer", 1, 30*time.Second)
	s.waitEvent(t, ns, "consumer", kedav1alpha1.EventKEDAScaleTargetActivated, "from 0 to 1")

	// The consumer subscribes on both nodes; thirty messages in all (1 + 14 + 15) / 3 per
	// consumer = 10, more than the maximum of 4.
	for _, n := range srv.Nodes {
		if err := n.CreateChannel(ctx, "orders", "billing"); err != nil {
			t.Fatal(err)
		}
	}
	if err := n0.Publish(ctx, "orders", 14); err != nil {
		t.Fatal(err)
	}
	if err := n1.Publish(ctx, "orders", 15); err != nil {
		t.Fatal(err)
	}
	s.waitReplicas(t, ns, "consumer", 4, 60*time.Second)
	eventually(t, 30*time.Second, "the channel's depth over both nodes", func(context.Context) (bool, string) {
		v := s.externalMetric(t, ns, metric, "consumer")
		return v == 30, fmt.Sprintf("external metric %s = %d, want 30", metric, v)
	})

	// The consumers drain the channel: back to 0 after the cooldown.
	for _, n := range srv.Nodes {
		if err := n.EmptyChannel(ctx, "orders", "billing"); err != nil {
			t.Fatal(err)
		}
	}
	s.waitReplicas(t, ns, "consumer", 0, 30*time.Second)
	s.waitEvent(t, ns, "consumer", kedav1alpha1.EventKEDAScaleTargetDeactivated, "from 4 to 0")
}
