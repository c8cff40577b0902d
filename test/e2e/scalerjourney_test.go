package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// scalerJourney is the e2e path of a scaler with an activation threshold: a Deployment at 0
// replicas, the source's credentials (if it takes any) in a Secret read through a
// TriggerAuthentication, a ScaledObject (pollingInterval 1, cooldownPeriod 5) with one trigger on
// it; then, with the source at the threshold the target stays at 0 while the operator polls, one
// value above it activates the target (0 -> 1), a backlog takes the real HPA to the maximum, and
// the drained source returns it to 0 after the cooldown. (journey, in journey_test.go, is the
// older walk of the sources without an activation threshold, on objects the test applies itself.)
type scalerJourney struct {
	// namespace is the prefix of the test's namespace.
	namespace string
	// target names the Deployment and the ScaledObject ("worker" when empty).
	target string
	// secret and auth name the Secret and the TriggerAuthentication holding params; with no
	// params there are neither, and the trigger has no authenticationRef.
	secret, auth string
	params       []secretParam
	// triggerType is the trigger's type; metadata its metadata, one "key: value" a line.
	triggerType, metadata string
	// maxReplicas is the ScaledObject's maxReplicaCount (4 when 0).
	maxReplicas int
	// metric is the external metric's name; averageValue the HPA's target per replica.
	metric       string
	averageValue int64

	// set makes the source report n.
	set func(t *testing.T, n int)
	// idle is the value at the activation threshold (not set when 0: the source starts empty);
	// one the first value above it; max a value that asks for more than maxReplicas.
	idle, one, max int
	// polls counts the source's requests: the idle step waits for three more. Without it the
	// idle step holds the target at 0 for idleHold; with neither there is no idle step.
	polls    func() int
	idleHold time.Duration
	// atOne runs in ns at one replica, before the metric is read (steps and checks of the
	// source's own).
	atOne func(t *testing.T, ns string)
	// maxSettles: the metric reaches max within a few polls after the target reached the
	// maximum (a source read from several nodes) instead of being there already.
	maxSettles bool
	// drain empties the source (set(0) when nil).
	drain func(t *testing.T)
}

// secretParam is one TriggerAuthentication parameter read from the Secret's key.
type secretParam struct{ param, key, value string }

// objects is the YAML of the Deployment, the Secret, the TriggerAuthentication and the ScaledObject.
func (j *scalerJourney) objects() string {
	var b strings.Builder
	b.WriteString(deployment(j.target, 0, nil))
	authRef := ""
	if len(j.params) > 0 {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\nstringData:\n", j.secret)
		for _, p := range j.params {
			fmt.Fprintf(&b, "  %s: %q\n", p.key, p.value)
		}
		fmt.Fprintf(&b, "---\napiVersion: keda.sh/v1alpha1\nkind: TriggerAuthentication\nmetadata:\n  name: %s\nspec:\n  secretTargetRef:\n", j.auth)
		for _, p := range j.params {
			fmt.Fprintf(&b, "    - parameter: %s\n      name: %s\n      key: %s\n", p.param, j.secret, p.key)
		}
		authRef = fmt.Sprintf("      authenticationRef:\n        name: %s\n", j.auth)
	}
	fmt.Fprintf(&b, `---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: %s
spec:
  scaleTargetRef:
    name: %s
  pollingInterval: 1
  cooldownPeriod: 5
  maxReplicaCount: %d
  triggers:
    - type: %s
%s      metadata:
`, j.target, j.target, j.maxReplicas, j.triggerType, authRef)
	for _, line := range strings.Split(strings.TrimSpace(j.metadata), "\n") {
		fmt.Fprintf(&b, "        %s\n", strings.TrimSpace(line))
	}
	return b.String()
}

