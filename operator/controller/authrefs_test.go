package controller

import (
	"context"
	"errors"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

func TestAuthEvent(t *testing.T) {
	ta, cta := kedav1alpha1.KindTriggerAuthentication, kedav1alpha1.KindClusterTriggerAuthentication
	for _, tt := range []struct {
		name              string
		kind              string
		seen              bool
		previous, current int64
		reason, msg       string
	}{
		{"a new TriggerAuthentication", ta, false, 0, 1, "TriggerAuthenticationAdded", "New TriggerAuthentication configured"},
		{"a new ClusterTriggerAuthentication", cta, false, 0, 1, "ClusterTriggerAuthenticationAdded", "New ClusterTriggerAuthentication configured"},
		{"first seen after an edit (a restart)", ta, false, 0, 3, "ClusterTriggerAuthenticationUpdated", "ClusterTriggerAuthentication creds is updated"},
		{"its spec changed", ta, true, 1, 2, "ClusterTriggerAuthenticationUpdated", "ClusterTriggerAuthentication creds is updated"},
		{"a cluster one's spec changed", cta, true, 4, 5, "ClusterTriggerAuthenticationUpdated", "ClusterTriggerAuthentication creds is updated"},
		{"only its users changed", ta, true, 2, 2, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			reason, msg := authEvent(tt.kind, "creds", tt.seen, tt.previous, tt.current)
			if reason != tt.reason || msg != tt.msg {
				t.Errorf("event %q %q, want %q %q (KEDA's words)", reason, msg, tt.reason, tt.msg)
			}
		})
	}
}

type fakeIndexer struct{ b *fake.ClientBuilder }

func (i fakeIndexer) IndexField(_ context.Context, obj client.Object, field string, fn client.IndexerFunc) error {
	i.b.WithIndex(obj, field, fn)
	return nil
}

// TestAuthenticationFinalizer: as KEDA, the operator puts its finalizer on an authentication, and
// when it is deleted records TriggerAuthenticationDeleted (ClusterTriggerAuthenticationDeleted)
// and lets it go.
func TestAuthenticationFinalizer(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := kedav1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	ta := &kedav1alpha1.TriggerAuthentication{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "creds", Generation: 1}}
	cta := &kedav1alpha1.ClusterTriggerAuthentication{ObjectMeta: metav1.ObjectMeta{Name: "shared", Generation: 1}}
	b := fake.NewClientBuilder().WithScheme(scheme).WithObjects(ta, cta).
		WithStatusSubresource(&kedav1alpha1.TriggerAuthentication{}, &kedav1alpha1.ClusterTriggerAuthentication{})
	if err := IndexAuthReferences(context.Background(), fakeIndexer{b}); err != nil {
		t.Fatal(err)
	}
	c := b.Build()
	recorder := events.NewFakeRecorder(10)
	r := &AuthReferenceReconciler{Client: c, Recorder: recorder}
	for _, tt := range []struct {
		obj            client.Object
		added, deleted string
		key            types.NamespacedName
	}{
		{obj: &kedav1alpha1.TriggerAuthentication{}, key: types.NamespacedName{Namespace: "ns", Name: "creds"},
			added: "Normal TriggerAuthenticationAdded", deleted: "Normal TriggerAuthenticationDeleted TriggerAuthentication was deleted"},
		{obj: &kedav1alpha1.ClusterTriggerAuthentication{}, key: types.NamespacedName{Name: "shared"},
			added: "Normal ClusterTriggerAuthenticationAdded", deleted: "Normal ClusterTriggerAuthenticationDeleted ClusterTriggerAuthentication was deleted"},
	} {
		ctx := context.Background()
		if _, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: tt.key}); err != nil {
			t.Fatal(err)
		}
		if err := c.Get(ctx, tt.key, tt.obj); err != nil {
			t.Fatal(err)
		}
		if !controllerutil.ContainsFinalizer(tt.obj, kedav1alpha1.FinalizerName) {
			t.Errorf("%s has finalizers %v, want %s", tt.key, tt.obj.GetFinalizers(), kedav1alpha1.FinalizerName)
		}
		if ev := <-recorder.Events; !strings.HasPrefix(ev, tt.added) {
			t.Errorf("event %q, want %s", ev, tt.added)
		}
		if err := c.Delete(ctx, tt.obj); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: tt.key}); err != nil {
			t.Fatal(err)
		}
		if err := c.Get(ctx, tt.key, tt.obj); !apierrors.IsNotFound(err) {
			t.Errorf("%s still there after its finalization (%v), finalizers %v", tt.key, err, tt.obj.GetFinalizers())
		}
		if ev := <-recorder.Events; ev != tt.deleted {
			t.Errorf("event %q, want %q", ev, tt.deleted)
		}
	}
}

// TestStatusWriteFailureIsAnEvent: a status write the apiserver refuses is recorded as KEDA's
// ScaledObjectUpdateFailed event, with the reason.
func TestStatusWriteFailureIsAnEvent(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := kedav1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	so := &kedav1alpha1.ScaledObject{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "worker"}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(so).WithStatusSubresource(so).
		WithInterceptorFuncs(interceptor.Funcs{SubResourceUpdate: func(context.Context, client.Client, string, client.Object, ...client.SubResourceUpdateOption) error {
			return apierrors.NewForbidden(schema.GroupResource{Group: "keda.sh", Resource: "scaledobjects/status"}, "worker", errors.New("RBAC says no"))
		}}).Build()
	recorder := events.NewFakeRecorder(1)
	r := &ScaledObjectReconciler{Client: c, Reader: c, Recorder: recorder}
	err := r.updateStatus(context.Background(), so, func(s *kedav1alpha1.ScaledObjectStatus) { s.HpaName = "keda-hpa-worker" })
	if err == nil {
		t.Fatal("no error from a refused status write")
	}
	if ev := <-recorder.Events; !strings.HasPrefix(ev, "Warning ScaledObjectUpdateFailed") || !strings.Contains(ev, "RBAC says no") {
		t.Errorf("event %q, want a Warning ScaledObjectUpdateFailed with the reason", ev)
	}
}
