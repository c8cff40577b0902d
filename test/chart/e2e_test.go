package chart

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/kedactl/kedactl/test/cluster"
)

// chartSelector finds every object of the release: TestObjectsCarryChartLabels makes sure that every
// rendered object carries these labels (pods and ReplicaSets inherit them from the pod template).
const chartSelector = "app.kubernetes.io/instance=" + release + ",app.kubernetes.io/part-of=keda"

var chartCRDs = []string{
	"scaledobjects.keda.sh", "scaledjobs.keda.sh", "triggerauthentications.keda.sh", "clustertriggerauthentications.keda.sh",
}

// TestE2EInstallUpgradeUninstall installs the chart with helm on the local cluster, upgrades it with
// changed values and uninstalls it.
//
// The chart's APIService is left out with apiService.create=false: nothing serves the Service in this
// cluster (kwok fakes the operator pod, it does not run the image), so the APIService would stay
// unavailable and break discovery of external.metrics.k8s.io for helm and the controllers while the
// test runs. Its rendering is covered by the golden and TLS tests.
func TestE2EInstallUpgradeUninstall(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the local cluster")
	}
	c := cluster.StartForTest(t, cluster.Options{Out: testWriter{t}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cfg := c.RestConfig()
	cfg.WarningHandler = rest.NoWarnings{} // the leftover scan lists deprecated kinds too
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	disco, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := c.KubeconfigPath()

	// The namespace enforces the restricted Pod Security Standard: a pod that breaks it is refused and
	// the Deployment never becomes Available. --create-namespace below then finds it in place.
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace, Labels: map[string]string{
		"pod-security.kubernetes.io/enforce":         "restricted",
		"pod-security.kubernetes.io/enforce-version": "latest",
	}}}
	if _, err := kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	helm := func(args ...string) string {
		t.Helper()
		out, err := runHelm(t, append(args, "--kubeconfig", kubeconfig)...)
		if err != nil {
			t.Fatalf("%v\n%s", err, rolloutProblems(ctx, kube))
		}
		return out
	}

	// Install.
	notes := helm("install", release, chartDir(), "-n", namespace, "--create-namespace", "--wait", "--timeout", "2m",
		"--set", "apiService.create=false")
	for _, want := range []string{"kubectl -n keda rollout status deployment/keda-operator", "kubectl get apiservice v1beta1.external.metrics.k8s.io", "kubectl keda describe <name>"} {
		if !strings.Contains(notes, want) {
			t.Errorf("the install notes lack %q:\n%s", want, notes)
		}
	}
	installed := manifestObjects(t, helm("get", "manifest", release, "-n", namespace))
	if len(installed) < 10 {
		t.Fatalf("the release has only %d objects", len(installed))
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disco))
	for _, obj := range installed {
		if _, err := getObject(ctx, dyn, mapper, obj); err != nil {
			t.Errorf("%s %s/%s was not created: %v", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
		}
	}
	d := waitAvailable(ctx, t, kube, 1)
	if !slices.Contains(d.Spec.Template.Spec.Containers[0].Args, "--zap-log-level=info") {
		t.Errorf("installed args %v lack --zap-log-level=info", d.Spec.Template.Spec.Containers[0].Args)
	}
	checkCRDs(ctx, t, dyn)

	// Upgrade: two replicas bring a PodDisruptionBudget, the log level changes the pod template.
	helm("upgrade", release, chartDir(), "-n", namespace, "--wait", "--timeout", "2m",
		"--set", "apiService.create=false", "--set", "operator.replicaCount=2", "--set", "logging.operator.level=debug")
	upgraded := manifestObjects(t, helm("get", "manifest", release, "-n", namespace))
	d = waitAvailable(ctx, t, kube, 2)
	if args := d.Spec.Template.Spec.Containers[0].Args; !slices.Contains(args, "--zap-log-level=debug") {
		t.Errorf("upgraded args %v lack --zap-log-level=debug", args)
	}
	if _, err := kube.PolicyV1().PodDisruptionBudgets(namespace).Get(ctx, "keda-operator", metav1.GetOptions{}); err != nil {
		t.Errorf("the upgrade did not create the PodDisruptionBudget: %v", err)
	}
	if rev := strings.TrimSpace(helm("history", release, "-n", namespace, "--max", "1", "-o", "json")); !strings.Contains(rev, `"revision":2`) || !strings.Contains(rev, `"status":"deployed"`) {
		t.Errorf("helm history after the upgrade: %s", rev)
	}

	// The leftover scan must see the release while it is installed, pods included.
	present := strings.Join(leftovers(ctx, t, disco, dyn, mapper, upgraded), "\n")
	for _, want := range []string{"deployments keda/keda-operator", "pods keda/keda-operator-", "clusterroles /keda-operator", "rolebindings kube-system/keda-operator-auth-reader", "helm release Secret"} {
		if !strings.Contains(present, want) {
			t.Errorf("the leftover scan misses %q while the release is installed; it found:\n%s", want, present)
		}
	}

	// Uninstall: nothing of the release may stay but the CRDs (helm never deletes those).
	helm("uninstall", release, "-n", namespace, "--wait", "--timeout", "2m")
	var left []string
	err = wait.PollUntilContextTimeout(ctx, time.Second, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		left = leftovers(ctx, t, disco, dyn, mapper, append(installed, upgraded...))
		return len(left) == 0, nil
	})
	if err != nil {
		t.Fatalf("after helm uninstall these objects remain:\n  %s", strings.Join(left, "\n  "))
	}
	checkCRDs(ctx, t, dyn)
}

