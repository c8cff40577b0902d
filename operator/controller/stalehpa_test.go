package controller

import (
	"context"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// TestDeleteStaleHPA: the HPA named by status.hpaName is deleted when the ScaledObject's HPA now
// has another name, only if the ScaledObject still controls it.
func TestDeleteStaleHPA(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := autoscalingv2.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	hpa := func(name string, owner types.UID) *autoscalingv2.HorizontalPodAutoscaler {
		h := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}}
		if owner != "" {
			h.OwnerReferences = []metav1.OwnerReference{{APIVersion: "keda.sh/v1alpha1", Kind: "ScaledObject", Name: "worker", UID: owner, Controller: ptr.To(true)}}
		}
		return h
	}
	for _, tc := range []struct {
		name      string
		statusHPA string
		existing  *autoscalingv2.HorizontalPodAutoscaler
		wantGone  bool
	}{
		{name: "renamed: the previous one goes", statusHPA: "keda-hpa-worker", existing: hpa("keda-hpa-worker", "uid-1"), wantGone: true},
		{name: "same name: kept", statusHPA: "worker-autoscaler", existing: hpa("worker-autoscaler", "uid-1")},
		{name: "previous one controlled by another object: kept", statusHPA: "keda-hpa-worker", existing: hpa("keda-hpa-worker", "uid-2")},
		{name: "previous one without a controller: kept", statusHPA: "keda-hpa-worker", existing: hpa("keda-hpa-worker", "")},
		{name: "previous one already gone", statusHPA: "keda-hpa-worker"},
		{name: "no status yet", existing: hpa("keda-hpa-worker", "uid-1")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := fake.NewClientBuilder().WithScheme(scheme)
			if tc.existing != nil {
				b.WithObjects(tc.existing)
			}
			c := b.Build()
			so := &kedav1alpha1.ScaledObject{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "worker", UID: "uid-1"},
				Status: kedav1alpha1.ScaledObjectStatus{HpaName: tc.statusHPA}}
			r := &ScaledObjectReconciler{Client: c}
			if err := r.deleteStaleHPA(context.Background(), so, "worker-autoscaler"); err != nil {
				t.Fatal(err)
			}
			if tc.existing == nil {
				return
			}
			err := c.Get(context.Background(), client.ObjectKeyFromObject(tc.existing), &autoscalingv2.HorizontalPodAutoscaler{})
			if gone := apierrors.IsNotFound(err); gone != tc.wantGone {
				t.Errorf("HPA %s gone = %v (%v), want %v", tc.existing.Name, gone, err, tc.wantGone)
			}
		})
	}
}
