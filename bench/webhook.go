package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	"github.com/kedactl/kedactl/test/cluster"
)

// Fig6Result is figure 6: sequential server-side applies (dry runs) of N ScaledObjects without
// and with the operator's validating webhook in the path.
type Fig6Result struct {
	N                         int
	BaselineSecs, WebhookSecs float64
	// Rejected tells that the webhook refused a second ScaledObject for an already scaled
	// Deployment: proof that it was in the path.
	Rejected bool
	// Profile is the top of a CPU profile of the operator taken while ProfiledApplies more dry-run
	// applies went through its webhook, for operators that serve one: what an admission costs it.
	Profile         []string `json:",omitempty"`
	ProfiledApplies int      `json:",omitempty"`
	// ServerMillis is the mean time the webhook took to answer one of the timed applies, by its
	// own latency histogram (controller-runtime's, in both operators): the rest of what an apply
	// adds is the apiserver calling it.
	ServerMillis float64 `json:",omitempty"`
}

const webhookLabel = "bench.kedactl.dev/webhook"

// dryRunApply is a forced server-side apply that stores nothing.
func dryRunApply() metav1.PatchOptions {
	return metav1.PatchOptions{FieldManager: "bench", Force: ptr.To(true), DryRun: []string{metav1.DryRunAll}}
}

func waitTLS(ctx context.Context, port int) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // only probing that the port serves TLS
		if err != nil {
			return false, nil
		}
		conn.Close()
		return true, nil
	})
}

func webhookApply(ctx context.Context, h *Harness, op Operator, tag string, cfg Config, keep bool) (*Fig6Result, error) {
	port, metricsURL, stop, err := op.StartWebhook(ctx, h)
	if err != nil {
		return nil, err
	}
	defer stop()
	if err := waitTLS(ctx, port); err != nil {
		return nil, fmt.Errorf("webhook on port %d: %w", port, err)
	}
	_, _, caPEM, err := h.Cluster.ServingCert()
	if err != nil {
		return nil, err
	}
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "bench-admission"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:                    "vscaledobject.bench.kedactl.dev",
			AdmissionReviewVersions: []string{"v1"},
			SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
			FailurePolicy:           ptr.To(admissionregistrationv1.Fail),
			TimeoutSeconds:          ptr.To(int32(10)),
			ClientConfig: admissionregistrationv1.WebhookClientConfig{
				URL:      ptr.To(fmt.Sprintf("https://localhost:%d/validate-keda-sh-v1alpha1-scaledobject", port)),
				CABundle: caPEM,
			},
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{webhookLabel: "on"}},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
				Rule: admissionregistrationv1.Rule{APIGroups: []string{"keda.sh"}, APIVersions: []string{"v1alpha1"},
					Resources: []string{"scaledobjects"}, Scope: ptr.To(admissionregistrationv1.NamespacedScope)},
			}},
		}},
	}
	api := h.Kube.AdmissionregistrationV1().ValidatingWebhookConfigurations()
	if _, err := api.Create(ctx, vwc, metav1.CreateOptions{}); err != nil {
		return nil, err
	}
	defer func() { _ = api.Delete(context.Background(), vwc.Name, metav1.DeleteOptions{}) }()
	res := &Fig6Result{N: cfg.Fig6N}
	for i, labelled := range []bool{false, true} {
		ns := fmt.Sprintf("b-%s-w%d", tag, i)
		nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
		if labelled {
			nsObj.Labels = map[string]string{webhookLabel: "on"}
		}
		if _, err := h.Kube.CoreV1().Namespaces().Create(ctx, nsObj, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return nil, err
		}
		defer func() {
			if keep {
				return
			}
			if err := h.DeleteNamespace(ctx, ns); err != nil {
				h.Logf("delete %s: %v", ns, err)
			}
		}()
		w := Workload{NS: ns, Prefix: "w", Polling: cfg.Polling, Key: func(int) string { return tag + "-w" }}
		if err := parallel(ctx, 0, cfg.Fig6N, 16, func(i int) error {
			_, err := h.Kube.AppsV1().Deployments(ns).Create(ctx, w.deployment(i), metav1.CreateOptions{})
			return err
		}); err != nil {
			return nil, err
		}
		// The operator takes over what the previous batch applied for a while after it: wait
		// for that, so that neither batch is timed against the other's reconciles.
		if _, err := settle(ctx, h, op, 5*time.Second, settleMax(cfg.Fig6N)); err != nil {
			return nil, err
		}
		// One apply first, untimed: the first admission pays once for what every later one
		// reuses (the apiserver's connection to the webhook, discovery of the target's kind, the
		// informers an ownership check starts), which is not the cost of an apply.
		if data, err := w.scaledObject(0, h.Src).MarshalJSON(); err != nil {
			return nil, err
		} else if _, err := h.Dyn.Resource(soGVR).Namespace(ns).Patch(ctx, w.Name(0), types.ApplyPatchType, data, dryRunApply()); err != nil {
			return nil, fmt.Errorf("apply %s/%s: %w", ns, w.Name(0), err)
		}
		before := webhookServed(ctx, metricsURL)
		start := time.Now()
		for j := range cfg.Fig6N {
			data, err := w.scaledObject(j, h.Src).MarshalJSON()
			if err != nil {
				return nil, err
			}
			// A dry run goes through admission (the webhooks declare no side effects) but stores
			// nothing, so no operator takes the object over while the next apply is timed: what
			// differs between the batches is the webhook alone.
			if _, err := h.Dyn.Resource(soGVR).Namespace(ns).Patch(ctx, w.Name(j), types.ApplyPatchType, data, dryRunApply()); err != nil {
				return nil, fmt.Errorf("apply %s/%s: %w", ns, w.Name(j), err)
			}
		}
		secs := time.Since(start).Seconds()
		if labelled {
			res.WebhookSecs = secs
			if after := webhookServed(ctx, metricsURL); after.count > before.count {
				res.ServerMillis = 1000 * (after.sum - before.sum) / (after.count - before.count)
			}
			if p, ok := op.(Profiler); ok {
				res.Profile, res.ProfiledApplies = profileApplies(ctx, h, p, ns, w, cfg.Fig6N)
			}
			// Proof that the webhook was in the path: a second ScaledObject for a Deployment a
			// stored one scales is refused (the webhook sees the first once its cache has it).
			first := w.scaledObject(0, h.Src)
			data, _ := first.MarshalJSON()
			if _, err := h.Dyn.Resource(soGVR).Namespace(ns).Patch(ctx, first.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: "bench", Force: ptr.To(true)}); err != nil {
				return nil, fmt.Errorf("apply %s/%s: %w", ns, first.GetName(), err)
			}
			dup := w.scaledObject(0, h.Src)
			dup.SetName("duplicate")
			data, _ = dup.MarshalJSON()
			var refusal error
			_ = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
				_, refusal = h.Dyn.Resource(soGVR).Namespace(ns).Patch(ctx, "duplicate", types.ApplyPatchType, data, dryRunApply())
				return refusal != nil, nil
			})
			res.Rejected = refusal != nil
			if refusal != nil {
				h.Logf("[%s] webhook refused a second ScaledObject for one Deployment: %v", op.Name(), refusal)
			}
		} else {
			res.BaselineSecs = secs
		}
	}
	return res, nil
}

