package v1alpha1

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidateSpec checks what can be checked of a ScaledObject without a cluster. The webhook, the
// controller's Ready condition and `kubectl keda check` all call it, so each names the same field
// and the same fix.
func (so *ScaledObject) ValidateSpec() field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	s := &so.Spec
	if s.ScaleTargetRef == nil {
		errs = append(errs, field.Required(spec.Child("scaleTargetRef"), "set scaleTargetRef.name to the Deployment, StatefulSet or /scale resource to scale"))
	} else if s.ScaleTargetRef.Name == "" {
		errs = append(errs, field.Required(spec.Child("scaleTargetRef", "name"), "set it to the name of the workload to scale"))
	}
	if len(s.Triggers) == 0 {
		errs = append(errs, field.Required(spec.Child("triggers"), "add at least one trigger"))
	}
	for i, t := range s.Triggers {
		p := spec.Child("triggers").Index(i)
		if t.Type == "" {
			errs = append(errs, field.Required(p.Child("type"), "set the scaler type, e.g. redis or cron"))
		}
		if t.AuthenticationRef != nil && t.AuthenticationRef.Name == "" {
			errs = append(errs, field.Required(p.Child("authenticationRef", "name"), "name the TriggerAuthentication or ClusterTriggerAuthentication"))
		}
		if k := t.AuthenticationRef; k != nil && k.Kind != "" && k.Kind != "TriggerAuthentication" && k.Kind != "ClusterTriggerAuthentication" {
			errs = append(errs, field.NotSupported(p.Child("authenticationRef", "kind"), k.Kind, []string{"TriggerAuthentication", "ClusterTriggerAuthentication"}))
		}
	}
	for _, c := range []struct {
		name string
		v    *int32
	}{{"pollingInterval", s.PollingInterval}, {"cooldownPeriod", s.CooldownPeriod}, {"initialCooldownPeriod", s.InitialCooldownPeriod}, {"minReplicaCount", s.MinReplicaCount}, {"idleReplicaCount", s.IdleReplicaCount}} {
		if c.v != nil && *c.v < 0 {
			errs = append(errs, field.Invalid(spec.Child(c.name), *c.v, "must not be negative"))
		}
	}
	if s.PollingInterval != nil && *s.PollingInterval == 0 {
		errs = append(errs, field.Invalid(spec.Child("pollingInterval"), 0, "must be at least 1 second"))
	}
	minR, maxR := s.MinReplicas(), s.MaxReplicas()
	if maxR < 1 {
		errs = append(errs, field.Invalid(spec.Child("maxReplicaCount"), maxR, "must be at least 1"))
	}
	if minR > maxR {
		errs = append(errs, field.Invalid(spec.Child("minReplicaCount"), minR, fmt.Sprintf("must not be greater than maxReplicaCount (%d)", maxR)))
	}
	if s.IdleReplicaCount != nil && *s.IdleReplicaCount >= minR {
		errs = append(errs, field.Invalid(spec.Child("idleReplicaCount"), *s.IdleReplicaCount, fmt.Sprintf("must be less than minReplicaCount (%d)", minR)))
	}
	return errs
}
