package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// TestResourceTriggerWithoutRequestsIsNotReady: where the webhook does not look (or the target
// changed after admission), the controller refuses a cpu trigger whose containers request no cpu
// with the same words, in the Ready condition.
func TestResourceTriggerWithoutRequestsIsNotReady(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newUnadmittedNamespace(t, "norequests")
	s.apply(t, ns, deployment("worker", 1, nil))
	s.apply(t, ns, `apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
spec:
  scaleTargetRef:
    name: worker
  minReplicaCount: 1
  triggers:
    - type: cpu
      metricType: Utilization
      metadata:
        value: "50"
`)
	so := s.waitReady(t, ns, "worker", metav1.ConditionFalse)
	c := so.Status.Conditions.Get(kedav1alpha1.ConditionReady)
	for _, w := range []string{`container "worker" of Deployment ` + ns + `/worker has no cpu request`, "resources.requests.cpu"} {
		if !strings.Contains(c.Message, w) {
			t.Errorf("Ready message %q lacks %q", c.Message, w)
		}
	}
}

// resourceCase is one run of a cpu or memory trigger against the real HPA reading the real
// metrics-server, which scrapes the usage kwok emulates from the pods' annotations.
type resourceCase struct {
	resource   string // cpu or memory
	metricType string // Utilization or AverageValue
	value      string // the trigger's value
	request    string // the container's request of resource
	// low and high are the per-pod usages set through the pod template's annotation; high must
	// ask the HPA for maxReplicaCount (4), low for one replica.
	low, high string
}

// run scales the worker 0 -> 1 with the gate (a kubernetes-workload trigger counting the kwok pods
// of another Deployment, so that the target may go to zero), -> 4 when usage rises, -> 1 when it
// falls, -> 0 when the gate closes.
func (rc resourceCase) run(t *testing.T, s *suite) {
	ns := s.newNamespace(t, rc.resource)
	s.apply(t, ns, labelledDeployment("gate", 0, "app: gate"))
	s.apply(t, ns, usageDeployment("worker", rc.resource, rc.request, rc.low))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
spec:
  scaleTargetRef:
    name: worker
  pollingInterval: 1
  cooldownPeriod: 2
  maxReplicaCount: 4
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        scaleDown:
          stabilizationWindowSeconds: 0
  triggers:
    - type: %s
      metricType: %s
      metadata:
        value: %q
    - type: kubernetes-workload
      metadata:
        podSelector: app=gate
        value: "1000"
`, rc.resource, rc.metricType, rc.value))
	so := s.waitReady(t, ns, "worker", metav1.ConditionTrue)
	if len(so.Status.ResourceMetricNames) != 1 || so.Status.ResourceMetricNames[0] != rc.resource {
		t.Errorf("status.resourceMetricNames = %v, want [%s]", so.Status.ResourceMetricNames, rc.resource)
	}
	s.holdReplicas(t, ns, "worker", 0, 3*time.Second)

	s.scaleDeployment(t, ns, "gate", 1)
	s.waitReplicas(t, ns, "worker", 1, 30*time.Second)
	s.waitResourceMetric(t, ns, "worker", rc.resource)

	s.setUsage(t, ns, "worker", rc.resource, rc.high)
	s.waitReplicas(t, ns, "worker", 4, 3*time.Minute)
	s.setUsage(t, ns, "worker", rc.resource, rc.low)
	s.waitReplicas(t, ns, "worker", 1, 3*time.Minute)

	s.scaleDeployment(t, ns, "gate", 0)
	s.waitReplicas(t, ns, "worker", 0, 60*time.Second)
}

// TestCPUTriggerScalesOnUtilization: a cpu trigger (Utilization 50 of a 100m request) beside a
// trigger that lets the worker go to zero.
func TestCPUTriggerScalesOnUtilization(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	resourceCase{resource: "cpu", metricType: "Utilization", value: "50", request: "100m", low: "20m", high: "300m"}.run(t, s)
}

// TestMemoryTriggerScalesOnAverageValue: a memory trigger (AverageValue 100Mi per pod).
func TestMemoryTriggerScalesOnAverageValue(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	resourceCase{resource: "memory", metricType: "AverageValue", value: "100Mi", request: "64Mi", low: "40Mi", high: "400Mi"}.run(t, s)
}

// usageDeployment is a Deployment with no replicas whose container requests resource and whose
// pods report usage of it through kwok.
func usageDeployment(name, res, request, usage string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
spec:
  replicas: 0
  selector:
    matchLabels:
      app: %[1]s
  template:
    metadata:
      labels:
        app: %[1]s
      annotations:
        kwok.x-k8s.io/usage-%[2]s: %[4]q
    spec:
      containers:
        - name: app
          image: example.com/app:1.0
          resources:
            requests:
              %[2]s: %[3]s
`, name, res, request, usage)
}

// setUsage changes the usage the worker's pods report: a new pod template, rolled out by the
// Deployment controller.
func (s *suite) setUsage(t *testing.T, ns, name, res, usage string) {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{%q:%q}}}}}`, "kwok.x-k8s.io/usage-"+res, usage)
	if _, err := s.env.Kube.AppsV1().Deployments(ns).Patch(context.Background(), name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatalf("failed to set the %s usage of %s/%s: %v", res, ns, name, err)
	}
}

func (s *suite) scaleDeployment(t *testing.T, ns, name string, n int32) {
	t.Helper()
	// The Deployment controller writes the object too (its status, right after a create): a
	// conflict is read again and retried, as kubectl scale does.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		sc, err := s.env.Kube.AppsV1().Deployments(ns).GetScale(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		sc.Spec.Replicas = n
		_, err = s.env.Kube.AppsV1().Deployments(ns).UpdateScale(context.Background(), name, sc, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// waitResourceMetric waits until the HPA reads the Resource metric from metrics.k8s.io.
func (s *suite) waitResourceMetric(t *testing.T, ns, so, res string) {
	t.Helper()
	eventually(t, 2*time.Minute, "the HPA reading "+res+" from metrics.k8s.io", func(ctx context.Context) (bool, string) {
		h, err := s.hpa(ctx, ns, "keda-hpa-"+so)
		if err != nil {
			return false, err.Error()
		}
		for _, m := range h.Status.CurrentMetrics {
			if m.Resource != nil && string(m.Resource.Name) == res {
				return true, ""
			}
		}
		return false, s.describeHPAs(ctx, ns)
	})
}