// served is what controller-runtime's webhook latency histogram says of the ScaledObject
// webhook: how many requests it answered and the seconds they took, inside the serving process.
type served struct{ count, sum float64 }

func webhookServed(ctx context.Context, metricsURL string) served {
	samples, err := scrape(ctx, metricsURL)
	if err != nil {
		return served{}
	}
	so := func(l map[string]string) bool { return l["webhook"] == "/validate-keda-sh-v1alpha1-scaledobject" }
	return served{count: SumProm(samples, "controller_runtime_webhook_latency_seconds_count", so), sum: SumProm(samples, "controller_runtime_webhook_latency_seconds_sum", so)}
}

// profileApplies keeps dry-run applying object 0..n-1 of w while the operator's CPU is profiled
// (profileWindow), and returns the profile's top, focused on admission, and how many applies it
// covered.
func profileApplies(ctx context.Context, h *Harness, p Profiler, ns string, w Workload, n int) ([]string, int) {
	profiled := make(chan []string, 1)
	go func() {
		profiled <- pprofTop(ctx, h, p, "webhook", fmt.Sprintf("profile?seconds=%d", int(profileWindow.Seconds())), "-cum", "-focus=webhook|admission")
	}()
	applies := 0
	for {
		select {
		case top := <-profiled:
			return top, applies
		default:
		}
		data, err := w.scaledObject(applies%n, h.Src).MarshalJSON()
		if err != nil {
			return []string{"no profile: " + err.Error()}, applies
		}
		if _, err := h.Dyn.Resource(soGVR).Namespace(ns).Patch(ctx, w.Name(applies%n), types.ApplyPatchType, data, dryRunApply()); err != nil {
			return []string{fmt.Sprintf("no profile: apply %s/%s: %v", ns, w.Name(applies%n), err)}, applies
		}
		applies++
	}
}

// StartWebhook for ours: the webhook runs in the operator process.
func (o *Ours) StartWebhook(context.Context, *Harness) (int, string, func(), error) {
	return o.webhookPort, o.promURL, func() {}, nil
}

// StartWebhook for KEDA: its third binary, cmd/webhooks, with the same certificates.
func (k *KEDA) StartWebhook(ctx context.Context, h *Harness) (int, string, func(), error) {
	ports, err := cluster.FreePorts(3)
	if err != nil {
		return 0, "", nil, err
	}
	dir := filepath.Join(h.Dir, "keda")
	p, err := startProc(dir, "keda-webhooks", filepath.Join(k.toolDir, "webhooks"),
		[]string{"KUBECONFIG=" + h.Cluster.KubeconfigPath(), "WATCH_NAMESPACE=", "POD_NAMESPACE=" + cluster.APIServiceNamespace},
		"--port", strconv.Itoa(ports[0]), "--cert-dir", filepath.Join(dir, "certs"),
		"--metrics-bind-address", "127.0.0.1:"+strconv.Itoa(ports[1]),
		"--health-probe-bind-address", "127.0.0.1:"+strconv.Itoa(ports[2]),
		"--kube-api-qps", k.QPS, "--kube-api-burst", k.Burst, "--zap-log-level", "info")
	if err != nil {
		return 0, "", nil, err
	}
	if err := waitHTTP200(ctx, p, fmt.Sprintf("http://127.0.0.1:%d/readyz", ports[2]), 90*time.Second); err != nil {
		p.Stop()
		return 0, "", nil, err
	}
	return ports[0], fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[1]), p.Stop, nil
}