// runScalerJourney creates the objects in a new namespace, walks the journey and returns the namespace.
func (s *suite) runScalerJourney(t *testing.T, j scalerJourney) string {
	t.Helper()
	if j.target == "" {
		j.target = "worker"
	}
	if j.maxReplicas == 0 {
		j.maxReplicas = 4
	}
	if j.drain == nil {
		j.drain = func(t *testing.T) { j.set(t, 0) }
	}
	ctx := context.Background()
	ns := s.newNamespace(t, j.namespace)
	s.apply(t, ns, j.objects())

	so := s.waitReady(t, ns, j.target, metav1.ConditionTrue)
	if got := so.Status.ExternalMetricNames; len(got) != 1 || got[0] != j.metric {
		t.Fatalf("status.externalMetricNames = %v, want [%s]", got, j.metric)
	}
	hpaName := "keda-hpa-" + j.target
	hpa, err := s.hpa(ctx, ns, hpaName)
	if err != nil {
		t.Fatalf("HPA %s: %v", hpaName, err)
	}
	if m := hpa.Spec.Metrics; len(m) != 1 || m[0].External == nil || m[0].External.Metric.Name != j.metric ||
		m[0].External.Target.Type != autoscalingv2.AverageValueMetricType || m[0].External.Target.AverageValue.Value() != j.averageValue {
		t.Fatalf("HPA metrics = %+v, want %s with AverageValue %d", m, j.metric, j.averageValue)
	}

	// At the activation threshold (or with the source empty): not above it, so the target
	// stays at 0 while the operator polls.
	if j.idle != 0 {
		j.set(t, j.idle)
	}
	switch {
	case j.polls != nil:
		before := j.polls()
		eventually(t, 30*time.Second, fmt.Sprintf("three polls that saw the value %d", j.idle), func(context.Context) (bool, string) {
			n := j.polls() - before
			return n >= 3, fmt.Sprintf("%d polls", n)
		})
	case j.idleHold > 0:
		s.holdReplicas(t, ns, j.target, 0, j.idleHold)
	}
	if j.polls != nil || j.idleHold > 0 {
		if got, err := s.replicas(ctx, ns, j.target); err != nil || got != 0 {
			t.Fatalf("a value of %d at the activation threshold: %d replicas (%v), want 0", j.idle, got, err)
		}
		if so, err := s.scaledObject(ctx, ns, j.target); err != nil || so.Status.Conditions.IsTrue(kedav1alpha1.ConditionActive) ||
			!so.Status.Conditions.IsTrue(kedav1alpha1.ConditionReady) {
			t.Fatalf("a value of %d at the activation threshold: the ScaledObject is active or not ready (%v): %+v", j.idle, err, so.Status.Conditions)
		}
	}

	// Above it: 0 -> 1.
	j.set(t, j.one)
	s.waitReplicas(t, ns, j.target, 1, 30*time.Second)
	s.waitEvent(t, ns, j.target, kedav1alpha1.EventKEDAScaleTargetActivated, "from 0 to 1")
	if j.atOne != nil {
		j.atOne(t, ns)
	}
	if v := s.externalMetric(t, ns, j.metric, j.target); v != int64(j.one) {
		t.Errorf("external metric %s = %d, want %d", j.metric, v, j.one)
	}

	// max / averageValue per replica: more than maxReplicas.
	j.set(t, j.max)
	s.waitReplicas(t, ns, j.target, int32(j.maxReplicas), 60*time.Second)
	if j.maxSettles {
		eventually(t, 30*time.Second, "the metric of the whole backlog", func(context.Context) (bool, string) {
			v := s.externalMetric(t, ns, j.metric, j.target)
			return v == int64(j.max), fmt.Sprintf("external metric %s = %d, want %d", j.metric, v, j.max)
		})
	} else if v := s.externalMetric(t, ns, j.metric, j.target); v != int64(j.max) {
		t.Errorf("external metric %s = %d, want %d", j.metric, v, j.max)
	}

	// Drained: back to 0 after the cooldown.
	j.drain(t)
	s.waitReplicas(t, ns, j.target, 0, 30*time.Second)
	s.waitEvent(t, ns, j.target, kedav1alpha1.EventKEDAScaleTargetDeactivated, fmt.Sprintf("from %d to 0", j.maxReplicas))
	return ns
}
