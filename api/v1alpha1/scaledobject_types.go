package v1alpha1

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +genclient
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=scaledobjects,scope=Namespaced,shortName=so,categories=keda
// +kubebuilder:printcolumn:name="ScaleTargetKind",type="string",JSONPath=".status.scaleTargetKind"
// +kubebuilder:printcolumn:name="ScaleTargetName",type="string",JSONPath=".spec.scaleTargetRef.name"
// +kubebuilder:printcolumn:name="Min",type="integer",JSONPath=".spec.minReplicaCount"
// +kubebuilder:printcolumn:name="Max",type="integer",JSONPath=".spec.maxReplicaCount"
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Active",type="string",JSONPath=".status.conditions[?(@.type==\"Active\")].status"
// +kubebuilder:printcolumn:name="Fallback",type="string",JSONPath=".status.conditions[?(@.type==\"Fallback\")].status"
// +kubebuilder:printcolumn:name="Paused",type="string",JSONPath=".status.conditions[?(@.type==\"Paused\")].status"
// +kubebuilder:printcolumn:name="Triggers",type="string",JSONPath=".status.triggersTypes"
// +kubebuilder:printcolumn:name="Authentications",type="string",JSONPath=".status.authenticationsTypes"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"

// ScaledObject scales a Deployment, StatefulSet or any resource with a /scale subresource on the
// values of its triggers, through an HPA it owns and its own 0 <-> min activation.
type ScaledObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ScaledObjectSpec `json:"spec"`
	// +optional
	Status ScaledObjectStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ScaledObjectList is a list of ScaledObjects.
type ScaledObjectList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []ScaledObject `json:"items"`
}

// ScaledObjectSpec is what the user asks for. Pointers mark the fields whose absence means "KEDA's
// default" (see the Default* constants), so that an omitted field and an explicit zero differ.
//
// The validation markers here and on the types below are KEDA 2.21's CRD rules, no more (the
// API server applies them even when the webhook is down; what this operator checks beyond them
// stays in the webhook, as warnings). TestCRDsCarryKEDASchemaRules keeps them in line with KEDA's.
// The rule below is KEDA's: minReplicaCount may not exceed maxReplicaCount, or 100 (KEDA's
// default maximum) when maxReplicaCount is omitted.
// +kubebuilder:validation:XValidation:rule="(has(self.minReplicaCount) ? self.minReplicaCount : 0) <= (has(self.maxReplicaCount) ? self.maxReplicaCount : 100)",message="must not be greater than maxReplicaCount (100 when maxReplicaCount is omitted): lower minReplicaCount or raise maxReplicaCount",fieldPath=".minReplicaCount"
type ScaledObjectSpec struct {
	ScaleTargetRef *ScaleTarget `json:"scaleTargetRef"`
	// +optional
	// +kubebuilder:validation:Minimum=1
	PollingInterval *int32 `json:"pollingInterval,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=0
	InitialCooldownPeriod *int32 `json:"initialCooldownPeriod,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=0
	CooldownPeriod *int32 `json:"cooldownPeriod,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=0
	IdleReplicaCount *int32 `json:"idleReplicaCount,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=0
	MinReplicaCount *int32 `json:"minReplicaCount,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=1
	MaxReplicaCount *int32 `json:"maxReplicaCount,omitempty"`
	// +optional
	Advanced *AdvancedConfig `json:"advanced,omitempty"`

	// +kubebuilder:validation:MinItems=1
	Triggers []ScaleTriggers `json:"triggers"`
	// +optional
	Fallback *Fallback `json:"fallback,omitempty"`
}

// ScaleTarget names the workload a ScaledObject scales.
type ScaleTarget struct {
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`
	// +optional
	Kind string `json:"kind,omitempty"`
	// +optional
	EnvSourceContainerName string `json:"envSourceContainerName,omitempty"`
}

// ScaleTriggers is one event source and its parameters.
type ScaleTriggers struct {
	// +kubebuilder:validation:MinLength=1
	Type string `json:"type"`
	// +optional
	Name string `json:"name,omitempty"`
	// +optional
	UseCachedMetrics bool `json:"useCachedMetrics,omitempty"`

	Metadata map[string]string `json:"metadata"`
	// +optional
	AuthenticationRef *AuthenticationRef `json:"authenticationRef,omitempty"`
	// +optional
	MetricType autoscalingv2.MetricTargetType `json:"metricType,omitempty"`
}

// AuthenticationRef points to a TriggerAuthentication or ClusterTriggerAuthentication.
type AuthenticationRef struct {
	Name string `json:"name"`
	// Kind is TriggerAuthentication (the default) or ClusterTriggerAuthentication.
	// +optional
	// +kubebuilder:validation:Enum=TriggerAuthentication;ClusterTriggerAuthentication
	Kind string `json:"kind,omitempty"`
}

// Fallback gives the replicas the HPA converges to when a trigger keeps failing.
type Fallback struct {
	// +kubebuilder:validation:Minimum=0
	FailureThreshold int32 `json:"failureThreshold"`
	// +kubebuilder:validation:Minimum=0
	Replicas int32 `json:"replicas"`
	// +optional
	// +kubebuilder:default=static
	// +kubebuilder:validation:Enum=static;currentReplicas;currentReplicasIfHigher;currentReplicasIfLower;scalingModifiers
	Behavior string `json:"behavior,omitempty"`
}

// fallback.behavior values, as KEDA 2.21 has them.
const (
	// FallbackBehaviorStatic serves fallback.replicas (the default).
	FallbackBehaviorStatic = "static"
	// FallbackBehaviorCurrentReplicas holds the target's current replicas.
	FallbackBehaviorCurrentReplicas = "currentReplicas"
	// FallbackBehaviorCurrentReplicasIfHigher serves the higher of current and fallback.replicas.
	FallbackBehaviorCurrentReplicasIfHigher = "currentReplicasIfHigher"
	// FallbackBehaviorCurrentReplicasIfLower serves the lower of current and fallback.replicas.
	FallbackBehaviorCurrentReplicasIfLower = "currentReplicasIfLower"
	// FallbackBehaviorScalingModifiers leaves the failing trigger to the scalingModifiers formula,
	// where its value is nil (for expr's ?? operator); a formula that gives nil serves
	// fallback.replicas times the scalingModifiers target.
	FallbackBehaviorScalingModifiers = "scalingModifiers"
)

// FallbackBehaviors lists the fallback.behavior values.
var FallbackBehaviors = []string{FallbackBehaviorStatic, FallbackBehaviorCurrentReplicas, FallbackBehaviorCurrentReplicasIfHigher, FallbackBehaviorCurrentReplicasIfLower, FallbackBehaviorScalingModifiers}

// AdvancedConfig holds the HPA settings and scaling modifiers.
type AdvancedConfig struct {
	// +optional
	HorizontalPodAutoscalerConfig *HorizontalPodAutoscalerConfig `json:"horizontalPodAutoscalerConfig,omitempty"`
	// +optional
	RestoreToOriginalReplicaCount bool `json:"restoreToOriginalReplicaCount,omitempty"`
	// +optional
	ScalingModifiers ScalingModifiers `json:"scalingModifiers,omitempty"`
}

// ScalingModifiers combines the triggers' metrics into one composite metric by a formula.
type ScalingModifiers struct {
	// +optional
	Formula string `json:"formula,omitempty"`
	// +optional
	Target string `json:"target,omitempty"`
	// +optional
	ActivationTarget string `json:"activationTarget,omitempty"`
	// +optional
	// +kubebuilder:validation:Enum=AverageValue;Value
	MetricType autoscalingv2.MetricTargetType `json:"metricType,omitempty"`
}

// HorizontalPodAutoscalerConfig customises the HPA the operator owns.
type HorizontalPodAutoscalerConfig struct {
	// +optional
	Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior,omitempty"`
	// +optional
	Name string `json:"name,omitempty"`
}

// ScaledObjectStatus is what the operator observed and decided.
type ScaledObjectStatus struct {
	// +optional
	ScaleTargetKind string `json:"scaleTargetKind,omitempty"`
	// +optional
	ScaleTargetGVKR *GroupVersionKindResource `json:"scaleTargetGVKR,omitempty"`
	// +optional
	OriginalReplicaCount *int32 `json:"originalReplicaCount,omitempty"`
	// +optional
	LastActiveTime *metav1.Time `json:"lastActiveTime,omitempty"`
	// +optional
	ExternalMetricNames []string `json:"externalMetricNames,omitempty"`
	// +optional
	ResourceMetricNames []string `json:"resourceMetricNames,omitempty"`
	// +optional
	CompositeScalerName string `json:"compositeScalerName,omitempty"`
	// +optional
	Conditions Conditions `json:"conditions,omitempty"`
	// +optional
	Health map[string]HealthStatus `json:"health,omitempty"`
	// +optional
	PausedReplicaCount *int32 `json:"pausedReplicaCount,omitempty"`
	// +optional
	HpaName string `json:"hpaName,omitempty"`
	// +optional
	TriggersTypes *string `json:"triggersTypes,omitempty"`
	// +optional
	TriggersActivity map[string]TriggerActivityStatus `json:"triggersActivity,omitempty"`
	// +optional
	AuthenticationsTypes string `json:"authenticationsTypes,omitempty"`
}

// GroupVersionKindResource identifies the resolved scale target's type.
type GroupVersionKindResource struct {
	Group    string `json:"group"`
	Version  string `json:"version"`
	Kind     string `json:"kind"`
	Resource string `json:"resource"`
}

// HealthStatus counts a trigger's consecutive failures.
type HealthStatus struct {
	// +optional
	NumberOfFailures *int32 `json:"numberOfFailures,omitempty"`
	// +optional
	Status HealthStatusType `json:"status,omitempty"`
}

// HealthStatusType is a trigger's health.
type HealthStatusType string

const (
	// HealthStatusHappy means the last poll succeeded.
	HealthStatusHappy HealthStatusType = "Happy"
	// HealthStatusFailing means the last poll failed.
	HealthStatusFailing HealthStatusType = "Failing"
)

// TriggerActivityStatus says whether one trigger is active.
type TriggerActivityStatus struct {
	IsActive bool `json:"isActive"`
}

func init() {
	SchemeBuilder.Register(&ScaledObject{}, &ScaledObjectList{})
}
