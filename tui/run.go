package tui

import (
	"context"
	"fmt"
	"os"
	"time"

	tea "charm.land/bubbletea/v2"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/plugin/kedaclient"
	"github.com/kedactl/kedactl/plugin/view"
)

// Run opens the TUI on the cluster of cfg until the user quits or ctx ends.
func Run(ctx context.Context, cfg *rest.Config, namespace string) error {
	c, err := kedaclient.New(cfg)
	if err != nil {
		return err
	}
	informers, err := NewInformers(cfg, namespace)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	src, err := NewClusterSource(ctx, c, informers)
	if err != nil {
		return err
	}
	_, noColor := os.LookupEnv("NO_COLOR")
	history := &OperatorHistory{Discovery: c.Kube.Discovery(), Get: func(ctx context.Context, path string) ([]byte, error) {
		return c.Kube.CoreV1().RESTClient().Get().AbsPath(path).DoRaw(ctx)
	}, Owner: func(ctx context.Context, kind, namespace, name string) string {
		return view.NewMembership(c.MembershipLeases(ctx), time.Now()).Owner(kind, namespace, name)
	}}
	p := tea.NewProgram(New(src, Options{Namespace: namespace, NoColor: noColor, History: history}), tea.WithContext(ctx))
	if _, err := p.Run(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("the TUI stopped: %w", err)
	}
	return nil
}

// NewInformers is the informer cache a ClusterSource reads: KEDA's kinds, HPAs and only the Jobs a
// ScaledJob started, in namespace ("" for all).
func NewInformers(cfg *rest.Config, namespace string) (cache.Cache, error) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := kedav1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	jobsOfScaledJobs, err := labels.Parse(kedav1alpha1.LabelScaledJobName)
	if err != nil {
		return nil, fmt.Errorf("failed to build the Job selector: %w", err)
	}
	opts := cache.Options{Scheme: scheme, ByObject: map[client.Object]cache.ByObject{&batchv1.Job{}: {Label: jobsOfScaledJobs}}}
	if namespace != "" {
		opts.DefaultNamespaces = map[string]cache.Config{namespace: {}}
	}
	informers, err := cache.New(cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("failed to create informers: %w", err)
	}
	return informers, nil
}
