// Command demo is `make demo`: it starts the local cluster, Redis and the operator, applies a
// Deployment and a ScaledObject written as KEDA's docs write them, feeds the Redis list, and prints
// one line a second while the Deployment goes 0 -> N -> 0. DEMO_KEEP=1 leaves everything running.
package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/metrics/pkg/apis/external_metrics/v1beta1"

	"github.com/kedactl/kedactl/test/env"
	redisserver "github.com/kedactl/kedactl/test/servers/redis"
)

//go:embed scaledobject.yaml
var manifest string

const (
	namespace = "demo"
	list      = "mylist"
	backlog   = 30
	// maxDuration bounds the whole demo so it always ends by itself.
	maxDuration = 4 * time.Minute
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	keep := os.Getenv("DEMO_KEEP") == "1"

	started := time.Now()
	e, err := env.Start(ctx, env.Options{Out: os.Stdout})
	if err != nil {
		return err
	}
	defer e.Stop()
	fmt.Printf(">> cluster and operator ready in %s\n", time.Since(started).Round(100*time.Millisecond))
	rs, err := redisserver.StartProcess(ctx, redisserver.Options{})
	if err != nil {
		return err
	}
	defer rs.Stop()
	fmt.Printf(">> redis-server on %s\n", rs.Addr)

	if _, err := e.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("failed to create namespace %s: %w", namespace, err)
	}
	if err := e.ApplyYAML(ctx, namespace, strings.ReplaceAll(manifest, "REDIS_ADDRESS", rs.Addr)); err != nil {
		return err
	}
	fmt.Println(">> applied Deployment redis-worker (0 replicas) and ScaledObject redis-scaledobject")

	if err := watch(ctx, e, rs); err != nil {
		return err
	}
	if keep {
		fmt.Printf("\nDEMO_KEEP=1: everything keeps running until Ctrl-C. In another shell:\n  export KUBECONFIG=%s\n  kubectl get so,hpa,deploy -n %s\n", e.Cluster.KubeconfigPath(), namespace)
		<-ctx.Done()
	}
	fmt.Println(">> stopping")
	return nil
}

// watch drives the scenario and prints one line a second until the worker is back at zero.
func watch(ctx context.Context, e *env.Env, rs *redisserver.Server) error {
	rc := rs.Client()
	defer rc.Close()
	ctx, cancel := context.WithTimeout(ctx, maxDuration)
	defer cancel()

	const (
		idle     = "idle"
		one      = "one item"
		backlogP = "backlog"
		drained  = "drained"
	)
	phase := idle
	phaseStart := time.Now()
	maxSeen := int32(0)
	fmt.Printf("\n%-8s %-10s %6s %7s %11s %9s\n", "time", "phase", "list", "metric", "hpaDesired", "replicas")
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	start := time.Now()
	for {
		length, _ := rc.LLen(ctx, list).Result()
		metric := externalMetric(ctx, e)
		hpaDesired := "-"
		if hpa, err := e.Kube.AutoscalingV2().HorizontalPodAutoscalers(namespace).Get(ctx, "keda-hpa-redis-scaledobject", metav1.GetOptions{}); err == nil {
			hpaDesired = fmt.Sprint(hpa.Status.DesiredReplicas)
		}
		replicas := int32(-1)
		if d, err := e.Kube.AppsV1().Deployments(namespace).Get(ctx, "redis-worker", metav1.GetOptions{}); err == nil && d.Spec.Replicas != nil {
			replicas = *d.Spec.Replicas
		}
		maxSeen = max(maxSeen, replicas)
		fmt.Printf("%-8s %-10s %6d %7s %11s %9d\n", time.Since(start).Round(time.Second), phase, length, metric, hpaDesired, replicas)

		inPhase := time.Since(phaseStart)
		switch {
		case phase == idle && inPhase >= 5*time.Second:
			phase, phaseStart = one, time.Now()
			if err := rc.RPush(ctx, list, "job-0").Err(); err != nil {
				return fmt.Errorf("failed to push to %s: %w", list, err)
			}
		case phase == one && replicas >= 1 && inPhase >= 3*time.Second:
			phase, phaseStart = backlogP, time.Now()
			items := make([]any, backlog)
			for i := range items {
				items[i] = fmt.Sprintf("job-%d", i+1)
			}
			if err := rc.RPush(ctx, list, items...).Err(); err != nil {
				return fmt.Errorf("failed to push to %s: %w", list, err)
			}
		case phase == backlogP && (replicas >= 6 || inPhase >= 60*time.Second):
			phase, phaseStart = drained, time.Now()
			if err := rc.Del(ctx, list).Err(); err != nil {
				return fmt.Errorf("failed to drain %s: %w", list, err)
			}
		case phase == drained && replicas == 0:
			fmt.Printf("\n>> the worker went 0 -> 1 -> %d -> 0 in %s\n", maxSeen, time.Since(start).Round(time.Second))
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the demo did not finish within %s (phase %s)", maxDuration, phase)
		case <-tick.C:
		}
	}
}

// externalMetric reads the ScaledObject's metric through the aggregation layer, as the HPA does.
func externalMetric(ctx context.Context, e *env.Env) string {
	raw, err := e.Kube.CoreV1().RESTClient().Get().
		AbsPath("/apis/external.metrics.k8s.io/v1beta1/namespaces", namespace, "s0-redis-"+list).
		Param("labelSelector", "scaledobject.keda.sh/name=redis-scaledobject").DoRaw(ctx)
	if err != nil {
		return "-"
	}
	var l v1beta1.ExternalMetricValueList
	if json.Unmarshal(raw, &l) != nil || len(l.Items) == 0 {
		return "-"
	}
	return l.Items[0].Value.String()
}
