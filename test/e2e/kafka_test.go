package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	kafkaserver "github.com/kedactl/kedactl/test/servers/kafka"
)

// TestKafkaScalesZeroToMaxToZero: a kafka and an apache-kafka trigger on franz-go's kfake broker
// (in this process, on 127.0.0.1), each with SASL/SCRAM credentials from a Secret through a
// TriggerAuthentication, keep a worker at 0 while its consumer group is caught up, activate it on
// the first record, let the real HPA scale it up to the topic's partition count (below
// maxReplicaCount) on a backlog, and return it to 0 after the cooldown once a real consumer group
// has read and committed everything.
func TestKafkaScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	for _, typ := range []string{"kafka", "apache-kafka"} {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			const password = "e2e-kafka-secret"
			srv := kafkaserver.Start(t, kafkaserver.Options{Users: []kafkaserver.User{{Mechanism: kafkaserver.ScramSHA512, Name: "keda", Password: password}}})
			const topic, group, partitions = "jobs", "workers", 3
			if err := srv.CreateTopic(ctx, topic, partitions); err != nil {
				t.Fatal(err)
			}
			// The group starts caught up: offset 0 committed on every partition of the empty
			// topic (without a commit, offsetResetPolicy latest counts each partition as lag 1).
			if err := srv.Commit(ctx, group, topic, map[int32]int64{0: 0, 1: 0, 2: 0}); err != nil {
				t.Fatal(err)
			}
			metric := "s0-kafka-" + topic

			ns := s.newNamespace(t, typ)
			s.apply(t, ns, deployment("worker", 0, nil))
			s.apply(t, ns, fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: kafka-secret
stringData:
  sasl: scram_sha512
  username: keda
  password: %q
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: kafka-auth
spec:
  secretTargetRef:
    - parameter: sasl
      name: kafka-secret
      key: sasl
    - parameter: username
      name: kafka-secret
      key: username
    - parameter: password
      name: kafka-secret
      key: password
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
    - type: %s
      authenticationRef:
        name: kafka-auth
      metadata:
        bootstrapServers: %s
        consumerGroup: %s
        topic: %s
        lagThreshold: "2"
`, password, typ, srv.Bootstrap, group, topic))

			so := s.waitReady(t, ns, "worker", metav1.ConditionTrue)
			if got := so.Status.ExternalMetricNames; len(got) != 1 || got[0] != metric {
				t.Fatalf("status.externalMetricNames = %v, want [%s]", got, metric)
			}
			hpa, err := s.hpa(ctx, ns, "keda-hpa-worker")
			if err != nil {
				t.Fatalf("HPA keda-hpa-worker: %v", err)
			}
			checkHPA(t, hpa, metric)

			// A caught-up group keeps the worker at zero.
			s.holdReplicas(t, ns, "worker", 0, 3*time.Second)

			produce := func(partition int32, n int) {
				t.Helper()
				if err := srv.Produce(ctx, topic, partition, n); err != nil {
					t.Fatal(err)
				}
			}
			// One record activates it.
			produce(0, 1)
			s.waitReplicas(t, ns, "worker", 1, 20*time.Second)
			s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetActivated, "from 0 to 1")
			if v := s.externalMetric(t, ns, metric, "worker"); v != 1 {
				t.Errorf("external metric %s = %d, want 1", metric, v)
			}

			// A backlog of 30 wants 15 replicas at 2 each, but a replica per partition is the most
			// that can consume: the value is capped at 3 x 2, and the real HPA stops at 3, below
			// maxReplicaCount 4.
			produce(0, 9)
			produce(1, 10)
			produce(2, 10)
			s.waitReplicas(t, ns, "worker", partitions, 60*time.Second)
			if v := s.externalMetric(t, ns, metric, "worker"); v != 2*partitions {
				t.Errorf("external metric %s = %d, want %d (capped at one replica per partition)", metric, v, 2*partitions)
			}
			s.holdReplicas(t, ns, "worker", partitions, 3*time.Second)

			// A real consumer of the group reads and commits everything: back to zero after the
			// cooldown.
			if err := srv.Consume(ctx, group, 30, topic); err != nil {
				t.Fatal(err)
			}
			drained := time.Now()
			s.waitReplicas(t, ns, "worker", 0, 30*time.Second)
			checkCooldown(t, drained, 5*time.Second, time.Second)
			s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetDeactivated, fmt.Sprintf("from %d to 0", partitions))
		})
	}
}
