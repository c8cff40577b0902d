package tui

import (
	"context"
	"errors"
	"fmt"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/operator/scaledjob"
	"github.com/kedactl/kedactl/plugin/commands"
	"github.com/kedactl/kedactl/plugin/kedaclient"
)

// Object is one ScaledObject or ScaledJob and what the list and detail views show of it.
type Object struct {
	// ScaledObject is set for a ScaledObject, with HPA the HPA it owns (nil when missing).
	ScaledObject kedav1alpha1.ScaledObject
	HPA          *autoscalingv2.HorizontalPodAutoscaler
	// ScaledJob is set instead for a ScaledJob, with RunningJobs its unfinished Jobs (pending ones
	// included, as the operator counts them).
	ScaledJob   *kedav1alpha1.ScaledJob
	RunningJobs int
}

// ref names an object of the list: its kind, namespace and name.
type ref struct{ kind, namespace, name string }

// String is namespace/name, as kubectl prints it.
func (r ref) String() string { return r.namespace + "/" + r.name }

func (o *Object) ref() ref {
	if o.ScaledJob != nil {
		return ref{kind: commands.KindScaledJob, namespace: o.ScaledJob.Namespace, name: o.ScaledJob.Name}
	}
	return ref{kind: commands.KindScaledObject, namespace: o.ScaledObject.Namespace, name: o.ScaledObject.Name}
}

// Source is how the TUI reads and changes the cluster. Every call runs inside a tea.Cmd, never in
// View. kind is commands.KindScaledObject or commands.KindScaledJob.
type Source interface {
	// Objects returns the ScaledObjects (with their HPAs) and ScaledJobs (with their unfinished
	// Jobs) of namespace ("" for all).
	Objects(ctx context.Context, namespace string) ([]Object, error)
	// Describe diagnoses one object and reads its events; for a ScaledJob also its queue, Job
	// counts, decision and recent Jobs.
	Describe(ctx context.Context, kind, namespace, name string) (*commands.Description, error)
	// SetPaused pauses or resumes autoscaling of an object.
	SetPaused(ctx context.Context, kind, namespace, name string, paused bool) error
	// TriggerValues reads the ScaledObject's metrics from the external metrics API, as `kubectl
	// keda top` and the HPA do, by metric name; a metric that could not be read is left out.
	TriggerValues(ctx context.Context, namespace, name string, metrics []string) (map[string]float64, error)
	// Metrics is the raw external.metrics query of `kubectl keda metrics` (ScaledObjects only).
	Metrics(ctx context.Context, namespace, name string) ([]commands.MetricRow, error)
	// TransferHPA is `kubectl keda transfer-hpa`: the ScaledObject adopts an existing HPA.
	TransferHPA(ctx context.Context, namespace, name, hpa string) (string, error)
}

// ClusterSource reads ScaledObjects, ScaledJobs, HPAs and the ScaledJobs' Jobs from informers (one
// watch each, no polling) and queries the apiserver directly only for the selected object's details
// and for changes.
type ClusterSource struct {
	client *kedaclient.Client
	cache  cache.Cache
}

// NewClusterSource starts informers through c and waits for them to sync. informers should select
// only Jobs labelled with their ScaledJob (see Run).
func NewClusterSource(ctx context.Context, c *kedaclient.Client, informers cache.Cache) (*ClusterSource, error) {
	for _, obj := range []client.Object{&kedav1alpha1.ScaledObject{}, &kedav1alpha1.ScaledJob{}, &autoscalingv2.HorizontalPodAutoscaler{}, &batchv1.Job{}} {
		if _, err := informers.GetInformer(ctx, obj); err != nil {
			return nil, fmt.Errorf("failed to start an informer for %T: %w", obj, err)
		}
	}
	go func() { _ = informers.Start(ctx) }()
	syncCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if !informers.WaitForCacheSync(syncCtx) {
		return nil, fmt.Errorf("the informers did not sync within 30s: are the keda.sh CRDs installed?")
	}
	return &ClusterSource{client: c, cache: informers}, nil
}

