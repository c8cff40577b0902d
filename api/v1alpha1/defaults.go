package v1alpha1

import "fmt"

// KEDA's documented defaults for omitted ScaledObject fields.
const (
	DefaultPollingInterval  = 30
	DefaultCooldownPeriod   = 300
	DefaultMinReplicaCount  = 0
	DefaultMaxReplicaCount  = 100
	DefaultFallbackBehavior = "static"
)

// Annotations and labels users and tools set, named as KEDA names them.
const (
	AnnotationPaused                 = "autoscaling.keda.sh/paused"
	AnnotationPausedReplicas         = "autoscaling.keda.sh/paused-replicas"
	AnnotationPausedScaleIn          = "autoscaling.keda.sh/paused-scale-in"
	AnnotationPausedScaleOut         = "autoscaling.keda.sh/paused-scale-out"
	AnnotationForceActivation        = "autoscaling.keda.sh/force-activation"
	AnnotationTransferHPAOwnership   = "scaledobject.keda.sh/transfer-hpa-ownership"
	AnnotationValidationHPAOwnership = "validations.keda.sh/hpa-ownership"
	AnnotationHPAExcludedLabels      = "scaledobject.keda.sh/hpa-excluded-labels"

	// LabelScaledObjectName is set on the HPA and used as the external metrics label selector.
	LabelScaledObjectName = "scaledobject.keda.sh/name"
	// LabelScaledJobName is set on the Jobs a ScaledJob creates. As an external metrics label
	// selector it asks this operator (not KEDA, whose metrics server serves ScaledObjects only) for
	// the latest sample of a ScaledJob's trigger, so that `kubectl keda` can show a ScaledJob's queue.
	LabelScaledJobName = "scaledjob.keda.sh/name"

	// MetricLabelTargetAverageValue and MetricLabelActive are the labels of a ScaledJob's external
	// metric value: the trigger's target per Job and whether it is active, which the ScaledJob's
	// Job count is computed from besides the value.
	MetricLabelTargetAverageValue = "kedactl.dev/target-average-value"
	MetricLabelActive             = "kedactl.dev/active"

	// AnnotationHPAAppliedDigest is on the HPAs the operator applies: the digest of what it applied,
	// so that an operator that starts again (a restart, a new leader) knows an HPA is already as it
	// would apply it and writes nothing.
	AnnotationHPAAppliedDigest = "kedactl.dev/applied-digest"
)

// PollingIntervalSeconds returns spec.pollingInterval or KEDA's default.
func (s *ScaledObjectSpec) PollingIntervalSeconds() int32 {
	return valueOr(s.PollingInterval, DefaultPollingInterval)
}

// CooldownPeriodSeconds returns spec.cooldownPeriod or KEDA's default.
func (s *ScaledObjectSpec) CooldownPeriodSeconds() int32 {
	return valueOr(s.CooldownPeriod, DefaultCooldownPeriod)
}

// InitialCooldownPeriodSeconds returns spec.initialCooldownPeriod or 0.
func (s *ScaledObjectSpec) InitialCooldownPeriodSeconds() int32 {
	return valueOr(s.InitialCooldownPeriod, 0)
}

// MinReplicas returns spec.minReplicaCount or KEDA's default.
func (s *ScaledObjectSpec) MinReplicas() int32 {
	return valueOr(s.MinReplicaCount, DefaultMinReplicaCount)
}

// MaxReplicas returns spec.maxReplicaCount or KEDA's default.
func (s *ScaledObjectSpec) MaxReplicas() int32 {
	return valueOr(s.MaxReplicaCount, DefaultMaxReplicaCount)
}

// HPAName is the name of the HPA the operator owns for this ScaledObject: the custom name from
// advanced.horizontalPodAutoscalerConfig.name, else keda-hpa-<name>.
func (so *ScaledObject) HPAName() string {
	if a := so.Spec.Advanced; a != nil && a.HorizontalPodAutoscalerConfig != nil && a.HorizontalPodAutoscalerConfig.Name != "" {
		return a.HorizontalPodAutoscalerConfig.Name
	}
	return fmt.Sprintf("keda-hpa-%s", so.Name)
}

// TriggerAuthKind returns the kind an authenticationRef points to, defaulting as KEDA does.
func (r *AuthenticationRef) TriggerAuthKind() string {
	if r.Kind == "" {
		return KindTriggerAuthentication
	}
	return r.Kind
}

// The kinds an authenticationRef may name.
const (
	KindTriggerAuthentication        = "TriggerAuthentication"
	KindClusterTriggerAuthentication = "ClusterTriggerAuthentication"
)

func valueOr(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}

// UsesScalingModifiers reports whether advanced.scalingModifiers has a formula: the HPA then scales
// on the formula's one composite metric, and the triggers only supply its inputs.
func (s *ScaledObjectSpec) UsesScalingModifiers() bool {
	return s.Advanced != nil && s.Advanced.ScalingModifiers.Formula != ""
}
