package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestTransferHPAAdoptsAHandMadeHPA: a ScaledObject meets a hand-made HPA on its target; the
// operator refuses to fight it, `kubectl keda transfer-hpa` adopts it, and the HPA the operator
// had made is not left behind.
func TestTransferHPAAdoptsAHandMadeHPA(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "transfer")
	s.apply(t, ns, deployment("web", 1, nil))
	s.apply(t, ns, deployment("other", 1, nil))
	s.apply(t, ns, `apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: web
spec:
  scaleTargetRef:
    name: web
  minReplicaCount: 1
  triggers:
    - type: cron
      metadata:
        timezone: Etc/UTC
        start: 0 0 1 1 *
        end: 0 1 1 1 *
        desiredReplicas: "2"
`)
	s.waitReady(t, ns, "web", "True")
	eventually(t, 20*time.Second, "keda-hpa-web", func(ctx context.Context) (bool, string) {
		_, err := s.hpa(ctx, ns, "keda-hpa-web")
		return err == nil, fmt.Sprint(err)
	})
	// The hand-made HPAs come after the ScaledObject: the webhook refuses a ScaledObject on a target
	// a foreign HPA already scales (unless it adopts it from the start).
	s.apply(t, ns, foreignHPA("web-hpa", "web"))
	s.apply(t, ns, foreignHPA("other-hpa", "other"))

	if _, _, err := s.kubectlKeda(t, "transfer-hpa", "web", "--hpa", "other-hpa", "-n", ns); err == nil || !strings.Contains(err.Error(), "only an HPA on the same workload") {
		t.Fatalf("adopting an HPA of another workload: %v", err)
	}
	if _, _, err := s.kubectlKeda(t, "transfer-hpa", "web", "--hpa", "nope", "-n", ns); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("adopting a missing HPA: %v", err)
	}
	out, errOut, err := s.kubectlKeda(t, "transfer-hpa", "web", "--hpa", "web-hpa", "-n", ns)
	if err != nil || !strings.Contains(out, "now owns HPA web-hpa") {
		t.Fatalf("transfer-hpa = %q %q (%v)", out, errOut, err)
	}
	h, err := s.hpa(context.Background(), ns, "web-hpa")
	if err != nil {
		t.Fatal(err)
	}
	if owner := metav1.GetControllerOf(h); owner == nil || owner.Kind != "ScaledObject" || owner.Name != "web" {
		t.Errorf("web-hpa owner = %+v", owner)
	}
	if len(h.Spec.Metrics) != 1 || h.Spec.Metrics[0].External == nil {
		t.Errorf("web-hpa metrics were not replaced by the ScaledObject's: %+v", h.Spec.Metrics)
	}
	s.waitGone(t, "the operator's previous HPA keda-hpa-web", func(ctx context.Context) error {
		_, err := s.hpa(ctx, ns, "keda-hpa-web")
		return err
	})
	// Status is written after the old HPA is deleted: wait for it rather than read it once.
	eventually(t, 20*time.Second, "status.hpaName web-hpa", func(ctx context.Context) (bool, string) {
		so, err := s.scaledObject(ctx, ns, "web")
		if err != nil {
			return false, err.Error()
		}
		return so.Status.HpaName == "web-hpa", so.Status.HpaName
	})
}
