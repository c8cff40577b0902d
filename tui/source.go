package tui

import (
	"context"
	"fmt"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/plugin/commands"
	"github.com/kedactl/kedactl/plugin/kedaclient"
)

// Object is one ScaledObject and what the list and detail views show of it.
type Object struct {
	ScaledObject kedav1alpha1.ScaledObject
	HPA          *autoscalingv2.HorizontalPodAutoscaler
}

// Source is how the TUI reads and changes the cluster. Every call runs inside a tea.Cmd, never in
// View.
type Source interface {
	// Objects returns the ScaledObjects of namespace ("" for all) with their HPAs.
	Objects(ctx context.Context, namespace string) ([]Object, error)
	// Describe diagnoses one ScaledObject and reads its events and metrics.
	Describe(ctx context.Context, namespace, name string) (*commands.Description, error)
	// SetPaused pauses or resumes autoscaling of a ScaledObject.
	SetPaused(ctx context.Context, namespace, name string, paused bool) error
	// Metrics is the raw external.metrics query of `kubectl keda metrics`.
	Metrics(ctx context.Context, namespace, name string) ([]commands.MetricRow, error)
	// TransferHPA is `kubectl keda transfer-hpa`: the ScaledObject adopts an existing HPA.
	TransferHPA(ctx context.Context, namespace, name, hpa string) (string, error)
}

// ClusterSource reads ScaledObjects and HPAs from informers (one watch each, no polling) and
// queries the apiserver directly only for the selected object's details and for changes.
type ClusterSource struct {
	client *kedaclient.Client
	cache  cache.Cache
}

// NewClusterSource starts informers on ScaledObjects and HPAs through c and waits for them to sync.
func NewClusterSource(ctx context.Context, c *kedaclient.Client, informers cache.Cache) (*ClusterSource, error) {
	for _, obj := range []client.Object{&kedav1alpha1.ScaledObject{}, &autoscalingv2.HorizontalPodAutoscaler{}} {
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
	out := make([]Object, 0, len(list.Items))
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
	return out, nil
}

// Describe is `kubectl keda describe` for the detail view.
func (s *ClusterSource) Describe(ctx context.Context, namespace, name string) (*commands.Description, error) {
	return commands.Describe(ctx, s.client, namespace, name, 5, time.Now())
}

// SetPaused sends the patch of `kubectl keda pause|resume`.
func (s *ClusterSource) SetPaused(ctx context.Context, namespace, name string, paused bool) error {
	patch, err := commands.PausePatch(paused, nil, false, false)
	if err != nil {
		return err
	}
	so := &kedav1alpha1.ScaledObject{}
	so.Namespace, so.Name = namespace, name
	if err := s.client.CR.Patch(ctx, so, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("failed to patch ScaledObject %s/%s: %w", namespace, name, err)
	}
	return nil
}

// Metrics is `kubectl keda metrics NAME`.
func (s *ClusterSource) Metrics(ctx context.Context, namespace, name string) ([]commands.MetricRow, error) {
	return commands.ReadMetrics(ctx, s.client, namespace, name, "")
}

// TransferHPA is `kubectl keda transfer-hpa NAME --hpa HPA`.
func (s *ClusterSource) TransferHPA(ctx context.Context, namespace, name, hpa string) (string, error) {
	return commands.TransferHPA(ctx, s.client, namespace, name, hpa, false, 30*time.Second)
}
