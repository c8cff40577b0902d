package v1alpha1

// KEDA's documented defaults for omitted ScaledJob fields. pollingInterval and maxReplicaCount share
// DefaultPollingInterval and DefaultMaxReplicaCount with ScaledObject.
const (
	DefaultSuccessfulJobsHistoryLimit = 100
	DefaultFailedJobsHistoryLimit     = 100
)

// Values of spec.rollout.strategy (and the deprecated spec.rolloutStrategy).
const (
	// RolloutStrategyDefault deletes the running Jobs when the ScaledJob is updated.
	RolloutStrategyDefault = "default"
	// RolloutStrategyGradual leaves running Jobs to finish; only new Jobs use the new template.
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

// MinReplicas returns spec.minReplicaCount or KEDA's default.
func (s *ScaledJobSpec) MinReplicas() int32 {
	return valueOr(s.MinReplicaCount, DefaultMinReplicaCount)
}

// MaxReplicas returns spec.maxReplicaCount or KEDA's default.
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

// EffectiveRolloutStrategy returns spec.rollout.strategy, else the deprecated spec.rolloutStrategy,
// else RolloutStrategyDefault.
func (s *ScaledJobSpec) EffectiveRolloutStrategy() string {
	return firstNonEmpty(s.Rollout.Strategy, s.RolloutStrategy, RolloutStrategyDefault)
}

// EffectivePropagationPolicy returns spec.rollout.propagationPolicy or PropagationPolicyBackground.
func (s *ScaledJobSpec) EffectivePropagationPolicy() string {
	return firstNonEmpty(s.Rollout.PropagationPolicy, PropagationPolicyBackground)
}

// EffectiveScalingStrategy returns spec.scalingStrategy.strategy or ScalingStrategyDefault.
func (s *ScaledJobSpec) EffectiveScalingStrategy() string {
	return firstNonEmpty(s.ScalingStrategy.Strategy, ScalingStrategyDefault)
}

// EffectiveMultipleScalersCalculation returns spec.scalingStrategy.multipleScalersCalculation or
// MultipleScalersCalculationMax.
func (s *ScaledJobSpec) EffectiveMultipleScalersCalculation() string {
	return firstNonEmpty(s.ScalingStrategy.MultipleScalersCalculation, MultipleScalersCalculationMax)
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
