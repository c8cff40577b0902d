package controller

import (
	"context"
	"testing"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	fakescale "k8s.io/client-go/scale/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// TestRestoreRetriesOnConflict: the target's controller writes its status while the ScaledObject is
// finalized, so restoring the original replica count meets a newer version of /scale; it must read
// again and restore, not give up and leave the target at zero.
func TestRestoreRetriesOnConflict(t *testing.T) {
	scales := &fakescale.FakeScaleClient{}
	replicas := int32(0)
	updates := 0
	scales.AddReactor("get", "deployments", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "worker", ResourceVersion: "7"}, Spec: autoscalingv1.ScaleSpec{Replicas: replicas}}, nil
	})
	scales.AddReactor("update", "deployments", func(a clienttesting.Action) (bool, runtime.Object, error) {
		updates++
		if updates == 1 {
			return true, nil, apierrors.NewConflict(schema.GroupResource{Group: "apps", Resource: "deployments"}, "worker", nil)
		}
		sc := a.(clienttesting.UpdateAction).GetObject().(*autoscalingv1.Scale)
		replicas = sc.Spec.Replicas
		return true, sc, nil
	})
	r := &ScaledObjectReconciler{Scales: scales}
	so := &kedav1alpha1.ScaledObject{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "worker"},
		Spec:       kedav1alpha1.ScaledObjectSpec{ScaleTargetRef: &kedav1alpha1.ScaleTarget{Name: "worker"}},
		Status: kedav1alpha1.ScaledObjectStatus{
			OriginalReplicaCount: ptr.To[int32](3),
			ScaleTargetGVKR:      &kedav1alpha1.GroupVersionKindResource{Group: "apps", Version: "v1", Kind: "Deployment", Resource: "deployments"},
		},
	}
	if err := r.restore(context.Background(), so); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if replicas != 3 || updates != 2 {
		t.Errorf("replicas = %d after %d updates, want 3 after a retry", replicas, updates)
	}
}