// Objects reads from the informers' cache: no request to the apiserver.
func (s *ClusterSource) Objects(ctx context.Context, namespace string) ([]Object, error) {
	list := &kedav1alpha1.ScaledObjectList{}
	if err := s.cache.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("failed to list ScaledObjects: %w", err)
	}
	jobs := &kedav1alpha1.ScaledJobList{}
	if err := s.cache.List(ctx, jobs, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("failed to list ScaledJobs: %w", err)
	}
	out := make([]Object, 0, len(list.Items)+len(jobs.Items))
	for _, so := range list.Items {
		o := Object{ScaledObject: so}
		name := so.Status.HpaName
		if name == "" {
			name = so.HPAName()
		}
		hpa := &autoscalingv2.HorizontalPodAutoscaler{}
		if err := s.cache.Get(ctx, types.NamespacedName{Namespace: so.Namespace, Name: name}, hpa); err == nil {
			o.HPA = hpa
		}
		out = append(out, o)
	}
	for i := range jobs.Items {
		sj := &jobs.Items[i]
		running := &batchv1.JobList{}
		if err := s.cache.List(ctx, running, client.InNamespace(sj.Namespace), client.MatchingLabels{kedav1alpha1.LabelScaledJobName: sj.Name}); err != nil {
			return nil, fmt.Errorf("failed to list the Jobs of ScaledJob %s/%s: %w", sj.Namespace, sj.Name, err)
		}
		// The informers hold no Pods, so pending Jobs cannot be told apart here; the detail view
		// reads them with the diagnosis.
		counts := scaledjob.CountJobs(running.Items, nil, nil)
		out = append(out, Object{ScaledJob: sj, RunningJobs: int(counts.Running)})
	}
	return out, nil
}

// Describe is `kubectl keda describe` for the detail view.
func (s *ClusterSource) Describe(ctx context.Context, kind, namespace, name string) (*commands.Description, error) {
	if kind == commands.KindScaledJob {
		return commands.DescribeScaledJob(ctx, s.client, namespace, name, 5)
	}
	return commands.Describe(ctx, s.client, namespace, name, 5, time.Now())
}

// SetPaused sends the patch of `kubectl keda pause|resume`.
func (s *ClusterSource) SetPaused(ctx context.Context, kind, namespace, name string, paused bool) error {
	patch, err := commands.PausePatch(paused, nil, false, false)
	if err != nil {
		return err
	}
	return commands.SendPatch(ctx, s.client, kind, namespace, name, patch, false)
}

// TriggerValues is what `kubectl keda top NAME` reads of each metric. It stops at the first failure
// that says the external metrics API itself is missing, which the other metrics would repeat.
func (s *ClusterSource) TriggerValues(ctx context.Context, namespace, name string, metrics []string) (map[string]float64, error) {
	out := make(map[string]float64, len(metrics))
	for _, metric := range metrics {
		v, err := s.client.ExternalMetric(ctx, namespace, name, metric)
		if errors.Is(err, kedaclient.ErrNoMetricsAPI) {
			return out, err
		}
		if err != nil {
			continue
		}
		q, err := resource.ParseQuantity(v.Value)
		if err != nil {
			continue
		}
		out[metric] = q.AsApproximateFloat64()
	}
	return out, nil
}

// Metrics is `kubectl keda metrics NAME`.
func (s *ClusterSource) Metrics(ctx context.Context, namespace, name string) ([]commands.MetricRow, error) {
	return commands.ReadMetrics(ctx, s.client, namespace, name, "")
}

// TransferHPA is `kubectl keda transfer-hpa NAME --hpa HPA`.
func (s *ClusterSource) TransferHPA(ctx context.Context, namespace, name, hpa string) (string, error) {
	return commands.TransferHPA(ctx, s.client, namespace, name, hpa, false, 30*time.Second)
}
