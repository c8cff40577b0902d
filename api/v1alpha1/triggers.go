package v1alpha1

// TriggerConfigs is implemented by kinds that carry triggers, so one validation serves both.
type TriggerConfigs interface {
	GetTriggers() []ScaleTriggers
}

// GetTriggers returns spec.triggers.
func (so *ScaledObject) GetTriggers() []ScaleTriggers { return so.Spec.Triggers }

// GetTriggers returns spec.triggers.
func (sj *ScaledJob) GetTriggers() []ScaleTriggers { return sj.Spec.Triggers }
