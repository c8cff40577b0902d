// Package app wires the operator's pieces into one controller-runtime manager: the ScaledObject
// controller, the polling engine, the activation executor, the external metrics server, the
// admission webhook and the self-managed serving certificate.
package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/scale"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	aggregator "k8s.io/kube-aggregator/pkg/client/clientset_generated/clientset"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	ctrlwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"

	eventingv1alpha1 "github.com/kedactl/kedactl/api/eventing/v1alpha1"
	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/internal/modifiers"
	"github.com/kedactl/kedactl/internal/version"
	"github.com/kedactl/kedactl/operator/certs"
	"github.com/kedactl/kedactl/operator/cloudevents"
	"github.com/kedactl/kedactl/operator/controller"
	"github.com/kedactl/kedactl/operator/engine"
	"github.com/kedactl/kedactl/operator/history"
	"github.com/kedactl/kedactl/operator/historyapi"
	"github.com/kedactl/kedactl/operator/jobrunner"
	"github.com/kedactl/kedactl/operator/membership"
	"github.com/kedactl/kedactl/operator/metrics"
	"github.com/kedactl/kedactl/operator/observability"
	"github.com/kedactl/kedactl/operator/ownership"
	"github.com/kedactl/kedactl/operator/peer"
	"github.com/kedactl/kedactl/operator/resolve"
	"github.com/kedactl/kedactl/operator/scaling"
	"github.com/kedactl/kedactl/operator/webhook"
	"github.com/kedactl/kedactl/scalers"
)

// Options configures the operator. Zero values get defaults in setDefaults.
type Options struct {
	// Kubeconfig is the kubeconfig file, also used for the metrics server's delegated auth; empty
	// means in-cluster.
	Kubeconfig string
	// Watch limits the operator to namespaces and labels, as KEDA's WATCH_* variables do.
	Watch Watch

	// MetricsBindAddress serves the operator's Prometheus metrics; "0" disables it.
	MetricsBindAddress string
	// HealthProbeBindAddress serves /healthz and /readyz; "0" disables it.
	HealthProbeBindAddress string
	// ProfilingBindAddress serves Go's /debug/pprof (KEDA's --profiling-bind-address); empty or
	// "0" disables it.
	ProfilingBindAddress string
	LeaderElection       bool
	LeaderElectionID     string
	LeaderElectionNS     string
	// LeaseDuration, RenewDeadline and RetryPeriod time the leader election and the membership
	// (controller-runtime's defaults, 15s, 10s and 2s, when zero).
	LeaseDuration time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration
	// Peer is where the replicas reach each other; with leader election, a replica that does not
	// poll an object forwards the HPA's requests for it there. Port 0 disables it.
	Peer PeerOptions

	// ExternalMetrics configures the external.metrics.k8s.io server; Port 0 disables it.
	ExternalMetrics metrics.ServerOptions

	// Webhook configures the validating admission webhook; Port 0 disables it.
	Webhook WebhookOptions
	// Certs configures the self-managed serving certificate, used when ExternalMetrics.CertFile is
	// empty: kept in a Secret, written to ExternalMetrics.CertDir, injected into the APIService and
	// the webhook configuration, and renewed before it expires.
	Certs certs.Options

	// ScalerTimeout bounds each call to an event source.
	ScalerTimeout time.Duration
	// HighCardinalityMetricsLabels labels the scalers' HTTP request durations by object and
	// trigger (KEDA's --enable-high-cardinality-metrics-labels).
	HighCardinalityMetricsLabels bool
	// PollWorkers bounds concurrent polls.
	PollWorkers int
	// ClusterObjectNamespace holds the Secrets of ClusterTriggerAuthentications.
	ClusterObjectNamespace string
	// AuthResync is how often objects using an authentication re-read their Secrets.
	AuthResync time.Duration
	// FilePathAuthRoot is the directory ClusterTriggerAuthentications' spec.filePath is relative
	// to; empty refuses filePath.
	FilePathAuthRoot string
	// VaultTokenAudience is the audience of the ServiceAccount tokens the operator requests to log
	// in to Vault with its kubernetes auth method.
	VaultTokenAudience string
	// MaxConcurrentReconciles is how many ScaledObjects are reconciled at once.
	MaxConcurrentReconciles int
	// ClusterName names the cluster in the CloudEvents of sources without spec.clusterName
	// (KEDA's --k8s-cluster-name, "kubernetes-default").
	ClusterName string
}

