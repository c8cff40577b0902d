// Package kedaclient is the small client the plugin's commands and the TUI use to read what the
// operator (ours or upstream KEDA: they write the same objects) believes: ScaledObjects and
// ScaledJobs, their HPAs and targets, external metrics and events.
package kedaclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/scale"
	"k8s.io/metrics/pkg/apis/external_metrics/v1beta1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eventingv1alpha1 "github.com/kedactl/kedactl/api/eventing/v1alpha1"
	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/internal/shard"
)

// Client reads and patches KEDA objects.
type Client struct {
	CR     client.Client
	Kube   kubernetes.Interface
	scales scale.ScalesGetter
}

// New builds a Client from a rest config.
func New(cfg *rest.Config) (*Client, error) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("failed to build the scheme: %w", err)
	}
	if err := kedav1alpha1.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("failed to build the scheme: %w", err)
	}
	if err := eventingv1alpha1.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("failed to build the scheme: %w", err)
	}
	cr, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("failed to create a client: %w", err)
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to create a clientset: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to create a discovery client: %w", err)
	}
	cached := memory.NewMemCacheClient(dc)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(cached)
	sc, err := scale.NewForConfig(cfg, mapper, dynamic.LegacyAPIPathResolverFunc, scale.NewDiscoveryScaleKindResolver(cached))
	if err != nil {
		return nil, fmt.Errorf("failed to create a scale client: %w", err)
	}
	return &Client{CR: cr, Kube: kube, scales: sc}, nil
}

// ScaledObjects lists the ScaledObjects of namespace (all namespaces when empty), sorted.
func (c *Client) ScaledObjects(ctx context.Context, namespace string) ([]kedav1alpha1.ScaledObject, error) {
	list := &kedav1alpha1.ScaledObjectList{}
	if err := c.CR.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("failed to list ScaledObjects: %w", wrapNoCRD(err))
	}
	sortByNamespaceName(list.Items)
	return list.Items, nil
}

// ScaledJobs lists the ScaledJobs of namespace (all namespaces when empty), sorted.
func (c *Client) ScaledJobs(ctx context.Context, namespace string) ([]kedav1alpha1.ScaledJob, error) {
	list := &kedav1alpha1.ScaledJobList{}
	if err := c.CR.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("failed to list ScaledJobs: %w", wrapNoCRD(err))
	}
	sortByNamespaceName(list.Items)
	return list.Items, nil
}

// JobsOf lists a ScaledJob's Jobs and their Pods: KEDA labels both scaledjob.keda.sh/name=<ScaledJob>
// (the Pods through the Job's pod template), so one selector finds them, as the operator finds them.
func (c *Client) JobsOf(ctx context.Context, sj *kedav1alpha1.ScaledJob) ([]batchv1.Job, []corev1.Pod, error) {
	sel := metav1.ListOptions{LabelSelector: kedav1alpha1.LabelScaledJobName + "=" + sj.Name}
	jobs, err := c.Kube.BatchV1().Jobs(sj.Namespace).List(ctx, sel)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to list the Jobs of ScaledJob %s/%s: %w", sj.Namespace, sj.Name, err)
	}
	pods, err := c.Kube.CoreV1().Pods(sj.Namespace).List(ctx, sel)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to list the Pods of ScaledJob %s/%s: %w", sj.Namespace, sj.Name, err)
	}
	return jobs.Items, pods.Items, nil
}

// sortByNamespaceName sorts objects by namespace, then name, as kubectl lists them.
func sortByNamespaceName[T any, P interface {
	*T
	GetNamespace() string
	GetName() string
}](items []T) {
	sort.Slice(items, func(i, j int) bool {
		a, b := P(&items[i]), P(&items[j])
		if a.GetNamespace() != b.GetNamespace() {
			return a.GetNamespace() < b.GetNamespace()
		}
		return a.GetName() < b.GetName()
	})
}

// ScaledObject gets one ScaledObject.
func (c *Client) ScaledObject(ctx context.Context, namespace, name string) (*kedav1alpha1.ScaledObject, error) {
	so := &kedav1alpha1.ScaledObject{}
	if err := c.CR.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, so); err != nil {
		return nil, fmt.Errorf("failed to get ScaledObject %s/%s: %w", namespace, name, wrapNoCRD(err))
	}
	return so, nil
}

