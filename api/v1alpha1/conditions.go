package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ConditionType names a condition as KEDA does.
type ConditionType string

const (
	// ConditionReady says whether the object is valid and its HPA and triggers are set up.
	ConditionReady ConditionType = "Ready"
	// ConditionActive says whether any trigger is active, so the target runs above zero/idle.
	ConditionActive ConditionType = "Active"
	// ConditionFallback says whether fallback replicas are in force because triggers keep failing.
	ConditionFallback ConditionType = "Fallback"
	// ConditionPaused says whether autoscaling is paused by annotation.
	ConditionPaused ConditionType = "Paused"
)

// Condition is one observation about a KEDA object. KEDA's conditions carry no timestamps.
type Condition struct {
	Type   ConditionType          `json:"type"`
	Status metav1.ConditionStatus `json:"status"`
	// +optional
	Reason string `json:"reason,omitempty"`
	// +optional
	Message string `json:"message,omitempty"`
}

// Conditions is the list every KEDA object's status carries.
type Conditions []Condition

// Get returns the condition of the given type, or nil.
func (c Conditions) Get(t ConditionType) *Condition {
	for i := range c {
		if c[i].Type == t {
			return &c[i]
		}
	}
	return nil
}

// Set replaces or adds the condition of cond.Type and reports whether anything changed.
func (c *Conditions) Set(cond Condition) bool {
	if existing := c.Get(cond.Type); existing != nil {
		if *existing == cond {
			return false
		}
		*existing = cond
		return true
	}
	*c = append(*c, cond)
	return true
}

// IsTrue reports whether the condition of type t is present and True.
func (c Conditions) IsTrue(t ConditionType) bool {
	cond := c.Get(t)
	return cond != nil && cond.Status == metav1.ConditionTrue
}
