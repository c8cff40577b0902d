// Package metrics serves external.metrics.k8s.io/v1beta1 to the HPA from the engine's cache, so
// that answering the HPA never opens a connection to an event source.
package metrics

import (
	"context"
	"fmt"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/metrics/pkg/apis/external_metrics"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/operator/engine"
)

// StateReader is the part of the engine the provider reads.
type StateReader interface {
	State(key types.NamespacedName) (engine.ObjectState, bool)
	Keys() []types.NamespacedName
}

// Provider answers external metric queries from the engine's cache.
type Provider struct {
	state StateReader
}

var _ provider.ExternalMetricsProvider = (*Provider)(nil)

// NewProvider returns a Provider reading state.
func NewProvider(state StateReader) *Provider {
	return &Provider{state: state}
}

var externalMetricsResource = schema.GroupResource{Group: "external.metrics.k8s.io", Resource: "externalmetrics"}

// GetExternalMetric returns the latest sample of info.Metric for the ScaledObject named by the
// selector's scaledobject.keda.sh/name label.
func (p *Provider) GetExternalMetric(_ context.Context, namespace string, selector labels.Selector, info provider.ExternalMetricInfo) (*external_metrics.ExternalMetricValueList, error) {
	name, ok := selector.RequiresExactMatch(kedav1alpha1.LabelScaledObjectName)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the label selector must select %s=<ScaledObject name>, got %q", kedav1alpha1.LabelScaledObjectName, selector.String()))
	}
	key := types.NamespacedName{Namespace: namespace, Name: name}
	st, ok := p.state.State(key)
	if !ok {
		return nil, apierrors.NewNotFound(externalMetricsResource, fmt.Sprintf("%s (ScaledObject %s is not registered)", info.Metric, key))
	}
	t := st.Metric(info.Metric)
	if t == nil {
		return nil, apierrors.NewNotFound(externalMetricsResource, fmt.Sprintf("%s (not a metric of ScaledObject %s)", info.Metric, key))
	}
	if !t.Polled {
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("metric %s of ScaledObject %s has not been polled yet", info.Metric, key))
	}
	if t.Err != nil {
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("metric %s of ScaledObject %s: trigger %d (%s) failed %d time(s) in a row: %v", info.Metric, key, t.Index, t.Type, t.ConsecutiveFailures, t.Err))
	}
	return &external_metrics.ExternalMetricValueList{Items: []external_metrics.ExternalMetricValue{{
		MetricName:   info.Metric,
		MetricLabels: map[string]string{},
		Timestamp:    metav1.NewTime(t.Time),
		Value:        t.Value,
	}}}, nil
}

// ListAllExternalMetrics lists the metric names of every registered trigger.
func (p *Provider) ListAllExternalMetrics() []provider.ExternalMetricInfo {
	seen := map[string]bool{}
	for _, key := range p.state.Keys() {
		st, _ := p.state.State(key)
		for _, t := range st.Triggers {
			if t.MetricName != "" {
				seen[t.MetricName] = true
			}
		}
	}
	out := make([]provider.ExternalMetricInfo, 0, len(seen))
	for name := range seen {
		out = append(out, provider.ExternalMetricInfo{Metric: name})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Metric < out[j].Metric })
	return out
}
