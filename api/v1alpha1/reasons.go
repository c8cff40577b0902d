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
	EventKEDAScalerInfo                    = "KEDAScalerInfo"
	EventKEDAMetricSourceFailed            = "KEDAMetricSourceFailed"
	EventKEDAScaleTargetActivated          = "KEDAScaleTargetActivated"
	EventKEDAScaleTargetDeactivated        = "KEDAScaleTargetDeactivated"
	EventKEDAScaleTargetActivationFailed   = "KEDAScaleTargetActivationFailed"
	EventKEDAScaleTargetDeactivationFailed = "KEDAScaleTargetDeactivationFailed"

	EventScaledJobReady                   = "ScaledJobReady"
	EventScaledJobCheckFailed             = "ScaledJobCheckFailed"
	EventScaledJobUpdateFailed            = "ScaledJobUpdateFailed"
	EventScaledJobDeleted                 = "ScaledJobDeleted"
	EventScaledJobPaused                  = "ScaledJobPaused"
	EventScaledJobUnpaused                = "ScaledJobUnpaused"
	EventScaledJobActive                  = "ScaledJobActive"
	EventScaledJobInactive                = "ScaledJobInactive"
	EventScaledJobRolloutCleanupStarted   = "ScaledJobRolloutCleanupStarted"
	EventScaledJobRolloutCleanupCompleted = "ScaledJobRolloutCleanupCompleted"
	EventScaledJobRolloutCleanupFailed    = "ScaledJobRolloutCleanupFailed"
	EventKEDAJobsCreated                  = "KEDAJobsCreated"

	EventTriggerAuthenticationAdded = "TriggerAuthenticationAdded"
	// EventClusterTriggerAuthenticationUpdated is KEDA's reason for an update of either kind of
	// authentication (KEDA spells the TriggerAuthentication one so too).
	EventClusterTriggerAuthenticationUpdated = "ClusterTriggerAuthenticationUpdated"
	EventClusterTriggerAuthenticationAdded   = "ClusterTriggerAuthenticationAdded"
	EventTriggerAuthenticationDeleted        = "TriggerAuthenticationDeleted"
	EventClusterTriggerAuthenticationDeleted = "ClusterTriggerAuthenticationDeleted"
	EventKEDAJobCreateFailed                 = "KEDAJobCreateFailed"
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

	ReasonScaledJobReady       = "ScaledJobReady"
	ReasonScaledJobCheckFailed = "ScaledJobCheckFailed"
	ReasonScaledJobPaused      = "ScaledJobPaused"
	ReasonScaledJobUnpaused    = "ScaledJobUnpaused"
	// ReasonPartialTriggerError: some of a ScaledJob's triggers failed while another is active.
	ReasonPartialTriggerError = "PartialTriggerError"
	// ReasonKEDAJobCreateFailed: Ready False, creating a ScaledJob's Jobs failed in a loop.
	ReasonKEDAJobCreateFailed = "KEDAJobCreateFailed"
	// ReasonUnknownState: the Active condition of a ScaledJob whose check failed.
	ReasonUnknownState = "UnknownState"
)

// FinalizerName is the finalizer the operator puts on ScaledObjects, ScaledJobs and (as KEDA
// does) authentications, to clean up and record their deletion.
const FinalizerName = "finalizer.keda.sh"
