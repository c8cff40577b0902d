// Command demo is `make demo`: it waits for the tools it uses (the control plane, kwok, helm, Redis),
// starts the local cluster, Redis and the operator, applies a Deployment and a ScaledObject written
// as KEDA's docs write them, feeds the Redis list while the Deployment goes 0 -> N -> 0, then shows
// `kubectl keda` on those objects. Progress goes to stdout one line a step; the tools', builds' and
// cluster's output to the log file it names first. DEMO_KEEP=1 leaves everything running.
package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/metrics/pkg/apis/external_metrics/v1beta1"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/kedactl/kedactl/test/cmd/demo/steps"
	"github.com/kedactl/kedactl/test/env"
	redisserver "github.com/kedactl/kedactl/test/servers/redis"
)

//go:embed scaledobject.yaml
var manifest string

// The demo's objects, as scaledobject.yaml names them.
const (
	namespace    = "demo"
	scaledObject = "redis-scaledobject"
	target       = "redis-worker"
	list         = "mylist"
	maxReplicas  = 6 // the ScaledObject's maxReplicaCount
	backlog      = 30
)

func main() {
	// The demo reports through its progress lines; controller-runtime's client logs nothing.
	ctrllog.SetLogger(logr.Discard())
	start := steps.ParseStart(os.Getenv("DEMO_START"), time.Now())
	p := &steps.Progress{Out: os.Stdout, Start: start}
	logPath := os.Getenv("DEMO_LOG")
	if logPath == "" {
		logPath = filepath.Join(os.TempDir(), "kedactl-demo.log")
		p.Step("tool, apt, build and cluster output goes to %s", logPath)
	} else {
		p.Step("demo and kubectl-keda built") // make demo builds them, then runs this
	}
	if err := run(p, logPath); err != nil {
		fmt.Fprintf(os.Stderr, "demo failed: %v\n(the tools', builds' and cluster's output is in %s)\n", err, logPath)
		os.Exit(1)
	}
}

func run(p *steps.Progress, logPath string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	keep := os.Getenv("DEMO_KEEP") == "1"
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("failed to open the log %s: %w", logPath, err)
	}
	defer log.Close()
	root := env.RepoRoot()

	if err := steps.EnsureTools(ctx, p, root, steps.DemoTools(), log); err != nil {
		return err
	}
	e, err := env.Start(ctx, env.Options{Out: log})
	if err != nil {
		return err
	}
	defer e.Stop()
	p.Step("local cluster, CRDs, chart and operator ready")
	rs, err := redisserver.StartProcess(ctx, redisserver.Options{})
	if err != nil {
		return err
	}
	defer rs.Stop()
	p.Step("redis-server on %s", rs.Addr)

	if _, err := e.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("failed to create namespace %s: %w", namespace, err)
	}
	if err := e.ApplyYAML(ctx, namespace, strings.ReplaceAll(manifest, "REDIS_ADDRESS", rs.Addr)); err != nil {
		return err
	}
	p.Step("applied Deployment %s (0 replicas) and ScaledObject %s (redis list %s, 5 items a replica)", target, scaledObject, list)

	q := &steps.RedisList{Client: rs.Client(), Key: list}
	defer q.Client.Close()
	scenarioStart := time.Now()
	peak, err := steps.RunScenario(ctx, steps.ScenarioOptions{
		Queue: q, Observe: func(ctx context.Context) steps.Sample { return observe(ctx, e) },
		Backlog: backlog, MaxReplicas: maxReplicas, Timeout: 4 * time.Minute, Out: os.Stdout,
	})
	if err != nil {
		return err
	}
	p.Step("%s went 0 -> 1 -> %d -> 0 in %s", target, peak, time.Since(scenarioStart).Round(time.Second))

	binDir := os.Getenv("DEMO_BIN")
	if binDir == "" {
		binDir = filepath.Join(root, "bin")
	}
	kubectl := steps.NewKubectl(binDir, e.Cluster.KubeconfigPath(), os.Environ(), exec.LookPath, os.Stdout)
	err = steps.Tour(ctx, steps.TourOptions{
		Kubectl: kubectl, Progress: p, Namespace: namespace, Name: scaledObject, Target: target,
		Queue: q, Replicas: func(ctx context.Context) (int32, error) { return replicas(ctx, e) },
		Hold: 2, Backlog: backlog, MaxReplicas: maxReplicas, HoldFor: 8 * time.Second,
	})
	if err != nil {
		return err
	}
	p.Step("done")
	if keep {
		fmt.Printf("\nDEMO_KEEP=1: the cluster, Redis and the operator keep running until Ctrl-C. In another shell:\n"+
			"  export KUBECONFIG=%s PATH=%s:$PATH\n"+
			"  kubectl keda -n %s          # the TUI\n"+
			"  kubectl keda top -n %s\n"+
			"  redis-cli -p %s rpush %s a b c d e f   # more work for %s\n",
			e.Cluster.KubeconfigPath(), binDir, namespace, namespace, rs.Addr[strings.LastIndex(rs.Addr, ":")+1:], list, target)
		<-ctx.Done()
		p.Step("stopping the operator, Redis and the cluster")
	}
	return nil
}

// observe reads what the demo's table shows.
func observe(ctx context.Context, e *env.Env) steps.Sample {
	s := steps.Sample{Metric: externalMetric(ctx, e), HPADesired: "-", Replicas: -1}
	if hpa, err := e.Kube.AutoscalingV2().HorizontalPodAutoscalers(namespace).Get(ctx, "keda-hpa-"+scaledObject, metav1.GetOptions{}); err == nil {
		s.HPADesired = fmt.Sprint(hpa.Status.DesiredReplicas)
	}
	if r, err := replicas(ctx, e); err == nil {
		s.Replicas = r
	}
	return s
}

func replicas(ctx context.Context, e *env.Env) (int32, error) {
	d, err := e.Kube.AppsV1().Deployments(namespace).Get(ctx, target, metav1.GetOptions{})
	if err != nil {
		return 0, fmt.Errorf("failed to get deployment %s/%s: %w", namespace, target, err)
	}
	if d.Spec.Replicas == nil {
		return 1, nil
	}
	return *d.Spec.Replicas, nil
}

// externalMetric reads the ScaledObject's metric through the aggregation layer, as the HPA does.
func externalMetric(ctx context.Context, e *env.Env) string {
	raw, err := e.Kube.CoreV1().RESTClient().Get().
		AbsPath("/apis/external.metrics.k8s.io/v1beta1/namespaces", namespace, "s0-redis-"+list).
		Param("labelSelector", "scaledobject.keda.sh/name="+scaledObject).DoRaw(ctx)
	if err != nil {
		return "-"
	}
	var l v1beta1.ExternalMetricValueList
	if json.Unmarshal(raw, &l) != nil || len(l.Items) == 0 {
		return "-"
	}
	return l.Items[0].Value.String()
}