// ScaledJob gets one ScaledJob.
func (c *Client) ScaledJob(ctx context.Context, namespace, name string) (*kedav1alpha1.ScaledJob, error) {
	sj := &kedav1alpha1.ScaledJob{}
	if err := c.CR.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, sj); err != nil {
		return nil, fmt.Errorf("failed to get ScaledJob %s/%s: %w", namespace, name, wrapNoCRD(err))
	}
	return sj, nil
}

// HPA returns the HPA a ScaledObject owns, or nil when there is none.
func (c *Client) HPA(ctx context.Context, so *kedav1alpha1.ScaledObject) (*autoscalingv2.HorizontalPodAutoscaler, error) {
	name := so.Status.HpaName
	if name == "" {
		name = so.HPAName()
	}
	hpa, err := c.Kube.AutoscalingV2().HorizontalPodAutoscalers(so.Namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to get HPA %s/%s: %w", so.Namespace, name, err)
	}
	return hpa, nil
}

// Scale returns the /scale of the ScaledObject's target, or nil when status does not say yet what
// the target is.
func (c *Client) Scale(ctx context.Context, so *kedav1alpha1.ScaledObject) (*autoscalingv1.Scale, error) {
	g := so.Status.ScaleTargetGVKR
	if g == nil || so.Spec.ScaleTargetRef == nil {
		return nil, nil
	}
	sc, err := c.scales.Scales(so.Namespace).Get(ctx, schema.GroupResource{Group: g.Group, Resource: g.Resource}, so.Spec.ScaleTargetRef.Name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("failed to get /scale of %s %s/%s: %w", g.Kind, so.Namespace, so.Spec.ScaleTargetRef.Name, err)
	}
	return sc, nil
}

// MetricValue is one answer of the external metrics API.
type MetricValue struct {
	Metric    string    `json:"metric"`
	Value     string    `json:"value"`
	Timestamp time.Time `json:"timestamp"`
	// Labels are the value's metricLabels: kedactl's operator describes a ScaledJob's trigger
	// with them (kedav1alpha1.MetricLabelTargetAverageValue, kedav1alpha1.MetricLabelActive).
	Labels map[string]string `json:"labels,omitempty"`
	// Raw is the API's JSON answer.
	Raw json.RawMessage `json:"-"`
}

// ErrNoMetricsAPI says that nothing serves external.metrics.k8s.io.
var ErrNoMetricsAPI = errors.New("the external metrics API (v1beta1.external.metrics.k8s.io) is not available: check `kubectl get apiservice v1beta1.external.metrics.k8s.io` and the operator's metrics server")

// ExternalMetric asks the external metrics API for metric of the ScaledObject, exactly as the HPA
// does (namespace, metric name, label selector scaledobject.keda.sh/name=<so>).
func (c *Client) ExternalMetric(ctx context.Context, namespace, soName, metric string) (*MetricValue, error) {
	raw, err := c.externalMetric(ctx, namespace, kedav1alpha1.LabelScaledObjectName+"="+soName, metric)
	if err != nil {
		if apierrors.IsNotFound(err) && strings.Contains(err.Error(), "the server could not find the requested resource") {
			return nil, ErrNoMetricsAPI
		}
		return nil, fmt.Errorf("metric %s: %w", metric, err)
	}
	return ParseMetricAnswer(raw, metric)
}

// ScaledJobMetric asks the external metrics API for metric of the ScaledJob (label selector
// scaledjob.keda.sh/name=<sj>), which only kedactl's operator serves. A NotFound answer is returned
// wrapped, not turned into ErrNoMetricsAPI: upstream KEDA answers NotFound for ScaledJobs, and the
// caller tells that apart from a failing trigger with apierrors.IsNotFound.
func (c *Client) ScaledJobMetric(ctx context.Context, namespace, sjName, metric string) (*MetricValue, error) {
	raw, err := c.externalMetric(ctx, namespace, kedav1alpha1.LabelScaledJobName+"="+sjName, metric)
	if err != nil {
		return nil, fmt.Errorf("metric %s: %w", metric, err)
	}
	return ParseMetricAnswer(raw, metric)
}

func (c *Client) externalMetric(ctx context.Context, namespace, selector, metric string) ([]byte, error) {
	return c.Kube.CoreV1().RESTClient().Get().
		AbsPath("/apis/external.metrics.k8s.io/v1beta1/namespaces", namespace, metric).
		Param("labelSelector", selector).DoRaw(ctx)
}

