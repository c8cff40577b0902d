package e2e

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
