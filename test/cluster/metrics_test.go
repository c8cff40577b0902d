package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// podMetricsList is the part of metrics.k8s.io/v1beta1 PodMetricsList the test reads.
type podMetricsList struct {
	Items []struct {
		Metadata   metav1.ObjectMeta `json:"metadata"`
		Containers []struct {
			Name  string              `json:"name"`
			Usage corev1.ResourceList `json:"usage"`
		} `json:"containers"`
	} `json:"items"`
}

// TestMetricsServerServesKwokUsage: with MetricsServer, the real metrics-server scrapes kwok's
// emulated kubelets on loopback and serves, through the aggregator, the usage a pod's annotations
// ask kwok to report.
func TestMetricsServerServesKwokUsage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	c := StartForTest(t, Options{Out: testWriter{t}, MetricsServer: true})
	kube := kubernetes.NewForConfigOrDie(c.RestConfig())
	ctx := t.Context()
	labels := map[string]string{"app": "busy"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "busy", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{UsageCPUAnnotation: "250m", UsageMemoryAnnotation: "100Mi"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.com/app:1"}}},
			},
		},
	}
	if _, err := kube.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	last := "no answer yet"
	err := wait.PollUntilContextTimeout(ctx, time.Second, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		raw, err := kube.Discovery().RESTClient().Get().AbsPath("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods").DoRaw(ctx)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		var list podMetricsList
		if err := json.Unmarshal(raw, &list); err != nil {
			return false, err
		}
		last = string(raw)
		for _, p := range list.Items {
			for _, ctr := range p.Containers {
				cpu, mem := ctr.Usage[corev1.ResourceCPU], ctr.Usage[corev1.ResourceMemory]
				// cpu is a rate over two scrapes of kwok's cumulative counter: allow rounding.
				if ctr.Name == "app" && mem.Cmp(resource.MustParse("100Mi")) == 0 && cpu.MilliValue() >= 240 && cpu.MilliValue() <= 260 {
					return true, nil
				}
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("metrics.k8s.io never served the pod's usage (250m, 100Mi): %v; last: %s", err, last)
	}
	fmt.Fprintln(testWriter{t}, "pod metrics:", last)
}
