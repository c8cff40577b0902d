package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/metrics/pkg/apis/external_metrics/v1beta1"

	historyv1alpha1 "github.com/kedactl/kedactl/api/history/v1alpha1"
	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/test/env"
)

// The HA tests run the operator as three replicas: the suite's own (which leads, having started
// first) and two more joining its leader election and membership. They do not run in parallel
// with other tests: the kill test takes the suite's operator down for a while.

// haLeaseDuration is the operator's leader and membership lease duration (its default).
const haLeaseDuration = 15 * time.Second

// haRetryPeriod is how often its replicas try the leader Lease (its default).
const haRetryPeriod = 2 * time.Second

// haSetup starts two more replicas and a round-robin front over the three metrics servers, and
// points the external metrics APIService at the front. Cleanup brings the suite's replica back
// (restarting it if a test killed it), stops the others and points the APIService at it again.
func haSetup(t *testing.T, s *suite) (replicas []*env.Replica, front *env.Front) {
	t.Helper()
	ctx := context.Background()
	added, err := s.env.AddReplicas(ctx, 2)
	t.Cleanup(func() { haRestore(t, s) })
	if err != nil {
		t.Fatalf("failed to start more replicas: %v", err)
	}
	replicas = s.env.Replicas()
	ports := make([]int, 0, len(replicas))
	for _, r := range replicas {
		ports = append(ports, r.MetricsPort)
	}
	if front, err = env.NewFront(ports); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(front.Close)
	if err := s.env.RegisterExternalMetrics(ctx, front.Port()); err != nil {
		t.Fatalf("failed to register the front: %v", err)
	}
	t.Logf("replicas %d (+%d), front on %d", len(replicas), len(added), front.Port())
	return replicas, front
}

func haRestore(t *testing.T, s *suite) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	first := s.env.Replicas()[0]
	if !first.Running() {
		if err := s.env.RestartReplica(ctx, first); err != nil {
			t.Errorf("failed to restart the suite's operator: %v", err)
			return
		}
	}
	s.env.RemoveReplicas()
	// The stopped replicas hand their lead over: the suite's operator leads and is ready again.
	eventually(t, haLeaseDuration+30*time.Second, "the suite's operator to lead and be ready again", func(ctx context.Context) (bool, string) {
		holder := leaderHolder(ctx, s)
		return strings.HasPrefix(holder, first.ID+"_") && first.Ready(), "leader " + holder
	})
	if err := s.env.RegisterExternalMetrics(ctx, first.MetricsPort); err != nil {
		t.Errorf("failed to point the APIService at the suite's operator again: %v", err)
	}
	// The stopped replicas gave their membership up (the chart's Role lets them delete it), and a
	// killed one's Lease is only expired: the live members are the suite's operator alone.
	eventually(t, haLeaseDuration+10*time.Second, "the stopped replicas' membership Leases to go", func(ctx context.Context) (bool, string) {
		leases, err := s.env.Kube.CoordinationV1().Leases(env.ChartNamespace).List(ctx, metav1.ListOptions{LabelSelector: "membership.kedactl.dev/group=operator.keda.sh"})
		if err != nil {
			return false, err.Error()
		}
		var live []string
		for _, l := range leases.Items {
			if l.Spec.RenewTime != nil && l.Spec.LeaseDurationSeconds != nil &&
				time.Since(l.Spec.RenewTime.Time) < time.Duration(*l.Spec.LeaseDurationSeconds)*time.Second {
				live = append(live, *l.Spec.HolderIdentity)
			}
		}
		return len(live) == 1 && strings.HasPrefix(live[0], first.ID+"_"), fmt.Sprintf("live members %v of %d Leases", live, len(leases.Items))
	})
}