// PeerOptions configures the peer endpoint and this replica's membership.
type PeerOptions struct {
	BindAddress string
	Port        int
	// AdvertiseAddress is the host (or host:port) other replicas dial; the pod's IP in a cluster.
	AdvertiseAddress string
	// ReplicaID names this replica in the leader and membership Leases (the host name when
	// empty); a random suffix is added.
	ReplicaID string
	// ForwardTimeout bounds a forwarded metric request.
	ForwardTimeout time.Duration
}

// WebhookOptions is where the admission webhook listens. It serves the same certificate as the
// external metrics server.
type WebhookOptions struct {
	BindAddress string
	Port        int
}

func (o *Options) setDefaults() {
	if o.MetricsBindAddress == "" {
		o.MetricsBindAddress = ":8080"
	}
	if o.HealthProbeBindAddress == "" {
		o.HealthProbeBindAddress = ":8081"
	}
	if o.LeaderElectionID == "" {
		o.LeaderElectionID = "operator.keda.sh"
	}
	if o.ScalerTimeout <= 0 {
		o.ScalerTimeout = 3 * time.Second
	}
	if o.PollWorkers <= 0 {
		o.PollWorkers = 16
	}
	if o.ExternalMetrics.Kubeconfig == "" {
		o.ExternalMetrics.Kubeconfig = o.Kubeconfig
	}
	if o.LeaseDuration <= 0 {
		o.LeaseDuration = 15 * time.Second
	}
	if o.RenewDeadline <= 0 {
		o.RenewDeadline = 10 * time.Second
	}
	if o.RetryPeriod <= 0 {
		o.RetryPeriod = 2 * time.Second
	}
	if o.Peer.ForwardTimeout <= 0 {
		o.Peer.ForwardTimeout = 5 * time.Second
	}
	if o.LeaderElectionNS == "" {
		o.LeaderElectionNS = o.Certs.Namespace
	}
}

// peering is whether replicas forward to each other: only with leader election (one replica
// polls), a peer port and a metrics server to answer through.
func (o *Options) peering() bool {
	return o.LeaderElection && o.Peer.Port != 0 && o.ExternalMetrics.Port != 0
}

// NewScheme returns the scheme of every type the operator reads or writes.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("failed to add client-go types to the scheme: %w", err)
	}
	if err := kedav1alpha1.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("failed to add keda.sh types to the scheme: %w", err)
	}
	if err := eventingv1alpha1.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("failed to add eventing.keda.sh types to the scheme: %w", err)
	}
	return s, nil
}

