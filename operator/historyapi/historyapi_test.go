package historyapi

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"

	historyv1alpha1 "github.com/kedactl/kedactl/api/history/v1alpha1"
	"github.com/kedactl/kedactl/operator/history"
)

func TestGet(t *testing.T) {
	store := history.New(history.Options{})
	store.Decide(history.ScaledObjectKey(types.NamespacedName{Namespace: "ns", Name: "so"}), historyv1alpha1.Decision{Type: historyv1alpha1.DecisionActivated, Trigger: "queue"})
	store.Decide(history.ScaledJobKey(types.NamespacedName{Namespace: "ns", Name: "sj"}), historyv1alpha1.Decision{Type: historyv1alpha1.DecisionJobsCreated, Jobs: 2})
	inNS := genericapirequest.WithNamespace(context.Background(), "ns")
	for _, tc := range []struct {
		name     string
		ctx      context.Context
		kind     history.Kind
		object   string
		wantKind string
		wantErr  func(error) bool
	}{
		{name: "a ScaledObject's history", ctx: inNS, kind: history.ScaledObject, object: "so", wantKind: "ScaledObjectHistory"},
		{name: "a ScaledJob's history", ctx: inNS, kind: history.ScaledJob, object: "sj", wantKind: "ScaledJobHistory"},
		{name: "the kinds do not mix", ctx: inNS, kind: history.ScaledJob, object: "so", wantErr: apierrors.IsNotFound},
		{name: "another namespace", ctx: genericapirequest.WithNamespace(context.Background(), "other"), kind: history.ScaledObject, object: "so", wantErr: apierrors.IsNotFound},
		{name: "no namespace", ctx: context.Background(), kind: history.ScaledObject, object: "so", wantErr: apierrors.IsBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &storage{store: Local{Store: store}, kind: tc.kind}
			obj, err := s.Get(tc.ctx, tc.object, &metav1.GetOptions{})
			if tc.wantErr != nil {
				if !tc.wantErr(err) {
					t.Fatalf("error = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := obj.GetObjectKind().GroupVersionKind(); got.Kind != tc.wantKind || got.GroupVersion() != historyv1alpha1.GroupVersion {
				t.Errorf("kind = %v, want %s in %s", got, tc.wantKind, historyv1alpha1.GroupVersion)
			}
		})
	}
}

func TestSchemeKnowsTheKinds(t *testing.T) {
	s, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ScaledObjectHistory", "ScaledJobHistory", "GetOptions"} {
		if !s.Recognizes(historyv1alpha1.GroupVersion.WithKind(k)) {
			t.Errorf("the scheme does not know %s", k)
		}
	}
}
