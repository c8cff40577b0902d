package scalers

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// podSlice is a PodLister over a fixed list, applying namespace and selector as the API would.
type podSlice struct {
	pods []corev1.Pod
	err  error
	// lastNamespace is the namespace the scaler asked for.
	lastNamespace string
}

func (p *podSlice) ListPods(_ context.Context, namespace string, sel labels.Selector) ([]corev1.Pod, error) {
	p.lastNamespace = namespace
	if p.err != nil {
		return nil, p.err
	}
	var out []corev1.Pod
	for _, pod := range p.pods {
		if pod.Namespace == namespace && sel.Matches(labels.Set(pod.Labels)) {
			out = append(out, pod)
		}
	}
	return out, nil
}

func pod(ns, name, node string, phase corev1.PodPhase, lbls map[string]string) corev1.Pod {
	return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: lbls}, Spec: corev1.PodSpec{NodeName: node}, Status: corev1.PodStatus{Phase: phase}}
}

func TestKubernetesWorkloadScaler(t *testing.T) {
	backend := map[string]string{"app": "backend", "tier": "web"}
	batch := map[string]string{"app": "backend", "tier": "batch"}
	pods := &podSlice{pods: []corev1.Pod{
		pod("ns", "a", "n1", corev1.PodRunning, backend),
		pod("ns", "b", "n1", corev1.PodRunning, backend),
		pod("ns", "c", "n2", corev1.PodPending, backend),
		pod("ns", "d", "", corev1.PodPending, backend), // not scheduled yet
		pod("ns", "e", "n3", corev1.PodSucceeded, backend),
		pod("ns", "f", "n3", corev1.PodFailed, backend),
		pod("ns", "g", "n4", corev1.PodRunning, batch),
		pod("other", "h", "n5", corev1.PodRunning, backend),
		pod("ns", "i", "n5", corev1.PodRunning, map[string]string{"app": "frontend"}),
	}}
	tests := []struct {
		name   string
		meta   map[string]string
		value  int64
		active bool
	}{
		{name: "counts non-terminated matching pods of the namespace", meta: map[string]string{"podSelector": "app=backend", "value": "2"}, value: 5, active: true},
		{name: "set-based selector", meta: map[string]string{"podSelector": "app=backend, tier notin (batch)", "value": "2"}, value: 4, active: true},
		{name: "group by node leaves out unscheduled pods", meta: map[string]string{"podSelector": "app=backend", "value": "1", "groupByNode": "true"}, value: 3, active: true},
		{name: "activation threshold", meta: map[string]string{"podSelector": "app=backend", "value": "1", "activationValue": "5"}, value: 5, active: false},
		{name: "nothing matches", meta: map[string]string{"podSelector": "app=nothing", "value": "0.5"}, value: 0, active: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(context.Background(), &Config{ScalableObjectNamespace: "ns", TriggerIndex: 1, TriggerType: "kubernetes-workload", TriggerMetadata: tt.meta, Pods: pods})
			if err != nil {
				t.Fatal(err)
			}
			specs := s.GetMetricSpecForScaling(context.Background())
			if len(specs) != 1 || specs[0].External.Metric.Name != "s1-workload-ns" {
				t.Fatalf("specs = %+v, want one External metric s1-workload-ns", specs)
			}
			vals, active, err := s.GetMetricsAndActivity(context.Background(), "s1-workload-ns")
			if err != nil {
				t.Fatal(err)
			}
			if vals[0].Value.Value() != tt.value || active != tt.active {
				t.Errorf("value=%d active=%v, want %d %v", vals[0].Value.Value(), active, tt.value, tt.active)
			}
			if pods.lastNamespace != "ns" {
				t.Errorf("listed namespace %q, want only the ScaledObject's", pods.lastNamespace)
			}
		})
	}
}

func TestKubernetesWorkloadTarget(t *testing.T) {
	s, err := New(context.Background(), &Config{ScalableObjectNamespace: "ns", TriggerType: "kubernetes-workload", TriggerMetadata: map[string]string{"podSelector": "app=x", "value": "0.5"}, Pods: &podSlice{}})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.GetMetricSpecForScaling(context.Background())[0].External.Target.AverageValue.String(); got != "500m" {
		t.Errorf("target = %s, want AverageValue 500m", got)
	}
}

func TestKubernetesWorkloadErrors(t *testing.T) {
	tests := []struct {
		name string
		meta map[string]string
		pods PodLister
		want []string
	}{
		{name: "no selector", meta: map[string]string{"value": "1"}, pods: &podSlice{}, want: []string{"metadata.podSelector is required"}},
		{name: "bad selector", meta: map[string]string{"podSelector": "app in (", "value": "1"}, pods: &podSlice{}, want: []string{"metadata.podSelector", "not a label selector", "e.g. app=backend"}},
		{name: "no value", meta: map[string]string{"podSelector": "app=x"}, pods: &podSlice{}, want: []string{"metadata.value is 0", "greater than 0"}},
		{name: "value not a number", meta: map[string]string{"podSelector": "app=x", "value": "two"}, pods: &podSlice{}, want: []string{"metadata.value", "not a valid number"}},
		{name: "negative activation", meta: map[string]string{"podSelector": "app=x", "value": "1", "activationValue": "-1"}, pods: &podSlice{}, want: []string{"metadata.activationValue", "must not be negative"}},
		{name: "groupByNode not a boolean", meta: map[string]string{"podSelector": "app=x", "value": "1", "groupByNode": "yes please"}, pods: &podSlice{}, want: []string{"metadata.groupByNode", "true or false"}},
		{name: "no client", meta: map[string]string{"podSelector": "app=x", "value": "1"}, want: []string{"no Kubernetes client"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(context.Background(), &Config{ScalableObjectNamespace: "ns", TriggerType: "kubernetes-workload", TriggerMetadata: tt.meta, Pods: tt.pods})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range append(tt.want, "trigger 0 (kubernetes-workload") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestKubernetesWorkloadListFails(t *testing.T) {
	s, err := New(context.Background(), &Config{ScalableObjectNamespace: "ns", TriggerType: "kubernetes-workload", Timeout: time.Second,
		TriggerMetadata: map[string]string{"podSelector": "app=x", "value": "1"}, Pods: &podSlice{err: errors.New(`pods is forbidden`)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.GetMetricsAndActivity(context.Background(), "m"); err == nil || !strings.Contains(err.Error(), `failed to list pods "app=x" in namespace ns`) {
		t.Errorf("error = %v, want it to name the selector and namespace", err)
	}
}
