package v1alpha1

// KEDA's documented defaults for omitted ScaledJob fields. pollingInterval and maxReplicaCount share
// DefaultPollingInterval and DefaultMaxReplicaCount with ScaledObject.
const (
	DefaultSuccessfulJobsHistoryLimit = 100
	DefaultFailedJobsHistoryLimit     = 100
)

// Annotations KEDA reads from a ScaledJob or writes on the Jobs it creates.
const (
	// AnnotationJobExcludedLabels lists, comma separated, the ScaledJob's labels not to copy onto
	// its Jobs. Entries are not trimmed: KEDA matches them byte for byte.
	AnnotationJobExcludedLabels = "scaledjob.keda.sh/job-excluded-labels"
	// AnnotationJobGeneration on a Job records the ScaledJob generation it was built from; a
	// rollout deletes Jobs whose value differs or is missing.
	AnnotationJobGeneration = "scaledjob.keda.sh/generation"
)

// Values of spec.rollout.strategy and the deprecated spec.rolloutStrategy. KEDA's CRD accepts
// exactly these two (enum gradual;immediate). KEDA's docs still name the first one "default", and
// KEDA's controller treats every value other than gradual as immediate, so EffectiveRolloutStrategy
// does the same: "default" (or an empty field) means immediate.
const (
	// RolloutStrategyImmediate deletes the Jobs built from an older generation of the ScaledJob.
	RolloutStrategyImmediate = "immediate"
	// RolloutStrategyGradual leaves existing Jobs to finish; only new Jobs use the new template.
	RolloutStrategyGradual = "gradual"
)

// Values of spec.rollout.propagationPolicy: how Jobs deleted on rollout delete their Pods.
const (
	PropagationPolicyBackground = "background"
	PropagationPolicyForeground = "foreground"
)

// Values of spec.scalingStrategy.strategy.
const (
	ScalingStrategyDefault  = "default"
	ScalingStrategyCustom   = "custom"
	ScalingStrategyAccurate = "accurate"
	ScalingStrategyEager    = "eager"
)

// Values of spec.scalingStrategy.multipleScalersCalculation: how the queue lengths of several
// triggers combine into one.
const (
	MultipleScalersCalculationMax = "max"
	MultipleScalersCalculationMin = "min"
	MultipleScalersCalculationAvg = "avg"
	MultipleScalersCalculationSum = "sum"
)

// PollingIntervalSeconds returns spec.pollingInterval or KEDA's default.
func (s *ScaledJobSpec) PollingIntervalSeconds() int32 {
	return valueOr(s.PollingInterval, DefaultPollingInterval)
}

// MinReplicas returns spec.minReplicaCount or KEDA's default, as written: the scaling arithmetic
// (which clamps it to maxReplicaCount) lives in operator/scaledjob.
func (s *ScaledJobSpec) MinReplicas() int32 {
	return valueOr(s.MinReplicaCount, DefaultMinReplicaCount)
}

// MaxReplicas returns spec.maxReplicaCount or KEDA's default, as written.
func (s *ScaledJobSpec) MaxReplicas() int32 {
	return valueOr(s.MaxReplicaCount, DefaultMaxReplicaCount)
}

// SuccessfulJobsHistory returns spec.successfulJobsHistoryLimit or KEDA's default.
func (s *ScaledJobSpec) SuccessfulJobsHistory() int32 {
	return valueOr(s.SuccessfulJobsHistoryLimit, DefaultSuccessfulJobsHistoryLimit)
}

// FailedJobsHistory returns spec.failedJobsHistoryLimit or KEDA's default.
func (s *ScaledJobSpec) FailedJobsHistory() int32 {
	return valueOr(s.FailedJobsHistoryLimit, DefaultFailedJobsHistoryLimit)
}

// EffectiveRolloutStrategy returns RolloutStrategyGradual or RolloutStrategyImmediate. As in KEDA,
// the deprecated spec.rolloutStrategy wins whenever it is set, and anything but "gradual" (including
// the "default" of KEDA's docs and an empty field) is immediate.
func (s *ScaledJobSpec) EffectiveRolloutStrategy() string {
	if firstNonEmpty(s.RolloutStrategy, s.Rollout.Strategy) == RolloutStrategyGradual {
		return RolloutStrategyGradual
	}
	return RolloutStrategyImmediate
}

// EffectivePropagationPolicy returns PropagationPolicyForeground when spec.rollout.propagationPolicy
// is exactly "foreground", else PropagationPolicyBackground, as KEDA decides.
func (s *ScaledJobSpec) EffectivePropagationPolicy() string {
	if s.Rollout.PropagationPolicy == PropagationPolicyForeground {
		return PropagationPolicyForeground
	}
	return PropagationPolicyBackground
}

// EffectiveScalingStrategy returns spec.scalingStrategy.strategy when it is one of the four KEDA
// knows, else ScalingStrategyDefault (KEDA falls back to default for any other value). Whether a
// custom strategy's parameters parse is decided where they are used (operator/scaledjob).
func (s *ScaledJobSpec) EffectiveScalingStrategy() string {
	switch v := s.ScalingStrategy.Strategy; v {
	case ScalingStrategyCustom, ScalingStrategyAccurate, ScalingStrategyEager:
		return v
	}
	return ScalingStrategyDefault
}

// EffectiveMultipleScalersCalculation returns spec.scalingStrategy.multipleScalersCalculation when it
// is min, avg or sum, else MultipleScalersCalculationMax (KEDA's fallback for any other value).
func (s *ScaledJobSpec) EffectiveMultipleScalersCalculation() string {
	switch v := s.ScalingStrategy.MultipleScalersCalculation; v {
	case MultipleScalersCalculationMin, MultipleScalersCalculationAvg, MultipleScalersCalculationSum:
		return v
	}
	return MultipleScalersCalculationMax
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
