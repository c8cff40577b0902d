package v1alpha1

import (
	"sort"
	"strings"
)

// GetTriggers returns spec.triggers.
func (so *ScaledObject) GetTriggers() []ScaleTriggers { return so.Spec.Triggers }

// GetTriggers returns spec.triggers.
func (sj *ScaledJob) GetTriggers() []ScaleTriggers { return sj.Spec.Triggers }

// ActivationThreshold finds a trigger's activation parameter in its metadata: every KEDA scaler
// names it activation<Something>; "0" when the trigger sets none.
func ActivationThreshold(meta map[string]string) string {
	keys := make([]string, 0, len(meta))
	for k := range meta {
		if strings.HasPrefix(k, "activation") {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return "0"
	}
	sort.Strings(keys)
	return meta[keys[0]]
}
