package scaling

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestDecide(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	created := now.Add(-time.Hour)
	tests := []struct {
		name     string
		in       Input
		action   Action
		replicas int32
		remains  time.Duration
		// stale: no trigger was read since the last decision.
		stale bool
	}{
		{name: "active at zero activates to 1", in: Input{Current: 0, Active: true}, action: Activate, replicas: 1},
		{name: "active at zero with min raises to min", in: Input{Current: 0, Active: true, Min: 3}, action: EnsureMin, replicas: 3},
		{name: "active at idle activates to min", in: Input{Current: 1, Active: true, Min: 2, Idle: ptr.To[int32](1)}, action: Activate, replicas: 2},
		{name: "active above zero leaves it to the HPA", in: Input{Current: 4, Active: true}, action: Keep},
		{name: "active below min raises to min", in: Input{Current: 1, Active: true, Min: 2}, action: EnsureMin, replicas: 2},
		{name: "inactive within cooldown waits", in: Input{Current: 3, Cooldown: time.Minute, LastActive: now.Add(-20 * time.Second)}, action: Keep, remains: 40 * time.Second},
		{name: "inactive after cooldown deactivates", in: Input{Current: 3, Cooldown: time.Minute, LastActive: now.Add(-61 * time.Second)}, action: Deactivate, replicas: 0},
		{name: "inactive after cooldown goes to idle", in: Input{Current: 3, Min: 2, Idle: ptr.To[int32](1), Cooldown: time.Minute, LastActive: now.Add(-2 * time.Minute)}, action: Deactivate, replicas: 1},
		{name: "never active deactivates at once", in: Input{Current: 2, Cooldown: time.Minute}, action: Deactivate, replicas: 0},
		{name: "initial cooldown holds a new object", in: Input{Current: 2, InitialCooldown: 2 * time.Hour}, action: Keep, remains: time.Hour},
		{name: "initial cooldown ends with the first activation", in: Input{Current: 2, InitialCooldown: 2 * time.Hour, Cooldown: time.Minute, LastActive: now.Add(-2 * time.Minute)}, action: Deactivate, replicas: 0},
		{name: "failing trigger never deactivates", in: Input{Current: 2, Failing: true}, action: Keep},
		{name: "failing trigger with a fallback keeps the target", in: Input{Current: 2, Failing: true, FallbackReplicas: ptr.To[int32](3)}, action: Keep},
		{name: "failing trigger with a fallback of 0 replicas deactivates", in: Input{Current: 2, Failing: true, FallbackReplicas: ptr.To[int32](0)}, action: Deactivate, replicas: 0},
		// KEDA's scale loop counts a trigger whose fallback value is served as active (its
		// TestFallbackFromZero: a target at zero goes to the fallback replicas).
		{name: "fallback served at zero activates, as in KEDA", in: Input{Current: 0, Fallback: true, FallbackReplicas: ptr.To[int32](3)}, action: Activate, replicas: 1},
		{name: "fallback served at idle activates to min", in: Input{Current: 1, Min: 2, Idle: ptr.To[int32](1), Fallback: true, FallbackReplicas: ptr.To[int32](3)}, action: Activate, replicas: 2},
		{name: "fallback served above zero holds the target past the cooldown", in: Input{Current: 3, Fallback: true, FallbackReplicas: ptr.To[int32](3), Cooldown: time.Minute, LastActive: now.Add(-time.Hour)}, action: Keep},
		{name: "fallback of 0 replicas served: KEDA still counts the trigger active", in: Input{Current: 2, Fallback: true, FallbackReplicas: ptr.To[int32](0)}, action: Keep},
		{name: "Value fallback at zero: no ready pod to divide by, not activated", in: Input{Current: 0, Fallback: true, FallbackPerReadyPod: true, FallbackReplicas: ptr.To[int32](3)}, action: Keep},
		{name: "Value fallback above zero holds the target", in: Input{Current: 2, Fallback: true, FallbackPerReadyPod: true, FallbackReplicas: ptr.To[int32](3), Cooldown: time.Minute, LastActive: now.Add(-time.Hour)}, action: Keep},
		{name: "inactive at zero stays", in: Input{Current: 0}, action: Keep},
		{name: "min above zero never deactivates", in: Input{Current: 2, Min: 2}, action: Keep},
		{name: "min above zero restores min", in: Input{Current: 0, Min: 2}, action: EnsureMin, replicas: 2},
		{name: "no new sample: a manual scale to zero is not undone", in: Input{Current: 0, Active: true}, stale: true, action: Keep},
		{name: "no new sample: no deactivation either", in: Input{Current: 3, Cooldown: time.Minute, LastActive: now.Add(-61 * time.Second)}, stale: true, action: Keep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			in.Now = now
			in.Created = created
			in.Fresh = !tt.stale
			got := Decide(in)
			if got.Action != tt.action {
				t.Fatalf("action = %v (%s), want %v", got.Action, got.Reason, tt.action)
			}
			if tt.action != Keep && got.Replicas != tt.replicas {
				t.Errorf("replicas = %d, want %d", got.Replicas, tt.replicas)
			}
			if got.CooldownRemaining != tt.remains {
				t.Errorf("cooldown remaining = %v, want %v", got.CooldownRemaining, tt.remains)
			}
		})
	}
}

func TestReady(t *testing.T) {
	for _, tt := range []struct {
		name   string
		in     Input
		status metav1.ConditionStatus
		reason string
	}{
		{"all triggers working", Input{Current: 3, Active: true}, metav1.ConditionTrue, "ScaledObjectReady"},
		{"failing, nothing active, no fallback", Input{Current: 3, Failing: true}, metav1.ConditionFalse, "TriggerError"},
		{"failing at zero, no fallback", Input{Current: 0, Failing: true}, metav1.ConditionFalse, "TriggerError"},
		{"failing, nothing active, a fallback covers it", Input{Current: 3, Failing: true, FallbackReplicas: ptr.To[int32](2)}, metav1.ConditionTrue, "ScaledObjectReady"},
		{"failing, nothing active, a fallback of 0", Input{Current: 3, Failing: true, FallbackReplicas: ptr.To[int32](0)}, metav1.ConditionTrue, "ScaledObjectReady"},
		{"one failing while another keeps it up", Input{Current: 3, Active: true, Failing: true}, metav1.ConditionUnknown, "PartialTriggerError"},
		{"one failing while another activates it from zero", Input{Current: 0, Active: true, Failing: true}, metav1.ConditionTrue, "ScaledObjectReady"},
		{"one failing while another activates it from idle", Input{Current: 1, Min: 3, Idle: ptr.To[int32](1), Active: true, Failing: true}, metav1.ConditionTrue, "ScaledObjectReady"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, reason, msg := Ready(tt.in)
			if status != tt.status || reason != tt.reason || msg == "" {
				t.Errorf("Ready = %s %s %q, want %s %s", status, reason, msg, tt.status, tt.reason)
			}
		})
	}
}
