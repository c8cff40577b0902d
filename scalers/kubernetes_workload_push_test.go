package scalers

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

func TestPodChangeMatters(t *testing.T) {
	sel := labels.SelectorFromSet(labels.Set{"app": "backend"})
	running := pod("ns", "a", "n1", corev1.PodRunning, map[string]string{"app": "backend"})
	with := func(p corev1.Pod, change func(*corev1.Pod)) *corev1.Pod {
		p.Labels = map[string]string{"app": p.Labels["app"]}
		change(&p)
		return &p
	}
	same := func(*corev1.Pod) {}
	tests := []struct {
		name     string
		old, new *corev1.Pod
		want     bool
	}{
		{name: "matching pod added", new: &running, want: true},
		{name: "matching pod deleted", old: &running, want: true},
		{name: "other pod added", new: with(running, func(p *corev1.Pod) { p.Labels["app"] = "frontend" }), want: false},
		{name: "pod of another namespace added", new: with(running, func(p *corev1.Pod) { p.Namespace = "other" }), want: false},
		{name: "status update of a counted pod", old: &running, new: with(running, func(p *corev1.Pod) {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		}), want: false},
		{name: "pod succeeded", old: &running, new: with(running, func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }), want: true},
		{name: "pod scheduled", old: with(running, func(p *corev1.Pod) { p.Spec.NodeName = "" }), new: &running, want: true},
		{name: "labels move a pod out", old: &running, new: with(running, func(p *corev1.Pod) { p.Labels["app"] = "frontend" }), want: true},
		{name: "labels move a pod in", old: with(running, func(p *corev1.Pod) { p.Labels["app"] = "frontend" }), new: &running, want: true},
		{name: "unchanged", old: &running, new: with(running, same), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PodChangeMatters(tt.old, tt.new, "ns", sel); got != tt.want {
				t.Errorf("PodChangeMatters = %v, want %v", got, tt.want)
			}
		})
	}
}

// podWatchList is a podSlice that can also watch: it records registrations, fails the first
// failures ones, and lets the test fire the registered callback.
type podWatchList struct {
	podSlice
	mu          sync.Mutex
	failures    int
	calls       int
	namespace   string
	selector    string
	changed     func()
	unregisters int
}

func (p *podWatchList) WatchPods(_ context.Context, namespace string, sel labels.Selector, changed func()) (func(), error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if p.calls <= p.failures {
		return nil, errors.New("no informer yet")
	}
	p.namespace, p.selector, p.changed = namespace, sel.String(), changed
	return func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.unregisters++
		p.changed = nil
	}, nil
}

func (p *podWatchList) fire() bool {
	p.mu.Lock()
	changed := p.changed
	p.mu.Unlock()
	if changed == nil {
		return false
	}
	changed()
	return true
}

func TestKubernetesWorkloadPushes(t *testing.T) {
	meta := map[string]string{"podSelector": "app=backend", "value": "1"}
	cfg := func(pods PodLister) *Config {
		return &Config{TriggerType: "kubernetes-workload", ScalableObjectNamespace: "ns", TriggerMetadata: meta, Timeout: time.Second, Pods: pods}
	}

	t.Run("a lister that cannot watch: Run returns", func(t *testing.T) {
		s, err := newKubernetesWorkloadScaler(context.Background(), cfg(&podSlice{}))
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { s.(PushScaler).Run(context.Background(), func(bool) { t.Error("pushed") }); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Run blocks without a PodWatcher")
		}
	})

	t.Run("a watcher: pushes on changes until ctx ends, after retrying a failure", func(t *testing.T) {
		w := &podWatchList{failures: 1}
		s, err := newKubernetesWorkloadScaler(context.Background(), cfg(w))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		pushed := make(chan struct{}, 1)
		done := make(chan struct{})
		go func() {
			s.(PushScaler).Run(ctx, func(bool) {
				select {
				case pushed <- struct{}{}:
				default:
				}
			})
			close(done)
		}()
		deadline := time.Now().Add(10 * time.Second)
		for !w.fire() {
			if time.Now().After(deadline) {
				t.Fatal("never registered")
			}
			time.Sleep(10 * time.Millisecond)
		}
		<-pushed
		w.mu.Lock()
		if w.namespace != "ns" || w.selector != "app=backend" {
			t.Errorf("watched %q in %q, want app=backend in ns", w.selector, w.namespace)
		}
		w.mu.Unlock()
		cancel()
		<-done
		if w.unregisters != 1 {
			t.Errorf("unregistered %d times, want once", w.unregisters)
		}
	})
}