// Run runs the operator until ctx ends.
func Run(ctx context.Context, cfg *rest.Config, opts Options, log logr.Logger) error {
	opts.setDefaults()
	scheme, err := NewScheme()
	if err != nil {
		return err
	}
	mgrOpts := ctrl.Options{
		Scheme:                  scheme,
		Logger:                  log,
		Metrics:                 metricsserver.Options{BindAddress: opts.MetricsBindAddress},
		HealthProbeBindAddress:  opts.HealthProbeBindAddress,
		PprofBindAddress:        opts.ProfilingBindAddress,
		LeaderElection:          opts.LeaderElection,
		LeaderElectionID:        opts.LeaderElectionID,
		LeaderElectionNamespace: opts.LeaderElectionNS,
		LeaseDuration:           &opts.LeaseDuration,
		RenewDeadline:           &opts.RenewDeadline,
		RetryPeriod:             &opts.RetryPeriod,
	}
	var self membership.Member
	if opts.peering() {
		if self, err = opts.member(); err != nil {
			return err
		}
		// The leader Lease names the leader by its member ID, which its peers look up among the
		// membership Leases to find where to forward.
		lock, err := resourcelock.NewFromKubeconfig(resourcelock.LeasesResourceLock, opts.LeaderElectionNS, opts.LeaderElectionID,
			resourcelock.ResourceLockConfig{Identity: self.ID}, cfg, opts.RenewDeadline)
		if err != nil {
			return fmt.Errorf("failed to make the leader election lock: %w", err)
		}
		mgrOpts.LeaderElectionResourceLockInterface = lock
		// A replica that stops cleanly hands the lead over at once rather than after the lease
		// duration: Run returns, and the process ends, as soon as the manager stops.
		mgrOpts.LeaderElectionReleaseOnCancel = true
	}
	if mgrOpts.Cache, err = cacheOptions(opts.Watch); err != nil {
		return err
	}
	var certManager *certs.Manager
	if opts.ExternalMetrics.CertFile == "" && (opts.ExternalMetrics.Port != 0 || opts.Webhook.Port != 0) {
		if certManager, err = ensureCerts(ctx, cfg, &opts, log); err != nil {
			return err
		}
	}
	var certWatcher *certwatcher.CertWatcher
	if opts.Webhook.Port != 0 || opts.peering() {
		if certWatcher, err = certwatcher.New(opts.ExternalMetrics.CertFile, opts.ExternalMetrics.KeyFile); err != nil {
			return fmt.Errorf("failed to load the serving certificate: %w", err)
		}
	}
	if opts.Webhook.Port != 0 {
		mgrOpts.WebhookServer = ctrlwebhook.NewServer(ctrlwebhook.Options{
			Host: opts.Webhook.BindAddress,
			Port: opts.Webhook.Port,
			TLSOpts: []func(*tls.Config){func(c *tls.Config) {
				c.GetCertificate = certWatcher.GetCertificate
				c.MinVersion = tls.VersionTLS12
			}},
		})
	}
	mgr, err := ctrl.NewManager(cfg, mgrOpts)
	if err != nil {
		return fmt.Errorf("failed to create the manager: %w", err)
	}
	if certManager != nil {
		if err := mgr.Add(certManager); err != nil {
			return fmt.Errorf("failed to add the certificate manager: %w", err)
		}
	}
	if certWatcher != nil {
		if err := mgr.Add(certWatcher); err != nil {
			return fmt.Errorf("failed to add the certificate watcher: %w", err)
		}
	}

	scales, err := newScalesClient(cfg, mgr.GetRESTMapper())
	if err != nil {
		return err
	}

	promMetrics := observability.New(observability.WithHighCardinalityLabels(opts.HighCardinalityMetricsLabels))
	if err := promMetrics.Register(crmetrics.Registry, version.Get(), ""); err != nil {
		return fmt.Errorf("failed to register the Prometheus metrics: %w", err)
	}
	// Every event the operator records goes through one recorder, which also hands the ones KEDA
	// sends as CloudEvents to the sources that want them.
	ceSources := &controller.CloudEventSourceReconciler{Client: mgr.GetClient(), ClusterName: opts.ClusterName, Metrics: promMetrics}
	dispatcher := cloudevents.NewDispatcher(cloudevents.Options{
		OperatorNamespace: opts.ClusterObjectNamespace,
		Metrics:           promMetrics,
		OnState:           ceSources.DeliveryState,
		Log:               log.WithName("cloudevents"),
	})
	ceSources.Dispatcher = dispatcher
	if err := mgr.Add(dispatcher); err != nil {
		return fmt.Errorf("failed to add the CloudEvents dispatcher: %w", err)
	}
	recorder := &cloudevents.Recorder{Next: mgr.GetEventRecorder("keda-operator"), Emitter: dispatcher}
	// With peering the replicas split the objects: each polls, activates and creates Jobs for its
	// share, fenced by its membership.
	var registry *membership.Registry
	var peers *peer.Client
	var fence func(engine.Key) error
	if opts.peering() {
		registry, peers, err = newRegistry(mgr, cfg, opts, self, certWatcher, log)
		if err != nil {
			return err
		}
		fence = registry.MayAct
	}
	var executor *scaling.Executor
	var jobs *jobrunner.Runner
	formulas := &modifiers.Cache{}
	// Per-object recent history (samples and decisions), served as history.kedactl.dev.
	histories := history.New(history.Options{})
	// One pool for every trigger: triggers on one source share its connection.
	clients := scalers.NewClientPool()
	defer clients.Close()
	eng := engine.New(engine.Options{
		Clients: clients,
		Observe: func(o engine.Observation) {
			promMetrics.Poll(o.Key.NamespacedName(), observabilityType(o.Key.Kind), o.Index, o.Type, o.MetricName, o.Value, o.Active, o.Err, o.Latency, o.Lateness)
		},
		ObserveRequest: func(r scalers.Request, took time.Duration, code int, err error) {
			key := types.NamespacedName{Namespace: r.Namespace, Name: r.ScaledResource}
			promMetrics.HTTPRequest(key, observabilityType(engine.Kind(r.ResourceType)), r.Scaler, r.TriggerName, r.MetricName, took, code, err)
		},
		ObserveEmptyResponse: func(r scalers.Request, ignoreNullValues bool) {
			key := types.NamespacedName{Namespace: r.Namespace, Name: r.ScaledResource}
			promMetrics.EmptyResponse(key, observabilityType(engine.Kind(r.ResourceType)), r.TriggerName, r.MetricName, r.ResourceType, ignoreNullValues)
		},
		Workers:     opts.PollWorkers,
		PollTimeout: opts.ScalerTimeout + time.Second,
		OnPolled: func(key engine.Key) {
			switch key.Kind {
			case engine.KindScaledObject:
				executor.Enqueue(key.NamespacedName())
			case engine.KindScaledJob:
				jobs.Enqueue(key.NamespacedName())
			}
		},
		Log: log.WithName("engine"),
	})
	executor = scaling.NewExecutor(scaling.ExecutorOptions{
		Client:   mgr.GetClient(),
		Reader:   mgr.GetAPIReader(),
		Scales:   scales,
		State:    eng,
		Recorder: recorder,
		Log:      log.WithName("scaling"),
		Formulas: formulas,
		History:  histories,
		Fence:    fence,
	})
	jobs = jobrunner.New(jobrunner.Options{
		Client:          mgr.GetClient(),
		Reader:          mgr.GetAPIReader(),
		State:           eng,
		Recorder:        recorder,
		OperatorVersion: strings.TrimPrefix(version.Get(), "v"),
		Log:             log.WithName("scaledjob"),
		History:         histories,
		Fence:           fence,
	})
	for _, r := range []interface {
		Start(context.Context) error
	}{eng, executor, jobs} {
		if err := mgr.Add(runnable{r: r, leaderOnly: registry == nil}); err != nil {
			return fmt.Errorf("failed to add runnable: %w", err)
		}
	}

	if opts.ExternalMetrics.Port != 0 {
		var answer provider.ExternalMetricsProvider = metrics.NewProvider(eng, mgr.GetClient(), executor, formulas, metrics.TargetPods{Scales: scales, Pods: controller.PodLister(mgr.GetClient())})
		var historyReader historyapi.Reader = historyapi.Local{Store: histories}
		if opts.peering() {
			if answer, historyReader, err = addPeering(mgr, opts, registry, peers, certWatcher, answer, histories, log); err != nil {
				return err
			}
		}
		historyGroup := metrics.Group{PathPrefix: historyapi.PathPrefix, Install: func(s *genericapiserver.GenericAPIServer) error { return historyapi.Install(s, historyReader) }}
		srv, err := metrics.NewServer(opts.ExternalMetrics, answer, historyGroup)
		if err != nil {
			return err
		}
		if err := mgr.Add(srv); err != nil {
			return fmt.Errorf("failed to add the external metrics server: %w", err)
		}
	}

	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("failed to create a clientset: %w", err)
	}
	tuning := controller.Tuning{ScalerTimeout: opts.ScalerTimeout, AuthResync: opts.AuthResync, MaxConcurrentReconciles: opts.MaxConcurrentReconciles}
	reconciler := &controller.ScaledObjectReconciler{
		Metrics:   promMetrics,
		Resolver:  newResolver(mgr.GetAPIReader(), mgr.GetClient(), kube, opts),
		Client:    mgr.GetClient(),
		Reader:    mgr.GetAPIReader(),
		Pods:      newCachedPods(mgr.GetClient(), mgr.GetCache()),
		Mapper:    mgr.GetRESTMapper(),
		Scales:    scales,
		Engine:    eng,
		Activator: executor,
		Recorder:  recorder,
		History:   histories,
		Tuning:    tuning,
		// A re-read costs about four requests: spread them to a fifth of the client's rate.
		AuthResyncObjectsPerSecond: float64(cfg.QPS) / 20,
	}
	if err := controller.IndexAuthReferences(ctx, mgr.GetFieldIndexer()); err != nil {
		return err
	}
	if err := ownership.IndexFields(ctx, mgr.GetFieldIndexer()); err != nil {
		return err
	}
	var sharding, jobSharding controller.Sharding
	if registry != nil {
		soMoved, sjMoved := make(chan event.GenericEvent), make(chan event.GenericEvent)
		registry.OnChange(func(old, new membership.View) { go requeueMoved(ctx, mgr.GetClient(), old, new, soMoved, sjMoved, log) })
		sharding = controller.Sharding{Owners: registry, Moved: soMoved}
		jobSharding = controller.Sharding{Owners: registry, Moved: sjMoved}
	}
	reconciler.Sharding = sharding
	if err := reconciler.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("failed to set up the ScaledObject controller: %w", err)
	}
	jobReconciler := &controller.ScaledJobReconciler{
		Metrics:  promMetrics,
		Resolver: reconciler.Resolver,
		Client:   mgr.GetClient(),
		Reader:   mgr.GetAPIReader(),
		Pods:     reconciler.Pods,
		Engine:   eng,
		Runner:   jobs,
		Recorder: recorder,
		History:  histories,
		Tuning:   tuning,
		Sharding: jobSharding,
	}
	if err := jobReconciler.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("failed to set up the ScaledJob controller: %w", err)
	}
	if err := (&controller.AuthReferenceReconciler{Client: mgr.GetClient(), Metrics: promMetrics, Recorder: recorder}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("failed to set up the authentication back-reference controller: %w", err)
	}
	ceSources.Resolver = reconciler.Resolver
	if err := ceSources.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("failed to set up the CloudEventSource controller: %w", err)
	}
	if opts.Webhook.Port != 0 {
		// Admission reads through clients of its own: client-go throttles each client by itself,
		// and a kubectl apply must not queue behind the reconciles the same apply sets off (KEDA's
		// webhook runs in a process of its own, with its own rate).
		admissionCfg := rest.CopyConfig(cfg)
		admissionReader, err := client.New(admissionCfg, client.Options{Scheme: scheme, Mapper: mgr.GetRESTMapper()})
		if err != nil {
			return fmt.Errorf("failed to create the admission webhook's client: %w", err)
		}
		admissionScales, err := newScalesClient(admissionCfg, mgr.GetRESTMapper())
		if err != nil {
			return fmt.Errorf("failed to create the admission webhook's scale client: %w", err)
		}
		webhook.Register(mgr.GetWebhookServer(), &webhook.Validator{
			Client: mgr.GetClient(), Reader: admissionReader, Mapper: mgr.GetRESTMapper(), Scales: admissionScales,
			Recorder: mgr.GetEventRecorder("keda-admission"), Metrics: promMetrics,
		})
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("failed to add the health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return fmt.Errorf("failed to add the ready check: %w", err)
	}
	if registry != nil {
		// A replica behind the metrics Service that can reach no owner would fail the HPA.
		if err := mgr.AddReadyzCheck("metrics-owner", registry.Ready); err != nil {
			return fmt.Errorf("failed to add the metrics owner ready check: %w", err)
		}
	}
	log.Info("starting the operator", "watchNamespace", opts.Watch.Namespaces, "watchLabelSelector", opts.Watch.LabelSelector, "externalMetricsPort", opts.ExternalMetrics.Port, "webhookPort", opts.Webhook.Port)
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("operator stopped: %w", err)
	}
	return nil
}

