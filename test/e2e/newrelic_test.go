package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// TestNewRelicScalesZeroToMaxToZero: a new-relic trigger whose user key comes from a Secret
// through a TriggerAuthentication runs its NRQL query on the NerdGraph fake (the operator's
// NEW_RELIC_NERDGRAPH_BASE_URL points there). A count at the activation threshold leaves the
// worker at 0; above it 0 -> 1; a large count takes the real HPA to the maximum of 4; no rows
// (noDataError false: the value is 0) bring it back to 0 after the cooldown.
func TestNewRelicScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	nr := s.newRelic
	// The fake is the suite's: this test's own account and key.
	const (
		key     = "NRAK-e2e-new-relic-user-key"
		account = 3141592
		nrql    = "SELECT count(*) FROM QueueSample WHERE queue = 'orders' SINCE 1 minute ago"
	)
	nr.AddKey(key, account)
	nr.SetCount(account, nrql, 2)
	polls := func() (n int) {
		for _, r := range nr.Requests() {
			if r.AccountID == account && r.Status == 200 {
				n++
			}
		}
		return n
	}

	ns := s.newNamespace(t, "newrelic")
	s.apply(t, ns, deployment("worker", 0, nil))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: new-relic-secret
stringData:
  queryKey: %q
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: new-relic-auth
spec:
  secretTargetRef:
    - parameter: queryKey
      name: new-relic-secret
      key: queryKey
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
    - type: new-relic
      authenticationRef:
        name: new-relic-auth
      metadata:
        account: "%d"
        region: EU
        nrql: %q
        threshold: "5"
        activationThreshold: "2"
`, key, account, nrql))

	const metric = "s0-new-relic"
	so := s.waitReady(t, ns, "worker", metav1.ConditionTrue)
	if got := so.Status.ExternalMetricNames; len(got) != 1 || got[0] != metric {
		t.Fatalf("status.externalMetricNames = %v, want [%s]", got, metric)
	}
	hpa, err := s.hpa(context.Background(), ns, "keda-hpa-worker")
	if err != nil {
		t.Fatalf("HPA keda-hpa-worker: %v", err)
	}
	if len(hpa.Spec.Metrics) != 1 || hpa.Spec.Metrics[0].External == nil || hpa.Spec.Metrics[0].External.Metric.Name != metric ||
		hpa.Spec.Metrics[0].External.Target.Type != autoscalingv2.AverageValueMetricType || hpa.Spec.Metrics[0].External.Target.AverageValue.Value() != 5 {
		t.Fatalf("HPA metrics = %+v, want %s with AverageValue 5", hpa.Spec.Metrics, metric)
	}

	// A count of 2 is not above activationThreshold 2: three polls later the worker is still at 0.
	eventually(t, 30*time.Second, "three polls of the account", func(context.Context) (bool, string) {
		n := polls()
		return n >= 3, fmt.Sprintf("%d polls", n)
	})
	if got, err := s.replicas(context.Background(), ns, "worker"); err != nil || got != 0 {
		t.Fatalf("count 2 at the activation threshold: %d replicas (%v), want 0", got, err)
	}
	if so, err := s.scaledObject(context.Background(), ns, "worker"); err != nil || so.Status.Conditions.IsTrue(kedav1alpha1.ConditionActive) {
		t.Fatalf("count 2 at the activation threshold: the ScaledObject is active (%v)", err)
	}

	// 3 is above it: 0 -> 1.
	nr.SetCount(account, nrql, 3)
	s.waitReplicas(t, ns, "worker", 1, 30*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetActivated, "from 0 to 1")
	if v := s.externalMetric(t, ns, metric, "worker"); v != 3 {
		t.Errorf("external metric %s = %d, want 3", metric, v)
	}

	// 100 / 5 per replica = 20, more than the maximum of 4.
	nr.SetCount(account, nrql, 100)
	s.waitReplicas(t, ns, "worker", 4, 60*time.Second)
	if v := s.externalMetric(t, ns, metric, "worker"); v != 100 {
		t.Errorf("external metric %s = %d, want 100", metric, v)
	}

	// The query finds no rows any more: 0 (noDataError is false), back to 0 after the cooldown.
	nr.SetRows(account, nrql)
	s.waitReplicas(t, ns, "worker", 0, 30*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetDeactivated, "from 4 to 0")

	// Every request of this account carried the key from the Secret, in NerdGraph's Api-Key
	// header, and the trigger's query.
	for _, r := range nr.Requests() {
		if r.AccountID == account && (r.APIKey != key || r.NRQL != nrql || r.Method != "POST" || r.Path != "/graphql" || r.Status != 200) {
			t.Fatalf("request %+v", r)
		}
	}
}
