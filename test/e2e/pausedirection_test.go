package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// hpaSelectPolicy is the selectPolicy of the scale-up (up) or scale-down rules of an HPA, "" when
// it has none.
func (s *suite) hpaSelectPolicy(ctx context.Context, ns, name string, up bool) autoscalingv2.ScalingPolicySelect {
	h, err := s.hpa(ctx, ns, name)
	if err != nil || h.Spec.Behavior == nil {
		return ""
	}
	rules := h.Spec.Behavior.ScaleDown
	if up {
		rules = h.Spec.Behavior.ScaleUp
	}
	if rules == nil || rules.SelectPolicy == nil {
		return ""
	}
	return *rules.SelectPolicy
}

func (s *suite) waitSelectPolicyDisabled(t *testing.T, ns, hpa string, up bool) {
	t.Helper()
	what := "scaleDown"
	if up {
		what = "scaleUp"
	}
	eventually(t, 30*time.Second, "HPA "+what+" disabled", func(ctx context.Context) (bool, string) {
		p := s.hpaSelectPolicy(ctx, ns, hpa, up)
		return p == autoscalingv2.DisabledPolicySelect, fmt.Sprintf("%s.selectPolicy %q", what, p)
	})
}

// TestPauseScaleIn is KEDA's pause_scale_in: a ScaledObject created with
// autoscaling.keda.sh/paused-scale-in keeps its target at 2 replicas although its source is empty
// and cooldownPeriod is 0 (neither deactivation nor the HPA scales it in). Beyond KEDA's scenario:
// the HPA's scale-down is disabled, and scale-out still works.
func TestPauseScaleIn(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "pausein")
	s.apply(t, ns, deployment("monitored", 0, nil))
	s.apply(t, ns, deployment("worker", 2, nil))
	s.apply(t, ns, workloadScaledObject("worker", "monitored", "    autoscaling.keda.sh/paused-scale-in: \"true\"\n",
		"  minReplicaCount: 0\n  maxReplicaCount: 3\n  cooldownPeriod: 0\n"))
	s.waitReady(t, ns, "worker", metav1.ConditionTrue)
	s.waitSelectPolicyDisabled(t, ns, "keda-hpa-worker", false)
	s.holdReplicas(t, ns, "worker", 2, 10*time.Second)

	s.scaleDeployment(t, ns, "monitored", 3)
	s.waitReplicas(t, ns, "worker", 3, 60*time.Second)
	s.scaleDeployment(t, ns, "monitored", 0)
	s.holdReplicas(t, ns, "worker", 3, 8*time.Second)
}

// TestPauseScaleInRestore is KEDA's pause_scale_in_restore: the target held at 2 by
// paused-scale-in goes to 0 once the annotation is dropped from the manifest (an apply of the
// object without it), and the object's other annotations stay.
func TestPauseScaleInRestore(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "pauseinrestore")
	s.apply(t, ns, deployment("monitored", 0, nil))
	s.apply(t, ns, deployment("worker", 2, nil))
	spec := "  minReplicaCount: 0\n  maxReplicaCount: 10\n  cooldownPeriod: 0\n"
	s.apply(t, ns, workloadScaledObject("worker", "monitored",
		"    autoscaling.keda.sh/paused-scale-in: \"true\"\n    test-annotation: preserve-this\n", spec))
	s.waitReady(t, ns, "worker", metav1.ConditionTrue)
	s.holdReplicas(t, ns, "worker", 2, 10*time.Second)

	s.apply(t, ns, workloadScaledObject("worker", "monitored", "    test-annotation: preserve-this\n", spec))
	s.waitReplicas(t, ns, "worker", 0, 60*time.Second)
	so, err := s.scaledObject(context.Background(), ns, "worker")
	if err != nil {
		t.Fatal(err)
	}
	if _, paused := so.Annotations["autoscaling.keda.sh/paused-scale-in"]; paused || so.Annotations["test-annotation"] != "preserve-this" {
		t.Errorf("annotations after the apply without the pause: %v", so.Annotations)
	}
}

// TestPauseScaleOut is KEDA's pause_scale_out: a ScaledObject created with
// autoscaling.keda.sh/paused-scale-out keeps its target at 0 although its source asks for 5
// (neither activation nor the HPA scales it out). Beyond KEDA's scenario: the HPA's scale-up is
// disabled, scale-in still works, and lifting the annotation lets the target scale out.
func TestPauseScaleOut(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "pauseout")
	s.apply(t, ns, deployment("monitored", 5, nil))
	s.apply(t, ns, deployment("worker", 0, nil))
	s.apply(t, ns, workloadScaledObject("worker", "monitored", "    autoscaling.keda.sh/paused-scale-out: \"true\"\n",
		"  minReplicaCount: 0\n  maxReplicaCount: 5\n  cooldownPeriod: 0\n"))
	s.waitReady(t, ns, "worker", metav1.ConditionTrue)
	s.waitSelectPolicyDisabled(t, ns, "keda-hpa-worker", true)
	s.holdReplicas(t, ns, "worker", 0, 10*time.Second)

	// Scale-in still works: with the source drained, a target scaled up by hand is deactivated.
	s.scaleDeployment(t, ns, "monitored", 0)
	s.scaleDeployment(t, ns, "worker", 2)
	s.waitReplicas(t, ns, "worker", 0, 60*time.Second)

	s.scaleDeployment(t, ns, "monitored", 5)
	s.annotate(t, ns, "worker", map[string]*string{"autoscaling.keda.sh/paused-scale-out": unset})
	s.waitReplicas(t, ns, "worker", 5, 60*time.Second)
}