// cacheOptions limits the cache to the watched namespaces and labels, and keeps of Deployments and StatefulSets
// only what activation reads from them (metadata and replicas): the operator reads their pod
// templates uncached, when it reconciles, so a cluster's worth of templates is never held. Of Jobs
// it holds only those of ScaledJobs (labelled scaledjob.keda.sh/name), not every Job of the cluster.
// Of every object it drops what it never reads and what can outweigh the rest: managedFields and
// kubectl's last-applied-configuration (a copy of the whole object as applied).
func cacheOptions(watch Watch) (cache.Options, error) {
	opts := cache.Options{DefaultTransform: withoutBookkeeping, ByObject: map[client.Object]cache.ByObject{
		&appsv1.Deployment{}:                     {Transform: replicasOnly},
		&appsv1.StatefulSet{}:                    {Transform: replicasOnly},
		&batchv1.Job{}:                           {Label: scaledJobsJobs()},
		&autoscalingv2.HorizontalPodAutoscaler{}: {Transform: hpaWithoutStatusDetail},
	}}
	return opts, watch.scope(&opts)
}

// scaledJobsJobs selects the Jobs that ScaledJobs create.
func scaledJobsJobs() labels.Selector {
	req, err := labels.NewRequirement(kedav1alpha1.LabelScaledJobName, selection.Exists, nil)
	if err != nil {
		panic(err) // a constant, valid label key: cannot fail
	}
	return labels.NewSelector().Add(*req)
}

