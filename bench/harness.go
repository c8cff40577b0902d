package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/kedactl/kedactl/test/cluster"
	"github.com/kedactl/kedactl/test/env"
)

var (
	soGVR  = schema.GroupVersionResource{Group: "keda.sh", Version: "v1alpha1", Resource: "scaledobjects"}
	crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
)

// Harness holds the cluster, the clients and the counting source.
type Harness struct {
	Cluster *cluster.Cluster
	Kube    kubernetes.Interface
	Dyn     dynamic.Interface
	Src     *Source
	Dir     string
	Out     io.Writer
	// ProfileDir, when set, keeps each profile the run takes (name.pprof), so that the figures it
	// explains can be examined further with go tool pprof (the operator binary is not kept: pprof
	// reads the symbols recorded in the profile).
	ProfileDir string
	// Label names the cluster in progress lines: a run may have several up at once.
	Label string
}

// Logf prints a progress line.
func (h *Harness) Logf(format string, args ...any) {
	label := ""
	if h.Label != "" {
		label = "(" + h.Label + ") "
	}
	fmt.Fprintf(h.Out, "%s %s%s\n", time.Now().Format("15:04:05"), label, fmt.Sprintf(format, args...))
}

func newHarness(c *cluster.Cluster, src *Source, out io.Writer) (*Harness, error) {
	cfg := c.RestConfig()
	cfg.QPS, cfg.Burst = 1000, 2000
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Harness{Cluster: c, Kube: kube, Dyn: dyn, Src: src, Dir: c.Dir(), Out: out}, nil
}

// InstallCRDs applies the operator's CRDs (server-side, taking over the other operator's) and
// waits until they are established.
func (h *Harness) InstallCRDs(ctx context.Context, files []string) error {
	if len(files) == 0 {
		return fmt.Errorf("no CRD files")
	}
	for _, f := range files {
		objs, err := env.ReadObjects(f)
		if err != nil {
			return err
		}
		for _, obj := range objs {
			data, err := obj.MarshalJSON()
			if err != nil {
				return err
			}
			if _, err := h.Dyn.Resource(crdGVR).Patch(ctx, obj.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: "bench", Force: ptr.To(true)}); err != nil {
				return fmt.Errorf("failed to apply CRD %s: %w", obj.GetName(), err)
			}
			err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
				crd, err := h.Dyn.Resource(crdGVR).Get(ctx, obj.GetName(), metav1.GetOptions{})
				if err != nil {
					return false, nil
				}
				conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
				for _, c := range conds {
					m, _ := c.(map[string]any)
					if m["type"] == "Established" && m["status"] == "True" {
						return true, nil
					}
				}
				return false, nil
			})
			if err != nil {
				return fmt.Errorf("CRD %s not established: %w", obj.GetName(), err)
			}
		}
	}
	return nil
}

// Workload says what each ScaledObject of a set looks like.
type Workload struct {
	NS          string
	Prefix      string
	Replicas    int32 // of the Deployment at creation
	MinReplicas int64
	Polling     int64
	Cached      bool
	// Key returns the source key of object i (identical triggers share one).
	Key func(i int) string
	// PodLabel, when set, makes each object's trigger kubernetes-workload instead of metrics-api:
	// it counts the pods labelled PodLabel=Name(i) (value 1, activationValue 0), which the
	// harness creates and deletes (figure 3's push source). Key is not used then.
	PodLabel string
}

// Name is object i's name (Deployment and ScaledObject).
func (w Workload) Name(i int) string { return fmt.Sprintf("%s-%05d", w.Prefix, i) }

func (w Workload) deployment(i int) *appsv1.Deployment {
	name := w.Name(i)
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: w.NS},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(w.Replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.com/bench:1"}}},
			},
		},
	}
}

// trigger is object i's one trigger: metrics-api on the counting source, or kubernetes-workload
// when w.PodLabel is set.
func (w Workload) trigger(i int, src *Source) map[string]any {
	if w.PodLabel != "" {
		return map[string]any{
			"type":     "kubernetes-workload",
			"metadata": map[string]any{"podSelector": w.PodLabel + "=" + w.Name(i), "value": "1"},
		}
	}
	return map[string]any{
		"type":             "metrics-api",
		"useCachedMetrics": w.Cached,
		"metadata": map[string]any{
			"url": src.URL(w.Key(i)), "valueLocation": "value", "targetValue": "10",
		},
	}
}

// eventPod is the pod that makes object i's kubernetes-workload trigger active: labelled for its
// podSelector only (no Deployment's selector matches it), scheduled onto a kwok node like any pod.
func (w Workload) eventPod(i int) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: w.Name(i) + "-event", Namespace: w.NS, Labels: map[string]string{w.PodLabel: w.Name(i)}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.com/bench:1"}}},
	}
}

