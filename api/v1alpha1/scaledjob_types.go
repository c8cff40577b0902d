package v1alpha1

import (
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +genclient
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=scaledjobs,scope=Namespaced,shortName=sj,categories=keda
// +kubebuilder:printcolumn:name="Min",type="integer",JSONPath=".spec.minReplicaCount"
// +kubebuilder:printcolumn:name="Max",type="integer",JSONPath=".spec.maxReplicaCount"
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Active",type="string",JSONPath=".status.conditions[?(@.type==\"Active\")].status"
// +kubebuilder:printcolumn:name="Paused",type="string",JSONPath=".status.conditions[?(@.type==\"Paused\")].status"
// +kubebuilder:printcolumn:name="Triggers",type="string",JSONPath=".status.triggersTypes"
// +kubebuilder:printcolumn:name="Authentications",type="string",JSONPath=".status.authenticationsTypes"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"

// ScaledJob runs Jobs from a template in proportion to its triggers' values.
type ScaledJob struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec may be omitted, as KEDA's CRD allows (the controller then reports the missing
	// jobTargetRef).
	// +optional
	Spec ScaledJobSpec `json:"spec,omitempty"`
	// +optional
	Status ScaledJobStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ScaledJobList is a list of ScaledJobs.
type ScaledJobList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []ScaledJob `json:"items"`
}

// ScaledJobSpec is what the user asks for; pointers mark fields with KEDA defaults.
type ScaledJobSpec struct {
	JobTargetRef *batchv1.JobSpec `json:"jobTargetRef"`
	// +optional
	// +kubebuilder:validation:Minimum=1
	PollingInterval *int32 `json:"pollingInterval,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=0
	SuccessfulJobsHistoryLimit *int32 `json:"successfulJobsHistoryLimit,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=0
	FailedJobsHistoryLimit *int32 `json:"failedJobsHistoryLimit,omitempty"`
	// +optional
	EnvSourceContainerName string `json:"envSourceContainerName,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=0
	MinReplicaCount *int32 `json:"minReplicaCount,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=1
	MaxReplicaCount *int32 `json:"maxReplicaCount,omitempty"`
	// RolloutStrategy is deprecated in favour of Rollout.Strategy.
	// +optional
	// +kubebuilder:validation:Enum=gradual;immediate
	RolloutStrategy string `json:"rolloutStrategy,omitempty"`
	// +optional
	Rollout Rollout `json:"rollout,omitempty"`
	// +optional
	ScalingStrategy ScalingStrategy `json:"scalingStrategy,omitempty"`
	// +kubebuilder:validation:MinItems=1
	Triggers []ScaleTriggers `json:"triggers"`
}

// Rollout says what happens to running Jobs when the ScaledJob changes.
type Rollout struct {
	// Strategy is immediate or gradual (see EffectiveRolloutStrategy).
	// +optional
	// +kubebuilder:validation:Enum=gradual;immediate
	Strategy string `json:"strategy,omitempty"`
	// PropagationPolicy is background or foreground (see EffectivePropagationPolicy).
	// +optional
	// +kubebuilder:validation:Enum=foreground;background
	PropagationPolicy string `json:"propagationPolicy,omitempty"`
}

// ScalingStrategy says how many Jobs to start for a queue length.
type ScalingStrategy struct {
	// Strategy is default, custom, accurate or eager (see EffectiveScalingStrategy).
	// +optional
	// +kubebuilder:validation:Enum=default;custom;accurate;eager
	Strategy string `json:"strategy,omitempty"`
	// CustomScalingQueueLengthDeduction and CustomScalingRunningJobPercentage (a decimal number
	// as a string) tune the custom strategy.
	// +optional
	CustomScalingQueueLengthDeduction *int32 `json:"customScalingQueueLengthDeduction,omitempty"`
	// +optional
	CustomScalingRunningJobPercentage string `json:"customScalingRunningJobPercentage,omitempty"`
	// PendingPodConditions: a Job counts as pending until its Pod has every one of these condition
	// types True (when empty, until the Pod runs).
	// +optional
	PendingPodConditions []string `json:"pendingPodConditions,omitempty"`
	// MultipleScalersCalculation is max, min, avg or sum (see EffectiveMultipleScalersCalculation).
	// +optional
	// +kubebuilder:validation:Enum=min;avg;sum;max
	MultipleScalersCalculation string `json:"multipleScalersCalculation,omitempty"`
}

// ScaledJobStatus is what the operator observed.
type ScaledJobStatus struct {
	// +optional
	LastActiveTime *metav1.Time `json:"lastActiveTime,omitempty"`
	// +optional
	Conditions Conditions `json:"conditions,omitempty"`
	// Paused is "true" while the ScaledJob is paused by annotation (KEDA spells it capitalised).
	// +optional
	Paused string `json:"Paused,omitempty"`
	// +optional
	TriggersTypes *string `json:"triggersTypes,omitempty"`
	// +optional
	TriggersActivity map[string]TriggerActivityStatus `json:"triggersActivity,omitempty"`
	// +optional
	AuthenticationsTypes string `json:"authenticationsTypes,omitempty"`
	// +optional
	ExternalMetricNames []string `json:"externalMetricNames,omitempty"`
}

func init() {
	SchemeBuilder.Register(&ScaledJob{}, &ScaledJobList{})
}