// hpaWithoutStatusDetail drops an HPA's status conditions and current metrics, which the operator
// never reads (the replica counts stay, for fallback): with their messages they are about half of
// a cached HPA. Of its labels and annotations it keeps only those the operator reads
// (validations.keda.sh/hpa-ownership, and the digest of its own last apply): each is a map of its own in every cached HPA, and the
// operator writes HPAs by server-side apply, which never reads them back.
func hpaWithoutStatusDetail(obj any) (any, error) {
	if h, ok := obj.(*autoscalingv2.HorizontalPodAutoscaler); ok {
		h.Status.Conditions, h.Status.CurrentMetrics = nil, nil
		h.Labels = nil
		var kept map[string]string
		for _, k := range []string{kedav1alpha1.AnnotationValidationHPAOwnership, kedav1alpha1.AnnotationHPAAppliedDigest} {
			if v, ok := h.Annotations[k]; ok {
				if kept == nil {
					kept = map[string]string{}
				}
				kept[k] = v
			}
		}
		h.Annotations = kept
		h.ManagedFields = nil
		return h, nil
	}
	return withoutBookkeeping(obj)
}

func replicasOnly(obj any) (any, error) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return &appsv1.Deployment{TypeMeta: o.TypeMeta, ObjectMeta: slimMeta(o.ObjectMeta), Spec: appsv1.DeploymentSpec{Replicas: o.Spec.Replicas}}, nil
	case *appsv1.StatefulSet:
		return &appsv1.StatefulSet{TypeMeta: o.TypeMeta, ObjectMeta: slimMeta(o.ObjectMeta), Spec: appsv1.StatefulSetSpec{Replicas: o.Spec.Replicas}}, nil
	}
	return obj, nil
}

