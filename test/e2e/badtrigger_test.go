package e2e

import (
	"strings"
	"testing"

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
	ns := s.newNamespace(t, "bad")
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
