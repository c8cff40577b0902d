package controller

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/operator/engine"
)

type ownsNone struct{}

func (ownsNone) Owns(engine.Key) bool { return false }

type recordingRegistry struct{ unregistered []engine.Key }

func (r *recordingRegistry) Register(context.Context, engine.Key, engine.Registration) []engine.TriggerInfo {
	return nil
}

func (r *recordingRegistry) Unregister(_ context.Context, key engine.Key) bool {
	r.unregistered = append(r.unregistered, key)
	return true
}

type recordingActivator struct{ forgotten []types.NamespacedName }

func (a *recordingActivator) Enqueue(types.NamespacedName) {}
func (a *recordingActivator) Report(*kedav1alpha1.ScaledObject) (func(*kedav1alpha1.ScaledObjectStatus), bool) {
	return nil, false
}
func (a *recordingActivator) Forget(key types.NamespacedName) {
	a.forgotten = append(a.forgotten, key)
}

// An object another replica owns is dropped here (its triggers unregistered, its activation
// forgotten) without reading it: no client is set, so a read would fail the test.
func TestReconcileDropsObjectsOwnedElsewhere(t *testing.T) {
	key := types.NamespacedName{Namespace: "ns", Name: "worker"}
	eng, act := &recordingRegistry{}, &recordingActivator{}
	so := &ScaledObjectReconciler{Engine: eng, Activator: act, Sharding: Sharding{Owners: ownsNone{}}}
	if _, err := so.Reconcile(context.Background(), ctrl.Request{NamespacedName: key}); err != nil {
		t.Fatal(err)
	}
	if len(eng.unregistered) != 1 || eng.unregistered[0] != engine.ScaledObjectKey(key) || len(act.forgotten) != 1 {
		t.Errorf("ScaledObject: unregistered %v, forgotten %v; want it dropped", eng.unregistered, act.forgotten)
	}

	eng = &recordingRegistry{}
	sj := &ScaledJobReconciler{Engine: eng, Runner: act, Sharding: Sharding{Owners: ownsNone{}}}
	if _, err := sj.Reconcile(context.Background(), ctrl.Request{NamespacedName: key}); err != nil {
		t.Fatal(err)
	}
	if len(eng.unregistered) != 1 || eng.unregistered[0] != engine.ScaledJobKey(key) {
		t.Errorf("ScaledJob: unregistered %v; want it dropped", eng.unregistered)
	}
}

func TestShardingZeroValueOwnsEverything(t *testing.T) {
	if !(Sharding{}).owns(engine.Key{Kind: engine.KindScaledObject, Namespace: "ns", Name: "so"}) {
		t.Error("without sharding a replica must handle every object")
	}
}
