package v1alpha1

// Event reasons, as KEDA emits them, so that alerts and scripts written for KEDA keep working.
const (
	EventScaledObjectReady                 = "ScaledObjectReady"
	EventScaledObjectCheckFailed           = "ScaledObjectCheckFailed"
	EventScaledObjectUpdateFailed          = "ScaledObjectUpdateFailed"
	EventScaledObjectDeleted               = "ScaledObjectDeleted"
	EventScaledObjectPaused                = "ScaledObjectPaused"
	EventScaledObjectUnpaused              = "ScaledObjectUnpaused"
	EventScaledObjectFallbackActivated     = "ScaledObjectFallbackActivated"
	EventScaledObjectFallbackDeactivated   = "ScaledObjectFallbackDeactivated"
	EventKEDAScalersStarted                = "KEDAScalersStarted"
	EventKEDAScalersStopped                = "KEDAScalersStopped"
	EventKEDAScalerFailed                  = "KEDAScalerFailed"
	EventKEDAMetricSourceFailed            = "KEDAMetricSourceFailed"
	EventKEDAScaleTargetActivated          = "KEDAScaleTargetActivated"
	EventKEDAScaleTargetDeactivated        = "KEDAScaleTargetDeactivated"
	EventKEDAScaleTargetActivationFailed   = "KEDAScaleTargetActivationFailed"
	EventKEDAScaleTargetDeactivationFailed = "KEDAScaleTargetDeactivationFailed"
)

// Condition reasons written by the operator.
const (
	ReasonScaledObjectReady       = "ScaledObjectReady"
	ReasonScaledObjectCheckFailed = "ScaledObjectCheckFailed"
	ReasonScaleTargetNotFound     = "ScaleTargetNotFound"
	ReasonTriggerError            = "TriggerError"
	ReasonHPAUpdateFailed         = "HPAUpdateFailed"
	ReasonScalerActive            = "ScalerActive"
	ReasonScalerNotActive         = "ScalerNotActive"
	ReasonScalerError             = "ScalerError"
	ReasonNoFallbackFound         = "NoFallbackFound"
	ReasonFallbackExists          = "FallbackExists"
	ReasonScaledObjectUnpaused    = "ScaledObjectUnpaused"
	ReasonScaledObjectPaused      = "ScaledObjectPaused"
	ReasonUnknown                 = "Unknown"
)

// FinalizerName is the finalizer the operator puts on ScaledObjects to clean up on deletion.
const FinalizerName = "finalizer.keda.sh"
