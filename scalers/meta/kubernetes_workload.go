package meta

import (
	"fmt"

	"k8s.io/apimachinery/pkg/labels"
)

// KubernetesWorkloadMetadata is the kubernetes-workload trigger's metadata.
type KubernetesWorkloadMetadata struct {
	PodSelector     string  `keda:"name=podSelector, order=triggerMetadata"`
	Value           float64 `keda:"name=value, order=triggerMetadata, default=0"`
	ActivationValue float64 `keda:"name=activationValue, order=triggerMetadata, default=0"`
	GroupByNode     bool    `keda:"name=groupByNode, order=triggerMetadata, default=false"`
	MetricSource

	Selector labels.Selector
}

// Validate parses the selector and checks the target.
func (m *KubernetesWorkloadMetadata) Validate() error {
	sel, err := labels.Parse(m.PodSelector)
	if err != nil {
		return &ParamError{Param: "podSelector", Problem: fmt.Sprintf("%q is not a label selector (%v)", m.PodSelector, err),
			Fix: "use Kubernetes selector syntax, e.g. app=backend or app=backend,tier notin (batch)"}
	}
	if sel.Empty() {
		return &ParamError{Param: "podSelector", Problem: "selects every pod", Fix: "name the pods to count, e.g. app=backend"}
	}
	m.Selector = sel
	if m.Value < 0 || (m.Value == 0 && !m.AsMetricSource()) {
		return &ParamError{Param: "value", Problem: fmt.Sprintf("is %g", m.Value), Fix: "set the number of matching pods per replica of the target, greater than 0, e.g. \"2\" or \"0.5\""}
	}
	if m.ActivationValue < 0 {
		return &ParamError{Param: "activationValue", Problem: fmt.Sprintf("is %g", m.ActivationValue), Fix: "must not be negative"}
	}
	return nil
}
