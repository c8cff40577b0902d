package scalers

import (
	"context"
	"errors"
	"fmt"

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// PodLister is the one thing of the Kubernetes API a scaler may read: the pods of a namespace that
// match a selector. The operator passes its cached client; tests pass a slice.
type PodLister interface {
	ListPods(ctx context.Context, namespace string, selector labels.Selector) ([]corev1.Pod, error)
}

// PodWatcher is a capability a PodLister may have: telling when the pods it lists change, from the
// watch that keeps its cache (the operator's informer), so that the kubernetes-workload trigger
// can push without a watch of its own. WatchPods calls changed whenever a pod of namespace that
// matches selector (before or after the change) is added, deleted, or changes in what the trigger
// counts; the returned func stops the calls.
type PodWatcher interface {
	WatchPods(ctx context.Context, namespace string, selector labels.Selector, changed func()) (unregister func(), err error)
}

type kubernetesWorkloadScaler struct {
	cfg        *Config
	meta       meta.KubernetesWorkloadMetadata
	metricName string
}

func newKubernetesWorkloadScaler(_ context.Context, cfg *Config) (Scaler, error) {
	s := &kubernetesWorkloadScaler{cfg: cfg}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	if cfg.Pods == nil {
		return nil, fmt.Errorf("trigger %d (%s): no Kubernetes client to count pods with (the operator passes its own)", cfg.TriggerIndex, cfg.TriggerType)
	}
	s.metricName = MetricName(cfg.TriggerIndex, "workload-"+cfg.ScalableObjectNamespace)
	return s, nil
}

func (s *kubernetesWorkloadScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, s.meta.Value)
}

// GetMetricsAndActivity counts the matching pods of the ScaledObject's namespace that are not in a
// terminal phase (or, with groupByNode, the nodes they run on).
func (s *kubernetesWorkloadScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	pods, err := s.cfg.Pods.ListPods(ctx, s.cfg.ScalableObjectNamespace, s.meta.Selector)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, false, fmt.Errorf("listing pods %q in namespace %s took longer than %s: %w", s.meta.PodSelector, s.cfg.ScalableObjectNamespace, s.cfg.Timeout, err)
		}
		return nil, false, fmt.Errorf("failed to list pods %q in namespace %s: %w", s.meta.PodSelector, s.cfg.ScalableObjectNamespace, err)
	}
	count := countPods(pods, s.meta.GroupByNode)
	return []external_metrics.ExternalMetricValue{{MetricName: metricName, Value: *resource.NewQuantity(count, resource.DecimalSI)}},
		float64(count) > s.meta.ActivationValue, nil
}

// countPods counts the pods not Succeeded or Failed; byNode counts the distinct nodes they are
// bound to instead, leaving out pods not scheduled yet.
func countPods(pods []corev1.Pod, byNode bool) int64 {
	nodes := map[string]struct{}{}
	var n int64
	for i := range pods {
		p := &pods[i]
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		if !byNode {
			n++
			continue
		}
		if p.Spec.NodeName != "" {
			nodes[p.Spec.NodeName] = struct{}{}
		}
	}
	if byNode {
		return int64(len(nodes))
	}
	return n
}

func (s *kubernetesWorkloadScaler) Close(context.Context) error { return nil }
