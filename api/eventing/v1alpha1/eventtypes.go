package v1alpha1

// CloudEventType is the type attribute of a delivered event, as KEDA names it.
//
// +kubebuilder:validation:Enum=keda.scaledobject.ready.v1;keda.scaledobject.failed.v1;keda.scaledobject.removed.v1;keda.scaledobject.paused.v1;keda.scaledobject.unpaused.v1;keda.scaledjob.ready.v1;keda.scaledjob.failed.v1;keda.scaledjob.removed.v1;keda.scaledjob.paused.v1;keda.scaledjob.unpaused.v1;keda.scaledjob.rolloutcleanup.started.v1;keda.scaledjob.rolloutcleanup.completed.v1;keda.scaledjob.rolloutcleanup.failed.v1;keda.authentication.triggerauthentication.created.v1;keda.authentication.triggerauthentication.updated.v1;keda.authentication.triggerauthentication.removed.v1;keda.authentication.clustertriggerauthentication.created.v1;keda.authentication.clustertriggerauthentication.updated.v1;keda.authentication.clustertriggerauthentication.removed.v1
type CloudEventType string

// The event types, each sent at the moment the operator records the Kubernetes event of the
// same name (operator/cloudevents maps one to the other).
const (
	ScaledObjectReady    CloudEventType = "keda.scaledobject.ready.v1"
	ScaledObjectFailed   CloudEventType = "keda.scaledobject.failed.v1"
	ScaledObjectRemoved  CloudEventType = "keda.scaledobject.removed.v1"
	ScaledObjectPaused   CloudEventType = "keda.scaledobject.paused.v1"
	ScaledObjectUnpaused CloudEventType = "keda.scaledobject.unpaused.v1"

	ScaledJobReady                   CloudEventType = "keda.scaledjob.ready.v1"
	ScaledJobFailed                  CloudEventType = "keda.scaledjob.failed.v1"
	ScaledJobRemoved                 CloudEventType = "keda.scaledjob.removed.v1"
	ScaledJobPaused                  CloudEventType = "keda.scaledjob.paused.v1"
	ScaledJobUnpaused                CloudEventType = "keda.scaledjob.unpaused.v1"
	ScaledJobRolloutCleanupStarted   CloudEventType = "keda.scaledjob.rolloutcleanup.started.v1"
	ScaledJobRolloutCleanupCompleted CloudEventType = "keda.scaledjob.rolloutcleanup.completed.v1"
	ScaledJobRolloutCleanupFailed    CloudEventType = "keda.scaledjob.rolloutcleanup.failed.v1"

	TriggerAuthenticationCreated        CloudEventType = "keda.authentication.triggerauthentication.created.v1"
	TriggerAuthenticationUpdated        CloudEventType = "keda.authentication.triggerauthentication.updated.v1"
	TriggerAuthenticationRemoved        CloudEventType = "keda.authentication.triggerauthentication.removed.v1"
	ClusterTriggerAuthenticationCreated CloudEventType = "keda.authentication.clustertriggerauthentication.created.v1"
	ClusterTriggerAuthenticationUpdated CloudEventType = "keda.authentication.clustertriggerauthentication.updated.v1"
	ClusterTriggerAuthenticationRemoved CloudEventType = "keda.authentication.clustertriggerauthentication.removed.v1"
)

// EventTypes lists every type, in the CRD's enum order.
var EventTypes = []CloudEventType{
	ScaledObjectReady, ScaledObjectFailed, ScaledObjectRemoved, ScaledObjectPaused, ScaledObjectUnpaused,
	ScaledJobReady, ScaledJobFailed, ScaledJobRemoved, ScaledJobPaused, ScaledJobUnpaused,
	ScaledJobRolloutCleanupStarted, ScaledJobRolloutCleanupCompleted, ScaledJobRolloutCleanupFailed,
	TriggerAuthenticationCreated, TriggerAuthenticationUpdated, TriggerAuthenticationRemoved,
	ClusterTriggerAuthenticationCreated, ClusterTriggerAuthenticationUpdated, ClusterTriggerAuthenticationRemoved,
}

// Wants reports whether a subscription keeps events of type t: only the included types when any
// are listed, else all but the excluded ones.
func (s EventSubscription) Wants(t CloudEventType) bool {
	if len(s.IncludedEventTypes) > 0 {
		return contains(s.IncludedEventTypes, t)
	}
	return !contains(s.ExcludedEventTypes, t)
}

func contains(list []CloudEventType, t CloudEventType) bool {
	for _, x := range list {
		if x == t {
			return true
		}
	}
	return false
}