// ParseMetricAnswer reads the external metrics API's answer for metric: its first value.
func ParseMetricAnswer(raw []byte, metric string) (*MetricValue, error) {
	list := &v1beta1.ExternalMetricValueList{}
	if err := json.Unmarshal(raw, list); err != nil {
		return nil, fmt.Errorf("failed to decode the answer for metric %s: %w", metric, err)
	}
	if len(list.Items) == 0 {
		return nil, fmt.Errorf("metric %s: the external metrics API returned no value", metric)
	}
	it := list.Items[0]
	return &MetricValue{Metric: metric, Value: it.Value.String(), Timestamp: it.Timestamp.Time, Labels: it.MetricLabels, Raw: raw}, nil
}

// MetricsAPIAvailable reports whether the APIService of external.metrics.k8s.io is Available, with
// its condition message.
func (c *Client) MetricsAPIAvailable(ctx context.Context) (bool, string, error) {
	raw, err := c.Kube.CoreV1().RESTClient().Get().AbsPath("/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.external.metrics.k8s.io").DoRaw(ctx)
	if apierrors.IsNotFound(err) {
		return false, "APIService v1beta1.external.metrics.k8s.io does not exist", nil
	}
	if err != nil {
		return false, "", fmt.Errorf("failed to read APIService v1beta1.external.metrics.k8s.io: %w", err)
	}
	var svc struct {
		Status struct {
			Conditions []struct{ Type, Status, Reason, Message string } `json:"conditions"`
		} `json:"status"`
	}
	if err := json.Unmarshal(raw, &svc); err != nil {
		return false, "", fmt.Errorf("failed to decode APIService: %w", err)
	}
	for _, cond := range svc.Status.Conditions {
		if cond.Type == "Available" {
			return cond.Status == "True", cond.Reason + ": " + cond.Message, nil
		}
	}
	return false, "APIService has no Available condition yet", nil
}

// Events returns the events about an object, newest last.
func (c *Client) Events(ctx context.Context, namespace, kind, name string) ([]corev1.Event, error) {
	sel := fields.Set{"involvedObject.name": name, "involvedObject.kind": kind}.AsSelector().String()
	list, err := c.Kube.CoreV1().Events(namespace).List(ctx, metav1.ListOptions{FieldSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("failed to list events of %s %s/%s: %w", kind, namespace, name, err)
	}
	sort.SliceStable(list.Items, func(i, j int) bool { return eventTime(&list.Items[i]).Before(eventTime(&list.Items[j])) })
	return list.Items, nil
}

func eventTime(e *corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	default:
		return e.CreationTimestamp.Time
	}
}

// EventTime is when an event last happened.
func EventTime(e *corev1.Event) time.Time { return eventTime(e) }

// wrapNoCRD turns "no kind ScaledObject" into advice.
func wrapNoCRD(err error) error {
	if meta.IsNoMatchError(err) || strings.Contains(fmt.Sprint(err), "the server could not find the requested resource") {
		return fmt.Errorf("%w (are the keda.sh CRDs installed? try `helm install keda charts/keda`)", err)
	}
	return err
}

// CloudEventSources lists the CloudEventSources of namespace and the ClusterCloudEventSources. A
// cluster without the eventing.keda.sh CRDs (or a user who may not read them) has none.
func (c *Client) CloudEventSources(ctx context.Context, namespace string) ([]eventingv1alpha1.CloudEventSource, []eventingv1alpha1.ClusterCloudEventSource) {
	var ns eventingv1alpha1.CloudEventSourceList
	var cluster eventingv1alpha1.ClusterCloudEventSourceList
	if err := c.CR.List(ctx, &ns, client.InNamespace(namespace)); err != nil {
		ns.Items = nil
	}
	if err := c.CR.List(ctx, &cluster); err != nil {
		cluster.Items = nil
	}
	return ns.Items, cluster.Items
}

// MembershipLeases lists the membership Leases of kedactl's operator replicas in every namespace
// (the operator's own is not known here). A user who may not list Leases, or a cluster running
// one replica or KEDA's operator, has none: who polls each object is then not shown.
func (c *Client) MembershipLeases(ctx context.Context) []coordinationv1.Lease {
	list, err := c.Kube.CoordinationV1().Leases("").List(ctx, metav1.ListOptions{LabelSelector: shard.LabelGroup})
	if err != nil {
		return nil
	}
	return list.Items
}
