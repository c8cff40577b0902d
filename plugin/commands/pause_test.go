package commands

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/plugin/kedaclient"
)

// TestPauseResumeScaledJob: `pause sj/NAME` and `resume sj/NAME` patch the ScaledJob, not the
// ScaledObject of the same name, and resume removes only the pause annotations.
func TestPauseResumeScaledJob(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := kedav1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	meta := metav1.ObjectMeta{Namespace: "ns", Name: "worker", Annotations: map[string]string{"team": "queues"}}
	cr := fake.NewClientBuilder().WithScheme(scheme).
		WithObjects(&kedav1alpha1.ScaledJob{ObjectMeta: *meta.DeepCopy()}, &kedav1alpha1.ScaledObject{ObjectMeta: *meta.DeepCopy()}).Build()
	c := &kedaclient.Client{CR: cr}
	ctx := context.Background()
	key := types.NamespacedName{Namespace: "ns", Name: "worker"}
	annotations := func() (sj, so map[string]string) {
		j, o := &kedav1alpha1.ScaledJob{}, &kedav1alpha1.ScaledObject{}
		if err := cr.Get(ctx, key, j); err != nil {
			t.Fatal(err)
		}
		if err := cr.Get(ctx, key, o); err != nil {
			t.Fatal(err)
		}
		return j.Annotations, o.Annotations
	}

	patch, err := PausePatch(true, nil, false, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := SendPatch(ctx, c, KindScaledJob, "ns", "worker", patch, false); err != nil {
		t.Fatal(err)
	}
	sj, so := annotations()
	if sj[kedav1alpha1.AnnotationPaused] != "true" || sj["team"] != "queues" {
		t.Errorf("paused ScaledJob annotations = %v", sj)
	}
	if _, ok := so[kedav1alpha1.AnnotationPaused]; ok {
		t.Errorf("pause sj/worker paused the ScaledObject worker: %v", so)
	}

	if patch, err = PausePatch(false, nil, false, false); err != nil {
		t.Fatal(err)
	}
	if err := SendPatch(ctx, c, KindScaledJob, "ns", "worker", patch, false); err != nil {
		t.Fatal(err)
	}
	if sj, _ = annotations(); len(sj) != 1 || sj["team"] != "queues" {
		t.Errorf("resumed ScaledJob annotations = %v, want only team", sj)
	}
}