// rolloutProblems tells why the operator's pods are missing, e.g. a pod the namespace's Pod Security
// admission refused.
func rolloutProblems(ctx context.Context, kube kubernetes.Interface) string {
	var b strings.Builder
	rss, err := kube.AppsV1().ReplicaSets(namespace).List(ctx, metav1.ListOptions{LabelSelector: chartSelector})
	if err != nil {
		return "listing ReplicaSets: " + err.Error()
	}
	for _, rs := range rss.Items {
		fmt.Fprintf(&b, "ReplicaSet %s: %d/%d ready\n", rs.Name, rs.Status.ReadyReplicas, rs.Status.Replicas)
		for _, c := range rs.Status.Conditions {
			fmt.Fprintf(&b, "  %s=%s %s: %s\n", c.Type, c.Status, c.Reason, c.Message)
		}
	}
	return b.String()
}

func manifestObjects(t *testing.T, manifest string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := decodeObjects(manifest)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func getObject(ctx context.Context, dyn dynamic.Interface, mapper meta.RESTMapper, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	gvk := obj.GroupVersionKind()
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, err
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ns := obj.GetNamespace()
		if ns == "" {
			ns = namespace
		}
		return dyn.Resource(m.Resource).Namespace(ns).Get(ctx, obj.GetName(), metav1.GetOptions{})
	}
	return dyn.Resource(m.Resource).Get(ctx, obj.GetName(), metav1.GetOptions{})
}

// waitAvailable waits until the operator's Deployment has rolled out replicas available pods of its
// latest template.
func waitAvailable(ctx context.Context, t *testing.T, kube kubernetes.Interface, replicas int32) *appsv1.Deployment {
	t.Helper()
	var d *appsv1.Deployment
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		var err error
		if d, err = kube.AppsV1().Deployments(namespace).Get(ctx, "keda-operator", metav1.GetOptions{}); err != nil {
			return false, nil
		}
		available := false
		for _, c := range d.Status.Conditions {
			if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue {
				available = true
			}
		}
		s := d.Status
		return available && s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == replicas &&
			s.AvailableReplicas == replicas && s.Replicas == replicas, nil
	})
	if err != nil {
		t.Fatalf("Deployment keda-operator did not become Available with %d replicas: %v\nstatus: %+v", replicas, err, d.Status)
	}
	return d
}

func checkCRDs(ctx context.Context, t *testing.T, dyn dynamic.Interface) {
	t.Helper()
	crds := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	for _, name := range chartCRDs {
		if _, err := crds.Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Errorf("CRD %s: %v", name, err)
		}
	}
}

// leftovers lists every object that carries the release's labels, in any namespace and of any listable
// kind, every object of the rendered manifests that still exists, and the release's helm Secrets.
func leftovers(ctx context.Context, t *testing.T, disco discovery.DiscoveryInterface, dyn dynamic.Interface, mapper meta.RESTMapper, rendered []*unstructured.Unstructured) []string {
	var out []string
	lists, err := disco.ServerPreferredResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return []string{"discovery failed: " + err.Error()}
	}
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range list.APIResources {
			if strings.Contains(r.Name, "/") || !slices.Contains(r.Verbs, "list") {
				continue
			}
			gvr := gv.WithResource(r.Name)
			items, err := dyn.Resource(gvr).List(ctx, metav1.ListOptions{LabelSelector: chartSelector})
			if err != nil {
				if !apierrors.IsNotFound(err) && !apierrors.IsMethodNotSupported(err) {
					t.Logf("listing %s: %v", gvr, err)
				}
				continue
			}
			for _, item := range items.Items {
				out = append(out, fmt.Sprintf("%s %s/%s", gvr.Resource, item.GetNamespace(), item.GetName()))
			}
		}
	}
	for _, obj := range rendered {
		if _, err := getObject(ctx, dyn, mapper, obj); err == nil {
			out = append(out, fmt.Sprintf("%s %s/%s (from the manifest)", obj.GetKind(), obj.GetNamespace(), obj.GetName()))
		}
	}
	secrets := dyn.Resource(corev1.SchemeGroupVersion.WithResource("secrets")).Namespace(namespace)
	if items, err := secrets.List(ctx, metav1.ListOptions{LabelSelector: "owner=helm,name=" + release}); err == nil {
		for _, item := range items.Items {
			out = append(out, "helm release Secret "+item.GetName())
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
