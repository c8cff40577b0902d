package status

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

func newClient(t *testing.T, so *kedav1alpha1.ScaledObject, funcs interceptor.Funcs) (client.Client, *int) {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := kedav1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	writes := 0
	inner := funcs.SubResourceUpdate
	funcs.SubResourceUpdate = func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
		writes++
		if inner != nil {
			return inner(ctx, c, sub, obj, opts...)
		}
		return c.SubResource(sub).Update(ctx, obj, opts...)
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(so).WithStatusSubresource(so).WithInterceptorFuncs(funcs).Build()
	return c, &writes
}

func scaledObject() *kedav1alpha1.ScaledObject {
	return &kedav1alpha1.ScaledObject{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "so"},
		Status: kedav1alpha1.ScaledObjectStatus{HpaName: "keda-hpa-so"}}
}

// TestUpdateWritesOnlyAChange: an unchanged status is not written and the caller's object is
// left as it was; a changed one is written once and the caller's object becomes what was written.
func TestUpdateWritesOnlyAChange(t *testing.T) {
	ctx := context.Background()
	c, writes := newClient(t, scaledObject(), interceptor.Funcs{})
	so := &kedav1alpha1.ScaledObject{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "so"}, so); err != nil {
		t.Fatal(err)
	}
	rv := so.ResourceVersion
	if err := Update(ctx, c, c, so, func(s *kedav1alpha1.ScaledObjectStatus) { s.HpaName = "keda-hpa-so" }); err != nil {
		t.Fatal(err)
	}
	if *writes != 0 || so.ResourceVersion != rv {
		t.Fatalf("unchanged status: %d writes, resourceVersion %s -> %s; want none", *writes, rv, so.ResourceVersion)
	}
	if err := Update(ctx, c, c, so, func(s *kedav1alpha1.ScaledObjectStatus) { s.OriginalReplicaCount = new(int32(3)) }); err != nil {
		t.Fatal(err)
	}
	if *writes != 1 || so.Status.OriginalReplicaCount == nil || *so.Status.OriginalReplicaCount != 3 || so.ResourceVersion == rv {
		t.Fatalf("changed status: %d writes, object %+v; want 1 write and the written object", *writes, so.Status)
	}
	stored := &kedav1alpha1.ScaledObject{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "so"}, stored); err != nil {
		t.Fatal(err)
	}
	if stored.Status.OriginalReplicaCount == nil || *stored.Status.OriginalReplicaCount != 3 || stored.Status.HpaName != "keda-hpa-so" {
		t.Fatalf("stored status %+v", stored.Status)
	}
}

// TestUpdateReappliesOnConflict: a write that conflicts is retried on a fresh read with the
// mutation applied again, keeping the other writer's field; the caller's object is not changed
// by the failed attempt.
func TestUpdateReappliesOnConflict(t *testing.T) {
	ctx := context.Background()
	c, writes := newClient(t, scaledObject(), interceptor.Funcs{})
	stale := &kedav1alpha1.ScaledObject{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "so"}, stale); err != nil {
		t.Fatal(err)
	}
	// Another writer changes its own field meanwhile.
	other := stale.DeepCopy()
	other.Status.PausedReplicaCount = new(int32(1))
	if err := c.Status().Update(ctx, other); err != nil {
		t.Fatal(err)
	}
	*writes = 0
	if err := Update(ctx, c, c, stale, func(s *kedav1alpha1.ScaledObjectStatus) { s.OriginalReplicaCount = new(int32(3)) }); err != nil {
		t.Fatal(err)
	}
	if *writes != 2 {
		t.Fatalf("%d writes; want the conflicting one and its retry", *writes)
	}
	if stale.Status.PausedReplicaCount == nil || stale.Status.OriginalReplicaCount == nil {
		t.Fatalf("caller's object %+v: want both writers' fields", stale.Status)
	}
}