// withoutBookkeeping removes managedFields and the last-applied-configuration annotation from a
// cached object. The operator writes ScaledObjects, ScaledJobs and authentications only by patch
// and through their status subresource, and HPAs by server-side apply, so what the cache lacks is
// never written back as missing.
func withoutBookkeeping(obj any) (any, error) {
	if o, ok := obj.(metav1.Object); ok {
		o.SetManagedFields(nil)
		if a := o.GetAnnotations(); a != nil {
			if _, ok := a[corev1.LastAppliedConfigAnnotation]; ok {
				delete(a, corev1.LastAppliedConfigAnnotation)
				o.SetAnnotations(a)
			}
		}
	}
	return obj, nil
}

func slimMeta(m metav1.ObjectMeta) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion, Generation: m.Generation}
}

// newResolver resolves authentications; one Tokens serves boundServiceAccountToken and Vault's
// kubernetes logins, so both share its cache.
func newResolver(reader, cache client.Reader, kube kubernetes.Interface, opts Options) *resolve.Resolver {
	tokens := &resolve.Tokens{Kube: kube}
	return &resolve.Resolver{
		Reader:                 reader,
		Authentications:        cache,
		ClusterObjectNamespace: opts.ClusterObjectNamespace,
		Tokens:                 tokens,
		FilePathRoot:           opts.FilePathAuthRoot,
		Vault:                  &resolve.Vault{Tokens: tokens, Audience: opts.VaultTokenAudience},
		AWS:                    &resolve.AWSSecrets{},
		Azure:                  &resolve.AzureKeyVault{},
		GCP:                    &resolve.GCPSecretManager{},
	}
}

