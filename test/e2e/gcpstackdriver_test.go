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

// TestGCPStackdriverScalesZeroToMaxToZero: a gcp-stackdriver trigger whose service account key
// comes from a Secret through a TriggerAuthentication (GoogleApplicationCredentials) reads a
// subscription's backlog from the Cloud Monitoring fake (the operator's
// CLOUDSDK_API_ENDPOINT_OVERRIDES_MONITORING points there; the key's token_uri names the fake's
// token endpoint). A backlog at the activation target leaves the worker at 0; above it 0 -> 1;
// a large one takes the real HPA to the maximum of 4; an empty backlog brings it back to 0 after
// the cooldown.
func TestGCPStackdriverScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	gm := s.gcpMonitoring
	// The fake is the suite's: this test's own project and account.
	const (
		project = "e2e-stackdriver"
		metric  = "pubsub.googleapis.com/subscription/num_undelivered_messages"
		filter  = `metric.type="` + metric + `" AND resource.labels.subscription_id="orders"`
	)
	key := gm.NewServiceAccount(project, "keda-e2e")
	backlog := func(n int64) {
		gm.SetGauge(project, metric, "pubsub_subscription", map[string]string{"subscription_id": "orders"}, n)
	}
	backlog(2)
	polls := func() (n int) {
		for _, r := range gm.Requests() {
			if r.Project == project && r.Status == 200 {
				n++
			}
		}
		return n
	}

	ns := s.newNamespace(t, "stackdriver")
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
    - type: gcp-stackdriver
      authenticationRef:
        name: gcp-auth
      metadata:
        projectId: %s
        filter: %q
        targetValue: "5"
        activationTargetValue: "2"
`, key, project, filter))

	const metricName = "s0-gcp-stackdriver-" + project
	so := s.waitReady(t, ns, "worker", metav1.ConditionTrue)
	if got := so.Status.ExternalMetricNames; len(got) != 1 || got[0] != metricName {
		t.Fatalf("status.externalMetricNames = %v, want [%s]", got, metricName)
	}
	hpa, err := s.hpa(context.Background(), ns, "keda-hpa-worker")
	if err != nil {
		t.Fatalf("HPA keda-hpa-worker: %v", err)
	}
	if len(hpa.Spec.Metrics) != 1 || hpa.Spec.Metrics[0].External == nil || hpa.Spec.Metrics[0].External.Metric.Name != metricName ||
		hpa.Spec.Metrics[0].External.Target.Type != autoscalingv2.AverageValueMetricType || hpa.Spec.Metrics[0].External.Target.AverageValue.Value() != 5 {
		t.Fatalf("HPA metrics = %+v, want %s with AverageValue 5", hpa.Spec.Metrics, metricName)
	}

	// A backlog of 2 is not above activationTargetValue 2: three polls later the worker is still at 0.
	eventually(t, 30*time.Second, "three polls of the project", func(context.Context) (bool, string) {
		n := polls()
		return n >= 3, fmt.Sprintf("%d polls", n)
	})
	if got, err := s.replicas(context.Background(), ns, "worker"); err != nil || got != 0 {
		t.Fatalf("backlog 2 at the activation target: %d replicas (%v), want 0", got, err)
	}
	if so, err := s.scaledObject(context.Background(), ns, "worker"); err != nil || so.Status.Conditions.IsTrue(kedav1alpha1.ConditionActive) {
		t.Fatalf("backlog 2 at the activation target: the ScaledObject is active (%v)", err)
	}

	// 3 is above it: 0 -> 1.
	backlog(3)
	s.waitReplicas(t, ns, "worker", 1, 30*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetActivated, "from 0 to 1")
	if v := s.externalMetric(t, ns, metricName, "worker"); v != 3 {
		t.Errorf("external metric %s = %d, want 3", metricName, v)
	}

	// 100 / 5 per replica = 20, more than the maximum of 4.
	backlog(100)
	s.waitReplicas(t, ns, "worker", 4, 60*time.Second)
	if v := s.externalMetric(t, ns, metricName, "worker"); v != 100 {
		t.Errorf("external metric %s = %d, want 100", metricName, v)
	}

	// The backlog is drained: back to 0 after the cooldown.
	backlog(0)
	s.waitReplicas(t, ns, "worker", 0, 30*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetDeactivated, "from 4 to 0")

	// Every request of this project carried a token of the Secret's service account and the
	// trigger's filter restricted to the project, as KEDA words it; the token was fetched once.
	for _, r := range gm.Requests() {
		if r.Project == project && (r.Account != "keda-e2e@"+project+".iam.gserviceaccount.com" || r.Status != 200 ||
			r.Filter != filter+` AND resource.labels.project_id="`+project+`"` || r.Path != "/v3/projects/"+project+"/timeSeries") {
			t.Fatalf("request %+v", r)
		}
	}
	n := 0
	for _, tr := range gm.TokenRequests() {
		if tr.Account == "keda-e2e@"+project+".iam.gserviceaccount.com" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d token requests of the service account, want 1 (the token is reused until it expires)", n)
	}
}
