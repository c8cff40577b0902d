// Package cloudevents delivers the operator's lifecycle events as CloudEvents to the destinations
// of CloudEventSources and ClusterCloudEventSources. KEDA sends a CloudEvent at exactly the moments
// it records certain Kubernetes events, so delivery hangs off the event recorder (Recorder): each
// recorded event whose object and reason KEDA maps to a keda.*.v1 type becomes an Event, which a
// Dispatcher queues for every source that wants it. Queues and retries are bounded, and Emit never
// blocks, so a dead receiver never slows a reconcile or a scale.
package cloudevents

import (
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"

	eventingv1alpha1 "github.com/kedactl/kedactl/api/eventing/v1alpha1"
	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// Event is one lifecycle event of one object, before it becomes a CloudEvent.
type Event struct {
	Type CloudEventType
	// Namespace is the object's ("" for a ClusterTriggerAuthentication).
	Namespace string
	// Kind is the object's kind in lower case, as KEDA puts it into the subject.
	Kind    string
	Name    string
	Reason  string
	Message string
	Time    time.Time
}

// CloudEventType is the API's type, here for brevity.
type CloudEventType = eventingv1alpha1.CloudEventType

type kindReason struct{ kind, reason string }

// typeByReason is which Kubernetes event (object kind, reason) KEDA sends as which CloudEvent.
// KEDA records an update of either kind of authentication with the reason
// ClusterTriggerAuthenticationUpdated, so the kind tells the two apart.
var typeByReason = map[kindReason]CloudEventType{
	{"ScaledObject", kedav1alpha1.EventScaledObjectReady}:        eventingv1alpha1.ScaledObjectReady,
	{"ScaledObject", kedav1alpha1.EventScaledObjectCheckFailed}:  eventingv1alpha1.ScaledObjectFailed,
	{"ScaledObject", kedav1alpha1.EventScaledObjectUpdateFailed}: eventingv1alpha1.ScaledObjectFailed,
	{"ScaledObject", kedav1alpha1.EventScaledObjectDeleted}:      eventingv1alpha1.ScaledObjectRemoved,
	{"ScaledObject", kedav1alpha1.EventScaledObjectPaused}:       eventingv1alpha1.ScaledObjectPaused,
	{"ScaledObject", kedav1alpha1.EventScaledObjectUnpaused}:     eventingv1alpha1.ScaledObjectUnpaused,

	{"ScaledJob", kedav1alpha1.EventScaledJobReady}:                   eventingv1alpha1.ScaledJobReady,
	{"ScaledJob", kedav1alpha1.EventScaledJobCheckFailed}:             eventingv1alpha1.ScaledJobFailed,
	{"ScaledJob", kedav1alpha1.EventScaledJobUpdateFailed}:            eventingv1alpha1.ScaledJobFailed,
	{"ScaledJob", kedav1alpha1.EventScaledJobDeleted}:                 eventingv1alpha1.ScaledJobRemoved,
	{"ScaledJob", kedav1alpha1.EventScaledJobPaused}:                  eventingv1alpha1.ScaledJobPaused,
	{"ScaledJob", kedav1alpha1.EventScaledJobUnpaused}:                eventingv1alpha1.ScaledJobUnpaused,
	{"ScaledJob", kedav1alpha1.EventScaledJobRolloutCleanupStarted}:   eventingv1alpha1.ScaledJobRolloutCleanupStarted,
	{"ScaledJob", kedav1alpha1.EventScaledJobRolloutCleanupCompleted}: eventingv1alpha1.ScaledJobRolloutCleanupCompleted,
	{"ScaledJob", kedav1alpha1.EventScaledJobRolloutCleanupFailed}:    eventingv1alpha1.ScaledJobRolloutCleanupFailed,

	{"TriggerAuthentication", kedav1alpha1.EventTriggerAuthenticationAdded}:                 eventingv1alpha1.TriggerAuthenticationCreated,
	{"TriggerAuthentication", kedav1alpha1.EventClusterTriggerAuthenticationUpdated}:        eventingv1alpha1.TriggerAuthenticationUpdated,
	{"TriggerAuthentication", kedav1alpha1.EventTriggerAuthenticationDeleted}:               eventingv1alpha1.TriggerAuthenticationRemoved,
	{"ClusterTriggerAuthentication", kedav1alpha1.EventClusterTriggerAuthenticationAdded}:   eventingv1alpha1.ClusterTriggerAuthenticationCreated,
	{"ClusterTriggerAuthentication", kedav1alpha1.EventClusterTriggerAuthenticationUpdated}: eventingv1alpha1.ClusterTriggerAuthenticationUpdated,
	{"ClusterTriggerAuthentication", kedav1alpha1.EventClusterTriggerAuthenticationDeleted}: eventingv1alpha1.ClusterTriggerAuthenticationRemoved,
}

// TypeFor returns the CloudEvent type KEDA sends when it records an event with reason about obj,
// and the object's kind; ok is false for the events KEDA sends no CloudEvent for.
func TypeFor(obj runtime.Object, reason string) (t CloudEventType, kind string, ok bool) {
	kind = kindOf(obj)
	t, ok = typeByReason[kindReason{kind, reason}]
	return t, kind, ok
}

// kindOf names the kind of a keda.sh object. Typed objects read through a client carry no kind
// (their TypeMeta is empty), so the Go type decides first.
func kindOf(obj runtime.Object) string {
	switch obj.(type) {
	case *kedav1alpha1.ScaledObject:
		return "ScaledObject"
	case *kedav1alpha1.ScaledJob:
		return "ScaledJob"
	case *kedav1alpha1.TriggerAuthentication:
		return "TriggerAuthentication"
	case *kedav1alpha1.ClusterTriggerAuthentication:
		return "ClusterTriggerAuthentication"
	}
	if obj == nil {
		return ""
	}
	return obj.GetObjectKind().GroupVersionKind().Kind
}

// lowerKind is the kind as the subject spells it.
func lowerKind(kind string) string { return strings.ToLower(kind) }