// leaderHolder is the holder of the operator's leader Lease.
func leaderHolder(ctx context.Context, s *suite) string {
	l, err := s.env.Kube.CoordinationV1().Leases(env.ChartNamespace).Get(ctx, "operator.keda.sh", metav1.GetOptions{})
	if err != nil {
		return "error: " + err.Error()
	}
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// leaderOf returns the replica that holds the leader Lease.
func leaderOf(ctx context.Context, s *suite, replicas []*env.Replica) (*env.Replica, string) {
	holder := leaderHolder(ctx, s)
	for _, r := range replicas {
		if strings.HasPrefix(holder, r.ID+"_") {
			return r, holder
		}
	}
	return nil, holder
}

// replicaClient talks to one replica's metrics server directly, as the aggregator would, with
// the suite's admin credentials (the replica authenticates them against the cluster).
func replicaClient(s *suite, r *env.Replica) (kubernetes.Interface, error) {
	cfg := s.env.Cluster.RestConfig()
	cfg.Host = fmt.Sprintf("https://127.0.0.1:%d", r.MetricsPort)
	cfg.TLSClientConfig = rest.TLSClientConfig{Insecure: true, CertData: cfg.CertData, KeyData: cfg.KeyData, CertFile: cfg.CertFile, KeyFile: cfg.KeyFile}
	cfg.Timeout = 10 * time.Second
	return kubernetes.NewForConfig(cfg)
}

// replicaMetric asks one replica's metrics server directly, as the aggregator would, with the
// suite's admin credentials (the replica authenticates them against the cluster).
func replicaMetric(ctx context.Context, s *suite, r *env.Replica, ns, metric, so string) (int64, error) {
	kube, err := replicaClient(s, r)
	if err != nil {
		return 0, err
	}
	path := fmt.Sprintf("/apis/external.metrics.k8s.io/v1beta1/namespaces/%s/%s", ns, metric)
	raw, err := kube.CoreV1().RESTClient().Get().AbsPath(path).Param("labelSelector", kedav1alpha1.LabelScaledObjectName+"="+so).DoRaw(ctx)
	if err != nil {
		return 0, fmt.Errorf("replica %d: GET %s: %w (%s)", r.Index, path, err, raw)
	}
	var list v1beta1.ExternalMetricValueList
	if err := json.Unmarshal(raw, &list); err != nil || len(list.Items) != 1 {
		return 0, fmt.Errorf("replica %d: GET %s answered %s (%v)", r.Index, path, raw, err)
	}
	return list.Items[0].Value.Value(), nil
}

// replicaHistory reads a ScaledObject's history from one replica directly and checks it holds
// samples.
func replicaHistory(ctx context.Context, s *suite, r *env.Replica, ns, so string) error {
	kube, err := replicaClient(s, r)
	if err != nil {
		return err
	}
	path := fmt.Sprintf("/apis/history.kedactl.dev/v1alpha1/namespaces/%s/scaledobjects/%s", ns, so)
	raw, err := kube.CoreV1().RESTClient().Get().AbsPath(path).DoRaw(ctx)
	if err != nil {
		return fmt.Errorf("replica %d: GET %s: %w (%s)", r.Index, path, err, raw)
	}
	var h historyv1alpha1.ScaledObjectHistory
	if err := json.Unmarshal(raw, &h); err != nil || len(h.Samples) == 0 {
		return fmt.Errorf("replica %d: GET %s answered no samples: %s (%v)", r.Index, path, raw, err)
	}
	return nil
}

// apiserverMetric asks through the apiserver's aggregator.
func apiserverMetric(ctx context.Context, s *suite, ns, metric, so string) (int64, error) {
	path := fmt.Sprintf("/apis/external.metrics.k8s.io/v1beta1/namespaces/%s/%s", ns, metric)
	raw, err := s.env.Kube.CoreV1().RESTClient().Get().AbsPath(path).Param("labelSelector", kedav1alpha1.LabelScaledObjectName+"="+so).DoRaw(ctx)
	if err != nil {
		return 0, fmt.Errorf("GET %s through the apiserver: %w (%s)", path, err, raw)
	}
	var list v1beta1.ExternalMetricValueList
	if err := json.Unmarshal(raw, &list); err != nil || len(list.Items) != 1 {
		return 0, fmt.Errorf("GET %s answered %s (%v)", path, raw, err)
	}
	return list.Items[0].Value.Value(), nil
}

// haScaledObject applies a worker scaled on api's value with a target of 2.
func haScaledObject(t *testing.T, s *suite, ns string, api *valueAPI) {
	t.Helper()
	s.apply(t, ns, deployment("worker", 1, nil))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
spec:
  scaleTargetRef:
    name: worker
  pollingInterval: 1
  minReplicaCount: 1
  maxReplicaCount: 10
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        scaleDown:
          stabilizationWindowSeconds: 1
  triggers:
    - type: metrics-api
      metadata:
        url: %q
        valueLocation: value
        targetValue: "2"
`, api.URL))
}

// failedMetricEvents counts the HPA's events saying it could not read a metric.
func failedMetricEvents(ctx context.Context, s *suite, ns string) (int, string) {
	events, err := s.env.Kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return -1, err.Error()
	}
	n, last := 0, ""
	for _, e := range events.Items {
		if e.InvolvedObject.Kind == "HorizontalPodAutoscaler" && e.Type == corev1.EventTypeWarning && strings.Contains(e.Reason, "FailedGet") {
			n += int(max(e.Count, 1))
			last = e.Reason + ": " + e.Message
		}
	}
	return n, last
}

// TestHAEveryReplicaAnswers: with three replicas, only the leader polls, yet every replica
// answers the metric of every ScaledObject, the same value, forwarding to the leader; the HPA,
// reading through the aggregator and a front that spreads connections over the replicas, sees no
// failed request in steady state.
func TestHAEveryReplicaAnswers(t *testing.T) {
	s := requireSuite(t)
	ctx := context.Background()
	replicas, front := haSetup(t, s)
	leader, holder := leaderOf(ctx, s, replicas)
	if leader == nil {
		t.Fatalf("no replica holds the leader Lease (holder %q)", holder)
	}
	t.Logf("leader: replica %d (%s)", leader.Index, holder)
	for _, r := range replicas {
		if !r.Ready() {
			t.Errorf("replica %d is not ready", r.Index)
		}
	}

	api := startValueAPI(t, 8)
	ns := s.newNamespace(t, "ha-answers")
	haScaledObject(t, s, ns, api)
	// 8 against a target of 2: 4 replicas, with the HPA reading through the front.
	s.waitReplicas(t, ns, "worker", 4, 90*time.Second)
	before, _ := failedMetricEvents(ctx, s, ns)

	const rounds = 20
	for i := 0; i < rounds; i++ {
		for _, r := range replicas {
			v, err := replicaMetric(ctx, s, r, ns, "s0-metric-api-value", "worker")
			if err != nil {
				t.Fatalf("round %d: %v", i, err)
			}
			if v != 8 {
				t.Fatalf("round %d: replica %d answered %d, want 8", i, r.Index, v)
			}
		}
		if v, err := apiserverMetric(ctx, s, ns, "s0-metric-api-value", "worker"); err != nil || v != 8 {
			t.Fatalf("round %d through the apiserver: %d, %v", i, v, err)
		}
	}

	// Every replica's discovery lists the metric.
	for _, r := range replicas {
		kube, err := replicaClient(s, r)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := kube.CoreV1().RESTClient().Get().AbsPath("/apis/external.metrics.k8s.io/v1beta1").DoRaw(ctx)
		if err != nil || !strings.Contains(string(raw), "s0-metric-api-value") {
			t.Errorf("replica %d's discovery does not list s0-metric-api-value: %v %s", r.Index, err, raw)
		}
	}

	// Every replica serves the history the leader keeps.
	for _, r := range replicas {
		if err := replicaHistory(ctx, s, r, ns, "worker"); err != nil {
			t.Error(err)
		}
	}

	// Steady state: the HPA keeps reading, and no read fails.
	api.Set(12)
	s.waitReplicas(t, ns, "worker", 6, 90*time.Second)
	if after, last := failedMetricEvents(ctx, s, ns); after != before {
		t.Errorf("the HPA failed to read its metric %d time(s) in steady state; last: %s", after-before, last)
	}
	hpa, err := s.hpa(ctx, ns, "keda-hpa-worker")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range hpa.Status.Conditions {
		if c.Type == autoscalingv2.ScalingActive && c.Status != corev1.ConditionTrue {
			t.Errorf("the HPA's ScalingActive is %s: %s", c.Status, c.Message)
		}
	}
	t.Logf("front connections by backend port: %v", front.Conns())
}

// TestHALeaderKilled: kill -9 of the leading replica of three. A survivor takes the leader Lease
// within the lease duration (plus a retry), polls the object again, every survivor answers its
// metric again, and the HPA follows a change of the source made after the kill.
func TestHALeaderKilled(t *testing.T) {
	s := requireSuite(t)
	ctx := context.Background()
	replicas, _ := haSetup(t, s)
	api := startValueAPI(t, 8)
	ns := s.newNamespace(t, "ha-kill")
	haScaledObject(t, s, ns, api)
	s.waitReplicas(t, ns, "worker", 4, 90*time.Second)

	leader, holder := leaderOf(ctx, s, replicas)
	if leader == nil {
		t.Fatalf("no replica holds the leader Lease (holder %q)", holder)
	}
	var survivors []*env.Replica
	for _, r := range replicas {
		if r != leader {
			survivors = append(survivors, r)
		}
	}
	killed := time.Now()
	leader.Kill()
	t.Logf("killed the leader, replica %d (%s)", leader.Index, holder)

	// A survivor takes over once the dead leader's Lease expires.
	eventually(t, haLeaseDuration+10*time.Second, "a survivor to lead", func(ctx context.Context) (bool, string) {
		r, h := leaderOf(ctx, s, survivors)
		return r != nil, "holder " + h
	})
	// A survivor counts the lease from when it last saw it renewed (up to a retry period before the
	// kill) and tries again every retry period with client-go's jitter (up to 2.2 periods): past
	// that, the takeover is late.
	took := time.Since(killed)
	if bound := haLeaseDuration + 4*haRetryPeriod; took > bound {
		t.Errorf("a survivor led %s after the kill, beyond the lease duration %s and the elector's retries (%s)", took.Round(100*time.Millisecond), haLeaseDuration, bound)
	}
	newLeader, _ := leaderOf(ctx, s, survivors)
	t.Logf("replica %d leads %s after the kill", newLeader.Index, took.Round(100*time.Millisecond))

	// Every survivor answers again, directly and through the apiserver.
	eventually(t, 30*time.Second, "every survivor to answer", func(ctx context.Context) (bool, string) {
		for _, r := range survivors {
			if _, err := replicaMetric(ctx, s, r, ns, "s0-metric-api-value", "worker"); err != nil {
				return false, err.Error()
			}
		}
		return true, ""
	})
	t.Logf("answers resumed %s after the kill", time.Since(killed).Round(100*time.Millisecond))
	for i := 0; i < 10; i++ {
		for _, r := range survivors {
			if v, err := replicaMetric(ctx, s, r, ns, "s0-metric-api-value", "worker"); err != nil || v != 8 {
				t.Fatalf("round %d: replica %d: %d, %v", i, r.Index, v, err)
			}
		}
		if v, err := apiserverMetric(ctx, s, ns, "s0-metric-api-value", "worker"); err != nil || v != 8 {
			t.Fatalf("round %d through the apiserver: %d, %v", i, v, err)
		}
	}
	for _, r := range survivors {
		if !r.Ready() {
			t.Errorf("survivor replica %d is not ready", r.Index)
		}
	}
	// The new leader polls: the HPA follows the source.
	api.Set(12)
	s.waitReplicas(t, ns, "worker", 6, 90*time.Second)
	// Reads failed while no replica led: reported, not asserted (the failover bench measures them).
	failed, last := failedMetricEvents(ctx, s, ns)
	t.Logf("the HPA failed to read its metric %d time(s) across the failover; last: %s", failed, last)
}
