package scaledjob

// Event reasons KEDA records on a ScaledJob, so alerts written for KEDA keep matching. The reasons a
// ScaledJob shares with ScaledObjects (KEDAScalerFailed, KEDAScalersStarted, KEDAScalersStopped) are
// kedav1alpha1.Event* already. The event type KEDA uses is given with each.
const (
	EventScaledJobReady                   = "ScaledJobReady"                   // Normal, when Ready turns True
	EventScaledJobCheckFailed             = "ScaledJobCheckFailed"             // Warning
	EventScaledJobUpdateFailed            = "ScaledJobUpdateFailed"            // Warning, status could not be written
	EventScaledJobDeleted                 = "ScaledJobDeleted"                 // Warning (sic), after the finalizer ran
	EventScaledJobPaused                  = "ScaledJobPaused"                  // Normal
	EventScaledJobUnpaused                = "ScaledJobUnpaused"                // Normal
	EventScaledJobActive                  = "ScaledJobActive"                  // Normal, when Active turns True
	EventScaledJobInactive                = "ScaledJobInactive"                // Normal, when Active turns False
	EventKEDAJobsCreated                  = "KEDAJobsCreated"                  // Normal, once per poll that created Jobs
	EventKEDAJobCreateFailed              = "KEDAJobCreateFailed"              // Warning, once per Job that failed
	EventScaledJobRolloutCleanupStarted   = "ScaledJobRolloutCleanupStarted"   // Normal
	EventScaledJobRolloutCleanupCompleted = "ScaledJobRolloutCleanupCompleted" // Normal
	EventScaledJobRolloutCleanupFailed    = "ScaledJobRolloutCleanupFailed"    // Warning, once per Job that failed
)

// Event messages KEDA writes with the reasons above; the formats take the count or the Job's
// generateName/name and the error.
const (
	MessageScaledJobReady          = "ScaledJob is ready for scaling"
	MessageScaledJobDeleted        = "ScaledJob was deleted"
	MessageScaledJobPaused         = "ScaledJob is paused"
	MessageScaledJobUnpaused       = "ScaledJob is unpaused"
	MessageActive                  = "Scaling is performed because triggers are active"
	MessageInactive                = "Scaling is not performed because triggers are not active"
	FormatJobsCreated              = "Created %d jobs"
	FormatJobCreateFailed          = "Failed to create job %s: %v"
	FormatRolloutCleanupStarted    = "Deleting %d jobs owned by the previous version of the scaledJob"
	FormatRolloutCleanupCompleted  = "Deleted %d jobs owned by the previous version of the scaledJob"
	FormatRolloutCleanupJobFailed  = "Failed to delete job %s: %v"
	MessageJobTargetRefMissing     = "ScaledJob.spec.jobTargetRef not found"
	MessageReadyDefinedCorrectly   = "ScaledJob is defined correctly and is ready for scaling"
	MessageSomeTriggersFailing     = "Some triggers defined in ScaledJob are not working correctly"
	MessageTriggersFailing         = "Triggers defined in ScaledJob are not working correctly"
	MessageActiveUnknownOnCheckErr = "ScaledJob check failed"
)

// Condition reasons KEDA sets on a ScaledJob's conditions that kedav1alpha1 does not define yet.
// Active True/False use kedav1alpha1.ReasonScalerActive/ReasonScalerNotActive, and Ready False when
// every trigger fails uses kedav1alpha1.ReasonTriggerError.
const (
	// ReasonScaledJobReady: Ready True.
	ReasonScaledJobReady = "ScaledJobReady"
	// ReasonPartialTriggerError: Ready Unknown, some triggers failed but one is active.
	ReasonPartialTriggerError = "PartialTriggerError"
	// ReasonScaledJobCheckFailed: Ready False, the spec could not be set up.
	ReasonScaledJobCheckFailed = "ScaledJobCheckFailed"
	// ReasonKEDAJobCreateFailed: Ready False, creating Jobs failed this poll (KEDA 2.21).
	ReasonKEDAJobCreateFailed = "KEDAJobCreateFailed"
	// ReasonUnknownState: Active Unknown after a failed check.
	ReasonUnknownState = "UnknownState"
	// ReasonScaledJobPaused and ReasonScaledJobUnpaused: Paused True and False.
	ReasonScaledJobPaused   = "ScaledJobPaused"
	ReasonScaledJobUnpaused = "ScaledJobUnpaused"
)
