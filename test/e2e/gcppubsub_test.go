package e2e

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// TestGCPPubSubScalesZeroToMaxToZero: a gcp-pubsub trigger naming its subscription with the
// project (projects/<p>/subscriptions/<s>), the service account key from a Secret through a
// TriggerAuthentication, runs KEDA's MQL query for the undelivered messages on the suite's Cloud
// Monitoring fake: 0 -> 1 -> 4 -> 0 as the backlog grows and drains.
func TestGCPPubSubScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	gm := s.gcpMonitoring
	const (
		project = "e2e-pubsub"
		metric  = "pubsub.googleapis.com/subscription/num_undelivered_messages"
	)
	key := gm.NewServiceAccount(project, "keda-e2e")
	backlog := func(n int64) {
		gm.SetGauge(project, metric, "pubsub_subscription", map[string]string{"subscription_id": "orders"}, n)
	}
	backlog(0)

	ns := s.newNamespace(t, "pubsub")
	s.apply(t, ns, deployment("worker", 0, nil))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: gcp-secret
stringData:
  GOOGLE_APPLICATION_CREDENTIALS_JSON: %q
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: gcp-auth
spec:
  secretTargetRef:
    - parameter: GoogleApplicationCredentials
      name: gcp-secret
      key: GOOGLE_APPLICATION_CREDENTIALS_JSON
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
    - type: gcp-pubsub
      authenticationRef:
        name: gcp-auth
      metadata:
        subscriptionName: projects/%s/subscriptions/orders
        value: "5"
`, key, project))

	const metricName = "s0-gcp-ps-projects-" + project + "-subscriptions-orders"
	so := s.waitReady(t, ns, "worker", metav1.ConditionTrue)
	if got := so.Status.ExternalMetricNames; len(got) != 1 || got[0] != metricName {
		t.Fatalf("status.externalMetricNames = %v, want [%s]", got, metricName)
	}

	backlog(3)
	s.waitReplicas(t, ns, "worker", 1, 30*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetActivated, "from 0 to 1")

	backlog(100)
	s.waitReplicas(t, ns, "worker", 4, 60*time.Second)
	if v := s.externalMetric(t, ns, metricName, "worker"); v != 100 {
		t.Errorf("external metric %s = %d, want 100", metricName, v)
	}

	backlog(0)
	s.waitReplicas(t, ns, "worker", 0, 30*time.Second)

	want := "fetch pubsub_subscription | metric '" + metric + "' | filter (resource.project_id == '" + project + "' && resource.subscription_id == 'orders') | within 2m0s"
	for _, r := range gm.Requests() {
		if r.Project == project && (r.Status != 200 || r.Query != want || r.Account != "keda-e2e@"+project+".iam.gserviceaccount.com") {
			t.Fatalf("request %+v", r)
		}
	}

}
