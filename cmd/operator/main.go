// Command operator is the kedactl operator: controllers, scaling engine, external metrics server
// (and, later, admission webhook) in one process.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

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
	fs.StringVar(&opts.WatchNamespace, "watch-namespace", os.Getenv("WATCH_NAMESPACE"), "namespace to watch; empty means all")
	fs.StringVar(&opts.MetricsBindAddress, "metrics-bind-address", ":8080", "address of the Prometheus metrics endpoint; 0 disables it")
	fs.StringVar(&opts.HealthProbeBindAddress, "health-probe-bind-address", ":8081", "address of /healthz and /readyz; 0 disables it")
	fs.BoolVar(&opts.LeaderElection, "leader-elect", false, "use leader election so that only one replica scales")
	fs.StringVar(&opts.LeaderElectionNS, "leader-election-namespace", "", "namespace of the leader election lease")
	fs.StringVar(&opts.ExternalMetrics.BindAddress, "metrics-server-bind-address", "", "address of the external metrics API server; empty means all interfaces")
	fs.IntVar(&opts.ExternalMetrics.Port, "secure-port", 6443, "port of the external metrics API server; 0 disables it")
	fs.StringVar(&opts.ExternalMetrics.CertFile, "tls-cert-file", "", "serving certificate of the external metrics API server")
	fs.StringVar(&opts.ExternalMetrics.KeyFile, "tls-private-key-file", "", "serving key of the external metrics API server")
	fs.StringVar(&opts.ExternalMetrics.CertDir, "cert-dir", "", "directory for a self-signed serving certificate when none is given")
	fs.DurationVar(&opts.ScalerTimeout, "scaler-timeout", 3*time.Second, "timeout of each call to an event source")
	fs.StringVar(&opts.ClusterObjectNamespace, "cluster-object-namespace", envOr("KEDA_CLUSTER_OBJECT_NAMESPACE", "keda"), "namespace of the Secrets and ConfigMaps that ClusterTriggerAuthentications refer to")
	fs.DurationVar(&opts.AuthResync, "auth-resync-period", 30*time.Second, "how often ScaledObjects that use an authentication re-read their Secrets and ConfigMaps")
	fs.IntVar(&opts.PollWorkers, "poll-workers", 16, "how many triggers may be polled at once")
	zapOpts := zap.Options{}
	goFlags := flag.NewFlagSet("zap", flag.ContinueOnError)
	zapOpts.BindFlags(goFlags)
	fs.AddGoFlagSet(goFlags)
	if err := fs.Parse(os.Args[1:]); err != nil {
		return err
	}
	log := zap.New(zap.UseFlagOptions(&zapOpts))
	ctrl.SetLogger(log)

	cfg, err := restConfig(opts.Kubeconfig)
	if err != nil {
		return err
	}
	return app.Run(ctrl.SetupSignalHandler(), cfg, opts, log)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
