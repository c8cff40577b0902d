package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupName is the API group the operator serves histories under.
const GroupName = "history.kedactl.dev"

// GroupVersion is history.kedactl.dev/v1alpha1.
var GroupVersion = schema.GroupVersion{Group: GroupName, Version: "v1alpha1"}

// Resource names: a history is read as GET .../namespaces/NS/scaledobjects/NAME (or scaledjobs),
// named after the object it describes, so RBAC on it reads like RBAC on the object.
const (
	ResourceScaledObjects = "scaledobjects"
	ResourceScaledJobs    = "scaledjobs"
)

// ScaledObjectHistory is the recent history of the ScaledObject of the same name.
//
// +kubebuilder:object:root=true
type ScaledObjectHistory struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	History           `json:",inline"`
}

// ScaledJobHistory is the recent history of the ScaledJob of the same name.
//
// +kubebuilder:object:root=true
type ScaledJobHistory struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	History           `json:",inline"`
}

// History is what the operator remembers of one object, oldest first. Both lists are bounded
// rings: samples and decisions are kept apart so that frequent samples never push out the rarer
// decisions.
type History struct {
	// Since is when the operator started remembering this object (its first sample or decision
	// since the operator started): anything older is only in Kubernetes events.
	Since metav1.Time `json:"since"`
	// SampleCapacity and DecisionCapacity are the ring sizes: with as many entries, the oldest
	// have been dropped.
	SampleCapacity   int32      `json:"sampleCapacity"`
	DecisionCapacity int32      `json:"decisionCapacity"`
	Samples          []Sample   `json:"samples"`
	Decisions        []Decision `json:"decisions"`
}

// Sample is every trigger's reading at one evaluation, with the target's replicas then.
type Sample struct {
	Time metav1.Time `json:"time"`
	// LastTime is the last evaluation that read the same as this one: the operator keeps a run
	// of equal samples once (an idle object's readings do not change for hours), from Time to
	// LastTime. Unset when no later evaluation read the same.
	LastTime *metav1.Time `json:"lastTime,omitempty"`
	// Replicas is the scale target's replica count the operator read before deciding (unset for
	// ScaledJobs).
	Replicas *int32 `json:"replicas,omitempty"`
	// DesiredReplicas is what the operator decided for a ScaledObject (the same as Replicas when
	// it left scaling to the HPA) or the Jobs it wanted running for a ScaledJob.
	DesiredReplicas *int32           `json:"desiredReplicas,omitempty"`
	Triggers        []TriggerReading `json:"triggers"`
}

// TriggerReading is one trigger metric's reading.
type TriggerReading struct {
	Index      int32  `json:"index"`
	Name       string `json:"name,omitempty"`
	Type       string `json:"type"`
	MetricName string `json:"metricName,omitempty"`
	// Value is the last good value (after an error, that of the last poll that succeeded).
	Value *resource.Quantity `json:"value,omitempty"`
	// Target is the HPA's target for the metric; TargetType says whether it is an AverageValue or
	// a Value.
	Target     *resource.Quantity `json:"target,omitempty"`
	TargetType string             `json:"targetType,omitempty"`
	// Activation is the trigger's activation threshold as its metadata sets it ("0" when unset).
	Activation string `json:"activation,omitempty"`
	Active     bool   `json:"active"`
	// Error is the poll's error, as the operator's events show it.
	Error string `json:"error,omitempty"`
}

// DecisionType names what the operator decided or saw.
type DecisionType string

// The decisions the operator records.
const (
	// DecisionActivated: the target left zero (or the idle count) because of Trigger.
	DecisionActivated DecisionType = "Activated"
	// DecisionDeactivated: the target went to zero (or the idle count) after Trigger went
	// inactive and the cooldown passed.
	DecisionDeactivated DecisionType = "Deactivated"
	// DecisionScaleFailed: writing the target's /scale failed.
	DecisionScaleFailed DecisionType = "ScaleFailed"
	// DecisionFallbackOn and DecisionFallbackOff: fallback replicas started or stopped being served.
	DecisionFallbackOn  DecisionType = "FallbackOn"
	DecisionFallbackOff DecisionType = "FallbackOff"
	// DecisionPaused and DecisionResumed: the paused annotations took or lost effect.
	DecisionPaused  DecisionType = "Paused"
	DecisionResumed DecisionType = "Resumed"
	// DecisionScalerError: Trigger started failing (or its scaler could not be built).
	DecisionScalerError DecisionType = "ScalerError"
	// DecisionScalerRecovered: Trigger answers again.
	DecisionScalerRecovered DecisionType = "ScalerRecovered"
	// DecisionJobsCreated: a ScaledJob created Jobs Jobs.
	DecisionJobsCreated DecisionType = "JobsCreated"
	// DecisionConfigChanged: the operator reconciled a new generation of the object's spec.
	DecisionConfigChanged DecisionType = "ConfigChanged"
)

// Decision is one thing that happened to the object, as the operator decided or saw it.
type Decision struct {
	Time metav1.Time  `json:"time"`
	Type DecisionType `json:"type"`
	// Trigger names the trigger (or triggers, separated by ";") the decision is due to.
	Trigger string `json:"trigger,omitempty"`
	// FromReplicas and ToReplicas are the target's replicas before and after a scale.
	FromReplicas *int32 `json:"fromReplicas,omitempty"`
	ToReplicas   *int32 `json:"toReplicas,omitempty"`
	// Jobs is how many Jobs were created.
	Jobs int32 `json:"jobs,omitempty"`
	// Generation is the spec's generation (set on ConfigChanged).
	Generation int64  `json:"generation,omitempty"`
	Message    string `json:"message,omitempty"`
}

// AddToScheme registers the kinds of this package, and the options the apiserver decodes with
// them, in s.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &ScaledObjectHistory{}, &ScaledJobHistory{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