func (w Workload) scaledObject(i int, src *Source) *unstructured.Unstructured {
	name := w.Name(i)
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "keda.sh/v1alpha1",
		"kind":       "ScaledObject",
		"metadata":   map[string]any{"name": name, "namespace": w.NS},
		"spec": map[string]any{
			"scaleTargetRef":  map[string]any{"name": name},
			"pollingInterval": w.Polling,
			"cooldownPeriod":  int64(0),
			"minReplicaCount": w.MinReplicas,
			"maxReplicaCount": int64(10),
			"triggers":        []any{w.trigger(i, src)},
		},
	}}
}

// EnsureNamespace creates ns.
func (h *Harness) EnsureNamespace(ctx context.Context, ns string) error {
	_, err := h.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

// Create makes objects from..to-1 of w (Deployment first, then ScaledObject), 32 at a time.
func (h *Harness) Create(ctx context.Context, w Workload, from, to int) error {
	if err := h.EnsureNamespace(ctx, w.NS); err != nil {
		return err
	}
	return parallel(ctx, from, to, 32, func(i int) error {
		if _, err := h.Kube.AppsV1().Deployments(w.NS).Create(ctx, w.deployment(i), metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
		if _, err := h.Dyn.Resource(soGVR).Namespace(w.NS).Create(ctx, w.scaledObject(i, h.Src), metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
		return nil
	})
}

func parallel(ctx context.Context, from, to, workers int, f func(i int) error) error {
	ch := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ch {
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := from; i < to && ctx.Err() == nil; i++ {
		ch <- i
	}
	close(ch)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// CountHPAs counts the HorizontalPodAutoscalers in ns.
func (h *Harness) CountHPAs(ctx context.Context, ns string) (int, error) {
	n := 0
	opts := metav1.ListOptions{Limit: 5000}
	for {
		l, err := h.Kube.AutoscalingV2().HorizontalPodAutoscalers(ns).List(ctx, opts)
		if err != nil {
			return 0, err
		}
		n += len(l.Items)
		if l.Continue == "" {
			return n, nil
		}
		opts.Continue = l.Continue
	}
}

// WaitHPAs waits until ns holds n HPAs and returns when that was seen.
func (h *Harness) WaitHPAs(ctx context.Context, ns string, n int, timeout time.Duration) (time.Time, error) {
	interval := 250 * time.Millisecond
	if n > 2000 {
		interval = 2 * time.Second
	}
	last := 0
	err := wait.PollUntilContextTimeout(ctx, interval, timeout, true, func(ctx context.Context) (bool, error) {
		c, err := h.CountHPAs(ctx, ns)
		if err != nil {
			return false, nil
		}
		last = c
		return c >= n, nil
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("%d of %d HPAs in %s after %s: %w", last, n, ns, timeout, err)
	}
	return time.Now(), nil
}

// DeleteNamespace removes ns: ScaledObjects first (their finalizers stripped, so that a stopped or
// slow operator does not hold them), then the namespace, and waits until it is gone.
func (h *Harness) DeleteNamespace(ctx context.Context, ns string) error {
	so := h.Dyn.Resource(soGVR).Namespace(ns)
	_ = so.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
	for range 10 {
		l, err := so.List(ctx, metav1.ListOptions{})
		if err != nil || len(l.Items) == 0 {
			break
		}
		_ = parallel(ctx, 0, len(l.Items), 32, func(i int) error {
			_, err := so.Patch(ctx, l.Items[i].GetName(), types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
			return err
		})
		time.Sleep(time.Second)
	}
	if err := h.Kube.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return wait.PollUntilContextTimeout(ctx, time.Second, 5*time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := h.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
}

// APIServerMetrics scrapes kube-apiserver's /metrics.
func (h *Harness) APIServerMetrics(ctx context.Context) ([]Sample, error) {
	raw, err := h.Kube.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	return ParseProm(string(raw)), nil
}

// scrape fetches a Prometheus endpoint on loopback.
func scrape(ctx context.Context, url string) ([]Sample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return dedupe(ParseProm(string(b))), nil
}

// dedupe drops repeated samples of one name and label set (an endpoint that serves two registries).
func dedupe(in []Sample) []Sample {
	seen := map[string]bool{}
	var out []Sample
	for _, s := range in {
		key := fmt.Sprint(s.Name, s.Labels)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, s)
	}
	return out
}

// Counters is a snapshot of what the bench diffs over a window.
type Counters struct {
	At                 time.Time
	CPUSecs, RSSBytes  float64
	RSSFileBytes       float64
	OpReqs, OpWrites   float64
	APIReqs, APIWrites float64
	// APIWritesBy is APIWrites by verb and resource (WritesByKind).
	APIWritesBy map[string]float64
	// APIReadsBy is the reads (GET, LIST) by verb and resource, the same way.
	APIReadsBy map[string]float64
	Running    bool
}

// Snapshot reads the operator's processes, its client metrics and the apiserver's request counts.
func (h *Harness) Snapshot(ctx context.Context, op Operator) (Counters, error) {
	c := Counters{At: time.Now(), Running: true}
	for _, p := range op.Procs() {
		if !p.Running() {
			c.Running = false
			continue
		}
		ps, err := ReadProcStat(p.PID())
		if err != nil {
			return c, err
		}
		c.CPUSecs += ps.CPUSecs
		c.RSSBytes += ps.RSSBytes
		c.RSSFileBytes += ps.RSSFileBytes
	}
	for _, u := range op.PromURLs() {
		s, err := scrape(ctx, u)
		if err != nil {
			return c, err
		}
		c.OpReqs += SumProm(s, "rest_client_requests_total", nil)
		c.OpWrites += SumProm(s, "rest_client_requests_total", func(l map[string]string) bool { return IsWriteVerb(l["method"]) })
	}
	api, err := h.APIServerMetrics(ctx)
	if err != nil {
		return c, err
	}
	resource := func(l map[string]string) bool { return l["resource"] != "" }
	c.APIReqs = SumProm(api, "apiserver_request_total", resource)
	c.APIWrites = SumProm(api, "apiserver_request_total", func(l map[string]string) bool { return resource(l) && IsWriteVerb(l["verb"]) })
	c.APIWritesBy = WritesByKind(api)
	c.APIReadsBy = RequestsByKind(api, func(verb string) bool { return !IsWriteVerb(verb) && verb != "WATCH" })
	return c, nil
}

// Window is the per-minute rates between two snapshots and the peak RSS seen.
type Window struct {
	Minutes           float64
	RSSMiB, CPUPerMin float64
	// RSSFileMiB is the file-backed part of RSS at the window's end (the executables' pages).
	RSSFileMiB                    float64 `json:",omitempty"`
	OpReqPerMin, OpWritesPerMin   float64
	APIReqPerMin, APIWritesPerMin float64
	// Throttled counts the operator's log lines about client-side throttling written during the
	// window (nil in results of runs before it was counted per window).
	Throttled *int `json:",omitempty"`
}

// Measure samples for d (RSS every 5 s, keeping the peak) and returns the rates.
func (h *Harness) Measure(ctx context.Context, op Operator, d time.Duration) (Window, error) {
	a, err := h.Snapshot(ctx, op)
	if err != nil {
		return Window{}, err
	}
	peak := a.RSSBytes
	logStart := logSizes(op)
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		select {
		case <-ctx.Done():
			return Window{}, ctx.Err()
		case <-time.After(min(5*time.Second, time.Until(end))):
		}
		var rss float64
		for _, p := range op.Procs() {
			if ps, err := ReadProcStat(p.PID()); err == nil {
				rss += ps.RSSBytes
			}
		}
		peak = max(peak, rss)
	}
	b, err := h.Snapshot(ctx, op)
	if err != nil {
		return Window{}, err
	}
	if !b.Running {
		return Window{}, fmt.Errorf("%s exited during the window", op.Name())
	}
	m := b.At.Sub(a.At).Minutes()
	throttled := linesSince(op, logStart, throttlingLine)
	return Window{
		Throttled: &throttled,
		Minutes:   m, RSSMiB: max(peak, b.RSSBytes) / (1 << 20), RSSFileMiB: b.RSSFileBytes / (1 << 20), CPUPerMin: (b.CPUSecs - a.CPUSecs) / m,
		OpReqPerMin: (b.OpReqs - a.OpReqs) / m, OpWritesPerMin: (b.OpWrites - a.OpWrites) / m,
		APIReqPerMin: (b.APIReqs - a.APIReqs) / m, APIWritesPerMin: (b.APIWrites - a.APIWrites) / m,
	}, nil
}

// WaitReady waits until objects 0..n-1 of w report the condition Ready True.
func (h *Harness) WaitReady(ctx context.Context, w Workload, n int, timeout time.Duration) error {
	ready := 0
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		ready = 0
		for i := range n {
			so, err := h.Dyn.Resource(soGVR).Namespace(w.NS).Get(ctx, w.Name(i), metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			conds, _, _ := unstructured.NestedSlice(so.Object, "status", "conditions")
			for _, c := range conds {
				if m, _ := c.(map[string]any); m["type"] == "Ready" && m["status"] == "True" {
					ready++
					break
				}
			}
		}
		return ready == n, nil
	})
	if err != nil {
		return fmt.Errorf("%d of %d ScaledObjects %s-* in %s Ready after %s: %w", ready, n, w.Prefix, w.NS, timeout, err)
	}
	return nil
}

// throttlingLine is what client-go logs when a request waited over a second for its rate limiter.
const throttlingLine = "client-side throttling"

// logSizes is how long each of op's logs is now.
func logSizes(op Operator) map[string]int64 {
	sizes := map[string]int64{}
	for _, p := range op.Procs() {
		if fi, err := os.Stat(p.Log); err == nil {
			sizes[p.Log] = fi.Size()
		}
	}
	return sizes
}

// linesSince counts the lines containing s that op's logs gained after the sizes in from.
func linesSince(op Operator, from map[string]int64, s string) int {
	n := 0
	for _, p := range op.Procs() {
		b, err := os.ReadFile(p.Log)
		if err != nil {
			continue
		}
		if off := from[p.Log]; off <= int64(len(b)) {
			b = b[off:]
		}
		for line := range strings.Lines(string(b)) {
			if strings.Contains(line, s) {
				n++
			}
		}
	}
	return n
}
