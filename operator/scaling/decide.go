// Package scaling does the operator's share of scaling: 0 <-> min (or idle) activation of a
// ScaledObject's target, which the HPA cannot do. 1 <-> N is the HPA's job.
package scaling

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// Input is everything an activation decision depends on.
type Input struct {
	Now time.Time
	// Current is the target's replicas as /scale reports them.
	Current int32
	// Active is true when any trigger is active; Failing when a trigger's last poll failed and no
	// fallback value stands in for it (FallbackState.Failing).
	Active  bool
	Failing bool
	// Fallback is true when a fallback value stands in for a failing trigger (FallbackState.Serving):
	// KEDA counts that trigger as active, so the target is activated from zero for the HPA to
	// converge to the fallback replicas.
	Fallback bool
	// FallbackPerReadyPod is set when every fallback value is a Value target's, divided by the
	// target's ready pods: at zero replicas there is none, so, as in KEDA, no fallback is served and
	// the target is not activated by it.
	FallbackPerReadyPod bool
	// FallbackReplicas is spec.fallback.replicas; nil without a fallback. With a fallback of 0
	// replicas a failing trigger does not hold the target up, as in KEDA.
	FallbackReplicas *int32

	Min int32
	// Idle is spec.idleReplicaCount; nil when unset.
	Idle *int32

	Cooldown        time.Duration
	InitialCooldown time.Duration
	Created         time.Time
	// LastActive is when a trigger was last seen active; zero when never.
	LastActive time.Time
	// Fresh is set when a trigger was read (or the spec changed) since the last decision. Without
	// it nothing new is known, and replicas are not changed: a manual scale is not fought with an
	// old sample before the next poll, as KEDA acts only in its polling loop.
	Fresh bool
}

// Action says what to do with the target.
type Action int

const (
	// Keep leaves the target alone.
	Keep Action = iota
	// Activate scales the target up from zero or idle.
	Activate
	// Deactivate scales the target down to zero or idle after the cooldown.
	Deactivate
	// EnsureMin scales a target that sits below minReplicaCount up to it.
	EnsureMin
)

func (a Action) String() string {
	switch a {
	case Activate:
		return "Activate"
	case Deactivate:
		return "Deactivate"
	case EnsureMin:
		return "EnsureMin"
	default:
		return "Keep"
	}
}

// Decision is the outcome of Decide.
type Decision struct {
	Action   Action
	Replicas int32
	// Reason explains the decision in one line for logs.
	Reason string
	// CooldownRemaining is how long the target stays up while inactive; zero when not waiting.
	CooldownRemaining time.Duration
}

// Decide returns what the operator should do with the target, the way KEDA does it: an active
// trigger brings the target from zero (or idle) to max(min, 1); when no trigger has been active for
// cooldownPeriod (and initialCooldownPeriod has passed since creation) the target goes back to zero
// (or idle). A failing trigger holds the target where it is, unless a fallback of 0 replicas says
// that failing means none.
func Decide(in Input) Decision {
	d := decide(in)
	if d.Action != Keep && !in.Fresh {
		return Decision{Action: Keep, Reason: "no new sample since the last decision (would " + d.Action.String() + ": " + d.Reason + ")", CooldownRemaining: d.CooldownRemaining}
	}
	return d
}

func decide(in Input) Decision {
	inactiveLevel := int32(0)
	if in.Idle != nil {
		inactiveLevel = *in.Idle
	}
	scalesToInactive := in.Min == 0 || in.Idle != nil
	activeFloor := in.Min
	if activeFloor < 1 {
		activeFloor = 1
	}

	// KEDA's scale loop counts a trigger whose fallback value is served as active: fallback brings a
	// target up from zero (a Value target's fallback excepted: with no ready pod it has no value).
	fallback := FallbackState{Serving: in.Fallback, PerReadyPod: in.FallbackPerReadyPod}.ServedAt(in.Current, true)
	if in.Active || fallback {
		switch {
		case scalesToInactive && in.Current <= inactiveLevel:
			reason := "a trigger is active and the target is at zero or idle"
			if !in.Active {
				reason = "fallback is in force (KEDA counts the trigger as active) and the target is at zero or idle"
			}
			return Decision{Action: Activate, Replicas: activeFloor, Reason: reason}
		case in.Current < in.Min:
			return Decision{Action: EnsureMin, Replicas: in.Min, Reason: "the target is below minReplicaCount"}
		default:
			return Decision{Action: Keep, Reason: "active; the HPA scales between min and max"}
		}
	}

	if !scalesToInactive {
		if in.Current < in.Min {
			return Decision{Action: EnsureMin, Replicas: in.Min, Reason: "the target is below minReplicaCount"}
		}
		return Decision{Action: Keep, Reason: "inactive, but minReplicaCount > 0 keeps the target up"}
	}
	if in.Current <= inactiveLevel {
		return Decision{Action: Keep, Reason: "inactive and already at zero or idle"}
	}
	if in.Failing && (in.FallbackReplicas == nil || *in.FallbackReplicas != 0) {
		return Decision{Action: Keep, Reason: "a trigger is failing: not deactivating on an error"}
	}
	// As in KEDA, initialCooldownPeriod holds a target only until its first activation; after
	// that, cooldownPeriod counts from the last active poll.
	remaining := in.Created.Add(in.InitialCooldown).Sub(in.Now)
	if !in.LastActive.IsZero() {
		remaining = in.LastActive.Add(in.Cooldown).Sub(in.Now)
	}
	if remaining > 0 {
		return Decision{Action: Keep, Reason: "inactive, waiting for the cooldown", CooldownRemaining: remaining}
	}
	return Decision{Action: Deactivate, Replicas: inactiveLevel, Reason: "no trigger active for the cooldown period"}
}

// Ready is the Ready condition a poll leaves, as KEDA's scale loop sets it: True, except that
// failing triggers make it False (TriggerError) when nothing is active and no fallback covers
// them, and Unknown (PartialTriggerError) when another trigger keeps the target active above zero.
// It needs in.Current, so it is only known on a fresh decision.
func Ready(in Input) (status metav1.ConditionStatus, reason, message string) {
	switch {
	case !in.Failing:
	case in.Active && (in.Current == 0 || in.Idle != nil && in.Current < in.Min):
		// Activating from zero or idle: the working trigger is enough.
	case in.Active:
		return metav1.ConditionUnknown, kedav1alpha1.ReasonPartialTriggerError, "Some triggers defined in ScaledObject are not working correctly"
	case in.FallbackReplicas == nil:
		return metav1.ConditionFalse, kedav1alpha1.ReasonTriggerError, "Triggers defined in ScaledObject are not working correctly"
	}
	return metav1.ConditionTrue, kedav1alpha1.ReasonScaledObjectReady, "ScaledObject is defined correctly and is ready for scaling"
}