// ensureCerts makes the self-managed serving certificate before any server starts, and points both
// servers at its files.
func ensureCerts(ctx context.Context, cfg *rest.Config, opts *Options, log logr.Logger) (*certs.Manager, error) {
	if opts.Certs.CertDir == "" {
		opts.Certs.CertDir = opts.ExternalMetrics.CertDir
	}
	if opts.Certs.CertDir == "" {
		return nil, fmt.Errorf("set --cert-dir (where the self-managed certificate is written) or --tls-cert-file and --tls-private-key-file")
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to create a clientset: %w", err)
	}
	agg, err := aggregator.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to create an aggregator client: %w", err)
	}
	m, err := certs.New(kube, agg, opts.Certs, log.WithName("certs"))
	if err != nil {
		return nil, err
	}
	if err := m.Ensure(ctx); err != nil {
		return nil, fmt.Errorf("failed to make the serving certificate: %w", err)
	}
	opts.ExternalMetrics.CertFile = filepath.Join(opts.Certs.CertDir, "tls.crt")
	opts.ExternalMetrics.KeyFile = filepath.Join(opts.Certs.CertDir, "tls.key")
	return m, nil
}

// member is this replica as its peers see it.
func (o *Options) member() (membership.Member, error) {
	base := o.Peer.ReplicaID
	if base == "" {
		host, err := os.Hostname()
		if err != nil {
			return membership.Member{}, fmt.Errorf("failed to read the host name for the replica ID (set --replica-id): %w", err)
		}
		base = host
	}
	// A random suffix, as controller-runtime's own identity: a restarted process is a new member,
	// never mistaken for the one that held the Lease before it.
	id := base + "_" + string(uuid.NewUUID())
	addr := o.Peer.AdvertiseAddress
	if addr == "" {
		addr = o.Peer.BindAddress
	}
	if addr == "" || addr == "0.0.0.0" || addr == "::" {
		return membership.Member{}, fmt.Errorf("--peer-advertise-address is empty: set it (or the POD_IP environment variable) to the address the other replicas reach this one at, or set --peer-port=0 to disable forwarding")
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, strconv.Itoa(o.Peer.Port))
	}
	return membership.Member{ID: id, Address: addr}, nil
}

// newRegistry adds this replica's membership, which renews its Lease, reads the others' and says
// which objects it owns and whether it may act on them.
func newRegistry(mgr ctrl.Manager, cfg *rest.Config, opts Options, self membership.Member, certWatcher *certwatcher.CertWatcher, log logr.Logger) (*membership.Registry, *peer.Client, error) {
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to create a clientset for the membership: %w", err)
	}
	cert := func() (*tls.Certificate, error) { return certWatcher.GetCertificate(nil) }
	peers := peer.NewClient(cert, opts.Peer.ForwardTimeout)
	registry := membership.NewRegistry(membership.Options{
		Leases:        kube.CoordinationV1(),
		Namespace:     opts.LeaderElectionNS,
		Group:         opts.LeaderElectionID,
		Self:          self,
		LeaseDuration: opts.LeaseDuration,
		RenewInterval: opts.RetryPeriod,
		Prober:        peers,
		Elected:       mgr.Elected(),
		Log:           log.WithName("membership"),
	})
	if err := mgr.Add(registry); err != nil {
		return nil, nil, fmt.Errorf("failed to add the membership: %w", err)
	}
	log.Info("replica membership", "id", self.ID, "peerAddress", self.Address)
	return registry, peers, nil
}

