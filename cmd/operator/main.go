// Command operator is the kedactl operator: controllers, scaling engine, external metrics server
// and admission webhook in one process.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/kedactl/kedactl/operator/app"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run() error {
	var opts app.Options
	fs := pflag.NewFlagSet("operator", pflag.ContinueOnError)
	fs.StringVar(&opts.Kubeconfig, "kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig file; empty means in-cluster")
	fs.StringVar(&opts.Watch.Namespaces, "watch-namespace", os.Getenv("WATCH_NAMESPACE"), "namespace to watch, or several separated by commas; empty means all")
	fs.StringVar(&opts.Watch.LabelSelector, "watch-label-selector", os.Getenv("WATCH_LABEL_SELECTOR"), "handle only the ScaledObjects, ScaledJobs and HPAs this label selector selects; empty means all")
	fs.StringVar(&opts.Watch.LabelSelectorForTriggerAuth, "watch-label-selector-for-triggerauth", os.Getenv("WATCH_LABEL_SELECTOR_FOR_TRIGGERAUTH"), "handle only the (Cluster)TriggerAuthentications this label selector selects; empty means all")
	fs.StringVar(&opts.MetricsBindAddress, "metrics-bind-address", ":8080", "address of the Prometheus metrics endpoint; 0 disables it")
	fs.StringVar(&opts.HealthProbeBindAddress, "health-probe-bind-address", ":8081", "address of /healthz and /readyz; 0 disables it")
	fs.StringVar(&opts.ProfilingBindAddress, "profiling-bind-address", "", "address of Go's /debug/pprof profiles; empty disables it")
	fs.BoolVar(&opts.LeaderElection, "leader-elect", false, "use leader election so that only one replica scales")
	fs.StringVar(&opts.LeaderElectionNS, "leader-election-namespace", "", "namespace of the leader election lease")
	fs.DurationVar(&opts.LeaseDuration, "leader-election-lease-duration", 15*time.Second, "how long a leader or membership Lease lasts unrenewed: a killed replica's objects move after at most this")
	fs.DurationVar(&opts.RenewDeadline, "leader-election-renew-deadline", 10*time.Second, "how long the leader retries renewing its Lease before it gives up leading")
	fs.DurationVar(&opts.RetryPeriod, "leader-election-retry-period", 2*time.Second, "how often Leases are tried, renewed and read")
	fs.IntVar(&opts.Peer.Port, "peer-port", 0, "port where the other replicas reach this one (mTLS with the serving certificate); with --leader-elect, a replica that does not poll an object forwards the HPA's requests for it to the one that does; 0 disables it")
	fs.StringVar(&opts.Peer.BindAddress, "peer-bind-address", "", "address of the peer endpoint; empty means all interfaces")
	fs.StringVar(&opts.Peer.AdvertiseAddress, "peer-advertise-address", os.Getenv("POD_IP"), "host (or host:port) the other replicas dial to reach this one (default from POD_IP)")
	fs.StringVar(&opts.Peer.ReplicaID, "replica-id", os.Getenv("POD_NAME"), "this replica's name in the leader and membership Leases (default from POD_NAME, else the host name; a random suffix is added)")
	fs.DurationVar(&opts.Peer.ForwardTimeout, "peer-forward-timeout", 5*time.Second, "how long a metric request forwarded to the owning replica may take")
	fs.StringVar(&opts.ExternalMetrics.BindAddress, "metrics-server-bind-address", "", "address of the external metrics API server; empty means all interfaces")
	fs.IntVar(&opts.ExternalMetrics.Port, "secure-port", 6443, "port of the external metrics API server; 0 disables it")
	fs.StringVar(&opts.ExternalMetrics.CertFile, "tls-cert-file", "", "serving certificate of the external metrics API server")
	fs.StringVar(&opts.ExternalMetrics.KeyFile, "tls-private-key-file", "", "serving key of the external metrics API server")
	fs.StringVar(&opts.ExternalMetrics.CertDir, "cert-dir", "", "directory where the self-managed serving certificate is written when --tls-cert-file is not set")
	fs.IntVar(&opts.Webhook.Port, "webhook-port", 9443, "port of the validating admission webhook; 0 disables it")
	fs.StringVar(&opts.Webhook.BindAddress, "webhook-bind-address", "", "address of the admission webhook; empty means all interfaces")
	fs.StringVar(&opts.Certs.Namespace, "cert-secret-namespace", envOr("POD_NAMESPACE", "keda"), "namespace of the Secret holding the self-managed certificate (the operator's own namespace)")
	fs.StringVar(&opts.Certs.SecretName, "cert-secret-name", "kedaorg-certs", "Secret holding the self-managed certificate when --tls-cert-file is not set")
	fs.StringSliceVar(&opts.Certs.DNSNames, "cert-dns-names", nil, "names of the self-managed certificate, e.g. keda-operator.keda.svc (the Service the APIService and the webhook configuration point at)")
	fs.IPSliceVar(&opts.Certs.IPAddresses, "cert-ip-addresses", nil, "IP addresses of the self-managed certificate")
	fs.StringSliceVar(&opts.Certs.APIServiceNames, "cert-apiservice-name", []string{"v1beta1.external.metrics.k8s.io", "v1alpha1.history.kedactl.dev"}, "APIServices (comma-separated) into which the self-managed CA is injected as caBundle; empty injects none")
	fs.StringVar(&opts.Certs.WebhookConfigName, "cert-webhook-config-name", "keda-admission", "ValidatingWebhookConfiguration into which the self-managed CA is injected; empty injects none")
	fs.DurationVar(&opts.Certs.CheckInterval, "cert-check-interval", time.Minute, "how often the self-managed certificate's expiry and injection are checked")
	fs.DurationVar(&opts.Certs.CertValidity, "cert-validity", 365*24*time.Hour, "lifetime of the self-managed serving certificate (renewed when a third of it is left)")
	defaultTimeoutMS, err := envInt("KEDA_HTTP_DEFAULT_TIMEOUT", 3000)
	if err != nil {
		return err
	}
	fs.DurationVar(&opts.ScalerTimeout, "scaler-timeout", time.Duration(defaultTimeoutMS)*time.Millisecond, "timeout of each call to an event source (default from KEDA's KEDA_HTTP_DEFAULT_TIMEOUT, in milliseconds)")
	fs.StringVar(&opts.ClusterObjectNamespace, "cluster-object-namespace", envOr("KEDA_CLUSTER_OBJECT_NAMESPACE", "keda"), "namespace of the Secrets and ConfigMaps that ClusterTriggerAuthentications refer to")
	fs.StringVar(&opts.ClusterName, "k8s-cluster-name", "kubernetes-default", "this cluster's name in the source and subject of CloudEvents, for CloudEventSources without spec.clusterName (as KEDA's --k8s-cluster-name)")
	fs.DurationVar(&opts.AuthResync, "auth-resync-period", 30*time.Second, "how often ScaledObjects that use an authentication re-read their Secrets and ConfigMaps")
	fs.StringVar(&opts.FilePathAuthRoot, "filepath-auth-root-path", "", "directory that ClusterTriggerAuthentications' spec.filePath is relative to (files outside it are refused); empty disables filePath")
	fs.StringVar(&opts.VaultTokenAudience, "vault-token-audience", "vault", "audience of the ServiceAccount tokens requested to log in to HashiCorp Vault (credential.serviceAccountName); the Vault role must accept it")
	fs.IntVar(&opts.PollWorkers, "poll-workers", 16, "how many triggers may be polled at once")
	fs.BoolVar(&opts.HighCardinalityMetricsLabels, "enable-high-cardinality-metrics-labels", false, "label keda_scaler_http_request_duration_seconds by namespace, object, trigger and metric too (a histogram per trigger), as KEDA's flag of this name")
	maxReconciles, err := envInt("KEDA_SCALEDOBJECT_CTRL_MAX_RECONCILES", 5)
	if err != nil {
		return err
	}
	fs.IntVar(&opts.MaxConcurrentReconciles, "max-concurrent-reconciles", maxReconciles, "how many ScaledObjects are reconciled at once (env KEDA_SCALEDOBJECT_CTRL_MAX_RECONCILES)")
	caDirs := fs.StringArray("ca-dir", []string{"/custom/ca"}, "directory of CA certificates (PEM) that event sources' TLS certificates may be signed by, beside the system's; may be given several times (as KEDA's --ca-dir)")
	var qps float64
	var burst int
	memoryLimitRatio := fs.Float64("memory-limit-ratio", 0.9, "unless GOMEMLIMIT is set, the Go runtime's soft memory limit as a share of the container's memory limit (its cgroup's); 0 sets none")
	fs.Float64Var(&qps, "kube-api-qps", 20, "requests per second the operator may send to the apiserver (as KEDA's --kube-api-qps)")
	fs.IntVar(&burst, "kube-api-burst", 30, "burst of requests above --kube-api-qps (as KEDA's --kube-api-burst)")
	zapOpts := zap.Options{}
	goFlags := flag.NewFlagSet("zap", flag.ContinueOnError)
	zapOpts.BindFlags(goFlags)
	fs.AddGoFlagSet(goFlags)
	if err := fs.Parse(os.Args[1:]); err != nil {
		return err
	}
	log := zap.New(zap.UseFlagOptions(&zapOpts))
	ctrl.SetLogger(log)
	// Before any TLS connection: crypto/x509 reads the system pool once.
	if dirs := certDirsWith(*caDirs, os.Getenv("SSL_CERT_DIR"), dirExists); dirs != "" {
		if err := os.Setenv("SSL_CERT_DIR", dirs); err != nil {
			return fmt.Errorf("failed to add --ca-dir to the trusted CAs: %w", err)
		}
		log.Info("trusting the CA certificates of --ca-dir beside the system's", "SSL_CERT_DIR", dirs)
	}

	if err := applyMemoryLimit(*memoryLimitRatio, log); err != nil {
		return err
	}

	cfg, err := restConfig(opts.Kubeconfig)
	if err != nil {
		return err
	}
	if qps <= 0 || burst < 1 {
		return fmt.Errorf("--kube-api-qps must be above 0 and --kube-api-burst at least 1, got %v and %d", qps, burst)
	}
	cfg.QPS, cfg.Burst = float32(qps), burst
	return app.Run(ctrl.SetupSignalHandler(), cfg, opts, log)
}

// applyMemoryLimit sets the runtime's soft memory limit from the container's, unless GOMEMLIMIT
// already set one (the runtime reads it itself) or ratio is 0.
func applyMemoryLimit(ratio float64, log logr.Logger) error {
	if ratio < 0 || ratio > 1 {
		return fmt.Errorf("--memory-limit-ratio must be between 0 and 1, got %v", ratio)
	}
	if ratio == 0 || os.Getenv("GOMEMLIMIT") != "" {
		return nil
	}
	limit, ok, err := softMemoryLimit(containerMemoryLimit(), ratio)
	if err != nil {
		return err
	}
	if ok {
		debug.SetMemoryLimit(limit)
		log.Info("soft memory limit set from the container's", "bytes", limit, "ratio", ratio)
	}
	return nil
}

// envInt reads a positive integer from an environment variable KEDA's operator also reads; def when
// it is unset.
func envInt(name string, def int) (int, error) {
	raw := os.Getenv(name)
	if raw == "" {
		return def, nil
	}
	v, err := strconv.Atoi(raw)
	if err != nil || v < 1 {
		return 0, fmt.Errorf("environment variable %s=%q: set it to a whole number of 1 or more, or unset it", name, raw)
	}
	return v, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
