package v1alpha1

// GetTriggers returns spec.triggers.
func (so *ScaledObject) GetTriggers() []ScaleTriggers { return so.Spec.Triggers }

// GetTriggers returns spec.triggers.
func (sj *ScaledJob) GetTriggers() []ScaleTriggers { return sj.Spec.Triggers }
