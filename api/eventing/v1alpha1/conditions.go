package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// The Active condition's reasons and messages, as KEDA writes them.
const (
	ReasonActive  = "CloudEventSourceActive"
	ReasonFailed  = "CloudEventSourceFailed"
	MessageActive = "Is configured to send events to the configured destination"
	MessageFailed = "Failed to send events to the configured destination"
)

// ActiveCondition is the Active condition for a delivery state: active, or failed with why
// (a message the operator wrote, never one carrying a credential; empty takes KEDA's).
func ActiveCondition(active bool, why string) kedav1alpha1.Condition {
	if active {
		return kedav1alpha1.Condition{Type: kedav1alpha1.ConditionActive, Status: metav1.ConditionTrue, Reason: ReasonActive, Message: MessageActive}
	}
	msg := MessageFailed
	if why != "" {
		msg = MessageFailed + ": " + why
	}
	return kedav1alpha1.Condition{Type: kedav1alpha1.ConditionActive, Status: metav1.ConditionFalse, Reason: ReasonFailed, Message: msg}
}
