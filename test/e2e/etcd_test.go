package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	etcdserver "github.com/kedactl/kedactl/test/servers/etcd"
)

// TestEtcdScalesZeroToMaxToZero: an etcd trigger on a member of its own with authentication on
// (not the cluster's etcd), logging in as a user that may read /queues/ only, with the username and
// password from a Secret through a TriggerAuthentication. A value at activationValue leaves the
// workload at 0; above it, 0 -> 1; a value ten times the target takes the real HPA to the maximum
// of 4; back to 0 after the cooldown once the value is 0 again.
func TestEtcdScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ctx := context.Background()
	const password = "e2e-etcd-reader-password"
	srv := etcdserver.Start(t, etcdserver.Options{RootPassword: "e2e-etcd-root-password"})
	if err := srv.AddReader(ctx, "keda", password, "/queues/"); err != nil {
		t.Fatal(err)
	}
	put := func(v string) {
		t.Helper()
		if err := srv.Put(ctx, "/queues/jobs", v); err != nil {
			t.Fatal(err)
		}
	}
	put("1")

	ns := s.newNamespace(t, "etcd")
	s.apply(t, ns, deployment("worker", 0, nil))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: etcd-secret
stringData:
  username: keda
  password: %q
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: etcd-auth
spec:
  secretTargetRef:
    - parameter: username
      name: etcd-secret
      key: username
    - parameter: password
      name: etcd-secret
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
    - type: etcd
      authenticationRef:
        name: etcd-auth
      metadata:
        endpoints: %s
        watchKey: /queues/jobs
        value: "2"
        activationValue: "1"
`, password, srv.Endpoint))

	const metric = "s0-etcd--queues-jobs"
	so := s.waitReady(t, ns, "worker", metav1.ConditionTrue)
	if got := so.Status.ExternalMetricNames; len(got) != 1 || got[0] != metric {
		t.Fatalf("status.externalMetricNames = %v, want [%s]", got, metric)
	}
	hpa, err := s.hpa(ctx, ns, "keda-hpa-worker")
	if err != nil {
		t.Fatalf("HPA keda-hpa-worker: %v", err)
	}
	if len(hpa.Spec.Metrics) != 1 || hpa.Spec.Metrics[0].External == nil || hpa.Spec.Metrics[0].External.Metric.Name != metric ||
		hpa.Spec.Metrics[0].External.Target.Type != autoscalingv2.AverageValueMetricType || hpa.Spec.Metrics[0].External.Target.AverageValue.Value() != 2 {
		t.Fatalf("HPA metrics = %+v, want %s with AverageValue 2", hpa.Spec.Metrics, metric)
	}

	// 1 is not above activationValue 1: the workload stays at 0 while the operator polls.
	s.holdReplicas(t, ns, "worker", 0, 5*time.Second)
	if so, err := s.scaledObject(ctx, ns, "worker"); err != nil || so.Status.Conditions.IsTrue(kedav1alpha1.ConditionActive) {
		t.Fatalf("value 1 at activationValue 1: the ScaledObject is active (%v)", err)
	}

	// 2 is above it: 0 -> 1.
	put("2")
	s.waitReplicas(t, ns, "worker", 1, 30*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetActivated, "from 0 to 1")
	if v := s.externalMetric(t, ns, metric, "worker"); v != 2 {
		t.Errorf("external metric %s = %d, want 2", metric, v)
	}

	// 20 / 2 per replica = 10, more than the maximum of 4.
	put("20")
	s.waitReplicas(t, ns, "worker", 4, 60*time.Second)
	if v := s.externalMetric(t, ns, metric, "worker"); v != 20 {
		t.Errorf("external metric %s = %d, want 20", metric, v)
	}

	// Drained: back to 0 after the cooldown.
	put("0")
	s.waitReplicas(t, ns, "worker", 0, 30*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetDeactivated, "from 4 to 0")
}
