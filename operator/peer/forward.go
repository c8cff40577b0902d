package peer

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/metrics/pkg/apis/external_metrics"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/operator/engine"
	"github.com/kedactl/kedactl/operator/membership"
)

// Forwarder asks another replica for a metric.
type Forwarder interface {
	ExternalMetric(ctx context.Context, m membership.Member, namespace, metric string, selector labels.Selector) (*external_metrics.ExternalMetricValueList, error)
}

// Forwarding answers the external metrics API on any replica: from Local when this replica owns
// the object, else from its owner.
type Forwarding struct {
	Local   provider.ExternalMetricsProvider
	Owners  membership.Owners
	Forward Forwarder
	// Known lists the metrics every replica knows of (the ScaledObjects' status, say), for the
	// discovery of a replica that polls none of them; nil lists the local ones only.
	Known func() []provider.ExternalMetricInfo
}

var _ provider.ExternalMetricsProvider = (*Forwarding)(nil)

var externalMetricsGR = schema.GroupResource{Group: "external.metrics.k8s.io", Resource: "externalmetrics"}

// GetExternalMetric routes by the object the selector names; a selector naming none is answered
// locally (with the local provider's error).
func (f *Forwarding) GetExternalMetric(ctx context.Context, namespace string, selector labels.Selector, info provider.ExternalMetricInfo) (*external_metrics.ExternalMetricValueList, error) {
	key, ok := objectKey(namespace, selector)
	if !ok {
		return f.Local.GetExternalMetric(ctx, namespace, selector, info)
	}
	owner, self, err := f.Owners.Owner(key)
	if err != nil {
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("metric %s of %s %s/%s: no replica to answer it: %v", info.Metric, key.Kind, namespace, key.Name, err))
	}
	if self {
		return f.Local.GetExternalMetric(ctx, namespace, selector, info)
	}
	return f.Forward.ExternalMetric(ctx, owner, namespace, info.Metric, selector)
}

// ListAllExternalMetrics lists the local metrics and the known ones, so that the group's
// discovery reads the same on every replica.
func (f *Forwarding) ListAllExternalMetrics() []provider.ExternalMetricInfo {
	local := f.Local.ListAllExternalMetrics()
	if f.Known == nil {
		return local
	}
	seen := make(map[string]bool, len(local))
	for _, m := range local {
		seen[m.Metric] = true
	}
	for _, m := range f.Known() {
		if !seen[m.Metric] {
			seen[m.Metric] = true
			local = append(local, m)
		}
	}
	return local
}

// objectKey is the object a metric request is about, as the HPA's selector names it.
func objectKey(namespace string, selector labels.Selector) (engine.Key, bool) {
	if name, ok := selector.RequiresExactMatch(kedav1alpha1.LabelScaledObjectName); ok {
		return engine.ScaledObjectKey(types.NamespacedName{Namespace: namespace, Name: name}), true
	}
	if name, ok := selector.RequiresExactMatch(kedav1alpha1.LabelScaledJobName); ok {
		return engine.Key{Kind: engine.KindScaledJob, Namespace: namespace, Name: name}, true
	}
	return engine.Key{}, false
}
