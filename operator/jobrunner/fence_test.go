package jobrunner

import (
	"context"
	"errors"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/operator/engine"
)

type fixedState engine.ObjectState

func (f fixedState) State(engine.Key) (engine.ObjectState, bool) { return engine.ObjectState(f), true }

// A replica that may not act on a ScaledJob (another owns it, or its membership is in doubt)
// creates none of its Jobs, and once it may, its loop runs on the sample it skipped.
func TestFencedRunnerCreatesNoJobs(t *testing.T) {
	ctx := context.Background()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := kedav1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	sj := &kedav1alpha1.ScaledJob{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "worker", UID: "u1"},
		Spec: kedav1alpha1.ScaledJobSpec{JobTargetRef: &batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "w", Image: "example.com/w:1"}}}}}}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(sj).WithStatusSubresource(sj).Build()
	sample := polled(3, true)
	sample.Seq = 1
	st := fixedState{Triggers: []engine.TriggerState{{Index: 0, MetricName: "s0-redis-jobs", Target: averageValue(1), Sample: sample}}}
	fence := errors.New("replica b owns it")
	r := New(Options{Client: c, Reader: c, State: st, Recorder: events.NewFakeRecorder(100),
		Fence: func(engine.Key) error { return fence }})
	key := types.NamespacedName{Namespace: "ns", Name: "worker"}
	jobs := func() int {
		var list batchv1.JobList
		if err := c.List(ctx, &list, client.InNamespace("ns")); err != nil {
			t.Fatal(err)
		}
		return len(list.Items)
	}

	if err := r.run(ctx, key); err != nil {
		t.Fatal(err)
	}
	if n := jobs(); n != 0 {
		t.Fatalf("a fenced runner created %d Jobs", n)
	}
	fence = nil
	if err := r.run(ctx, key); err != nil {
		t.Fatal(err)
	}
	if n := jobs(); n != 3 {
		t.Fatalf("once it may act, the runner created %d Jobs for a queue of 3, want 3", n)
	}
}