// addPeering adds the peer endpoint, and returns the provider and the history reader that answer
// on any replica: locally for what this replica polls, else from the owner.
func addPeering(mgr ctrl.Manager, opts Options, registry *membership.Registry, peers *peer.Client, certWatcher *certwatcher.CertWatcher, local provider.ExternalMetricsProvider, histories *history.Store, log logr.Logger) (provider.ExternalMetricsProvider, historyapi.Reader, error) {
	server := peer.NewServer(peer.ServerOptions{
		Address:     net.JoinHostPort(opts.Peer.BindAddress, strconv.Itoa(opts.Peer.Port)),
		Certificate: func() (*tls.Certificate, error) { return certWatcher.GetCertificate(nil) },
		Metrics:     local,
		History:     histories,
		Log:         log.WithName("peer"),
	})
	if err := mgr.Add(server); err != nil {
		return nil, nil, fmt.Errorf("failed to add the peer endpoint: %w", err)
	}
	known := func() []provider.ExternalMetricInfo { return statusMetricNames(mgr.GetClient(), log) }
	return &peer.Forwarding{Local: local, Owners: registry, Forward: peers, Known: known},
		&peer.ForwardingHistory{Local: histories, Owners: registry, Forward: peers}, nil
}

// requeueMoved sends the controllers the objects whose owner changed between two views, for the
// new owner to take them up and the old one to drop them. It lists them from the cache, which
// waits for its first sync.
func requeueMoved(ctx context.Context, c client.Reader, old, new membership.View, so, sj chan<- event.GenericEvent, log logr.Logger) {
	moved := func(k engine.Key) bool { return old.Owns(k) != new.Owns(k) }
	var sos kedav1alpha1.ScaledObjectList
	if err := c.List(ctx, &sos); err != nil {
		log.Error(err, "failed to list the ScaledObjects to hand over after a change of replicas")
	}
	var sjs kedav1alpha1.ScaledJobList
	if err := c.List(ctx, &sjs); err != nil {
		log.Error(err, "failed to list the ScaledJobs to hand over after a change of replicas")
	}
	send := func(ch chan<- event.GenericEvent, obj client.Object) bool {
		select {
		case ch <- event.GenericEvent{Object: obj}:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for i := range sos.Items {
		o := &sos.Items[i]
		if moved(engine.ScaledObjectKey(client.ObjectKeyFromObject(o))) && !send(so, o) {
			return
		}
	}
	for i := range sjs.Items {
		o := &sjs.Items[i]
		if moved(engine.ScaledJobKey(client.ObjectKeyFromObject(o))) && !send(sj, o) {
			return
		}
	}
}

// statusMetricNames lists the external metrics the ScaledObjects' status names, from the cache: a
// replica that polls nothing lists them in the group's discovery as the leader does.
func statusMetricNames(c client.Reader, log logr.Logger) []provider.ExternalMetricInfo {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var list kedav1alpha1.ScaledObjectList
	if err := c.List(ctx, &list); err != nil {
		log.Error(err, "failed to list ScaledObjects for the external metrics discovery")
		return nil
	}
	var out []provider.ExternalMetricInfo
	for _, so := range list.Items {
		for _, name := range so.Status.ExternalMetricNames {
			out = append(out, provider.ExternalMetricInfo{Metric: name})
		}
	}
	return out
}

// runnable runs a component on the leader only, like the controllers, when one replica polls;
// on every replica when they split the objects (each acts only on its own share).
type runnable struct {
	r          interface{ Start(context.Context) error }
	leaderOnly bool
}

func (l runnable) Start(ctx context.Context) error { return l.r.Start(ctx) }
func (l runnable) NeedLeaderElection() bool        { return l.leaderOnly }

func newScalesClient(cfg *rest.Config, mapper interface {
	scale.PreferredResourceMapper
}) (scale.ScalesGetter, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to create the discovery client: %w", err)
	}
	cached := memory.NewMemCacheClient(dc)
	resolver := newRefreshingScaleKindResolver(scale.NewDiscoveryScaleKindResolver(cached), cached, clock.RealClock{})
	sc, err := scale.NewForConfig(cfg, mapper, dynamic.LegacyAPIPathResolverFunc, resolver)
	if err != nil {
		return nil, fmt.Errorf("failed to create the scale client: %w", err)
	}
	return sc, nil
}

// observabilityType is the Prometheus "type" label of an engine key's kind.
func observabilityType(kind engine.Kind) string {
	if kind == engine.KindScaledJob {
		return observability.TypeScaledJob
	}
	return observability.TypeScaledObject
}
