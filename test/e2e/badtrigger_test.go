package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// TestBadTriggerIsReportedNotCrashed: a trigger the operator cannot build gives Ready=False and an
// event that name the field, and the operator keeps serving the other objects.
func TestBadTriggerIsReportedNotCrashed(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	tests := []struct {
		name     string
		trigger  string
		mentions []string
	}{
		{name: "unknown-type", trigger: "    - type: no-such-scaler\n      metadata:\n        foo: bar\n", mentions: []string{"no-such-scaler", "type"}},
		{name: "missing-listname", trigger: "    - type: redis\n      metadata:\n        address: 127.0.0.1:1\n", mentions: []string{"listName"}},
	}
	ns := s.newUnadmittedNamespace(t, "bad")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.apply(t, ns, deployment(tt.name, 0, nil))
			s.apply(t, ns, `apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: `+tt.name+`
spec:
  scaleTargetRef:
    name: `+tt.name+`
  triggers:
`+tt.trigger)
			so := s.waitReady(t, ns, tt.name, metav1.ConditionFalse)
			msg := so.Status.Conditions.Get(kedav1alpha1.ConditionReady).Message
			for _, m := range tt.mentions {
				if !strings.Contains(msg, m) {
					t.Errorf("Ready message %q does not mention %q", msg, m)
				}
			}
			s.waitEvent(t, ns, tt.name, kedav1alpha1.EventScaledObjectCheckFailed, tt.mentions...)
		})
	}
}

// TestUnreachableSourceIsCountedInHealth: a trigger whose source cannot be reached makes Ready
// False with TriggerError (as KEDA's scale loop does), counts failures in status.health, raises a
// KEDAScalerFailed event, and never takes the target down.
func TestUnreachableSourceIsCountedInHealth(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "unreachable")
	s.apply(t, ns, deployment("worker", 2, nil))
	s.apply(t, ns, `apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
spec:
  scaleTargetRef:
    name: worker
  pollingInterval: 1
  cooldownPeriod: 1
  triggers:
    - type: redis
      metadata:
        address: 127.0.0.1:1
        listName: jobs
`)
	// As KEDA's scale loop, a poll that fails with nothing active and no fallback leaves Ready
	// False with TriggerError.
	failing := s.waitReady(t, ns, "worker", metav1.ConditionFalse)
	if c := failing.Status.Conditions.Get(kedav1alpha1.ConditionReady); c.Reason != kedav1alpha1.ReasonTriggerError {
		t.Errorf("Ready is False with %s (%s), want TriggerError", c.Reason, c.Message)
	}
	eventually(t, 30*time.Second, "status.health to count failures", func(ctx context.Context) (bool, string) {
		so, err := s.scaledObject(ctx, ns, "worker")
		if err != nil {
			return false, err.Error()
		}
		h, ok := so.Status.Health["s0-redis-jobs"]
		if !ok || h.NumberOfFailures == nil {
			return false, fmt.Sprintf("%+v", so.Status.Health)
		}
		return h.Status == kedav1alpha1.HealthStatusFailing && *h.NumberOfFailures >= 3, fmt.Sprintf("%+v", h)
	})
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScalerFailed, "s0-redis-jobs", "127.0.0.1:1")
	s.holdReplicas(t, ns, "worker", 2, 3*time.Second)
}
