package scaling

import (
	"context"
	"errors"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/internal/modifiers"
	"github.com/kedactl/kedactl/operator/engine"
)

type fixedState struct{ st engine.ObjectState }

func (f fixedState) State(engine.Key) (engine.ObjectState, bool) { return f.st, true }

// reportFixture is a ScaledObject as its reconciler leaves it (Ready, target resolved) with a
// Deployment at replicas and an executor whose engine state holds one trigger.
func reportFixture(t *testing.T, replicas int32, trigger engine.TriggerState) (*Executor, client.Client, types.NamespacedName) {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := kedav1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	key := types.NamespacedName{Namespace: "ns", Name: "worker"}
	so := &kedav1alpha1.ScaledObject{
		ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name, Generation: 1},
		Spec: kedav1alpha1.ScaledObjectSpec{
			ScaleTargetRef: &kedav1alpha1.ScaleTarget{Name: "worker"},
			Triggers:       []kedav1alpha1.ScaleTriggers{{Type: "metrics-api"}},
		},
		Status: kedav1alpha1.ScaledObjectStatus{
			ScaleTargetGVKR: &kedav1alpha1.GroupVersionKindResource{Group: "apps", Version: "v1", Kind: "Deployment", Resource: "deployments"},
			Conditions: kedav1alpha1.Conditions{{Type: kedav1alpha1.ConditionReady, Status: metav1.ConditionTrue,
				Reason: kedav1alpha1.ReasonScaledObjectReady, Message: "ScaledObject is defined correctly and is ready for scaling"}},
		},
	}
	deploy := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: "worker"}, Spec: appsv1.DeploymentSpec{Replicas: ptr.To(replicas)}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(so, deploy).WithStatusSubresource(so).Build()
	x := NewExecutor(ExecutorOptions{
		Client: c, Reader: c, Recorder: events.NewFakeRecorder(10), Formulas: &modifiers.Cache{},
		State: fixedState{engine.ObjectState{Key: engine.ScaledObjectKey(key), Triggers: []engine.TriggerState{trigger}}},
	})
	return x, c, key
}

func polledTrigger(active bool, value int64) engine.TriggerState {
	return engine.TriggerState{Type: "metrics-api", MetricName: "s0-metric-api-value", Sample: engine.Sample{
		Value: *resource.NewQuantity(value, resource.DecimalSI), Active: active, Polled: true, Seq: 1, Time: time.Now(),
	}}
}

func resourceVersion(ctx context.Context, t *testing.T, c client.Client, key types.NamespacedName) string {
	t.Helper()
	so := &kedav1alpha1.ScaledObject{}
	if err := c.Get(ctx, key, so); err != nil {
		t.Fatal(err)
	}
	return so.ResourceVersion
}

// What Report hands the reconciler is what activation would write: once it is in the status,
// the first evaluation has nothing left to write, and a new object's status takes one write.
func TestReportLeavesTheFirstEvaluationNothingToWrite(t *testing.T) {
	tests := []struct {
		name     string
		replicas int32
		trigger  engine.TriggerState
	}{
		{name: "idle at zero", replicas: 0, trigger: polledTrigger(false, 0)},
		{name: "active at one", replicas: 1, trigger: polledTrigger(true, 12)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			for _, withReport := range []bool{false, true} {
				x, c, key := reportFixture(t, tt.replicas, tt.trigger)
				so := &kedav1alpha1.ScaledObject{}
				if err := c.Get(ctx, key, so); err != nil {
					t.Fatal(err)
				}
				if withReport {
					report, ok := x.Report(so)
					if !ok {
						t.Fatal("Report: nothing to write for a polled, answering trigger")
					}
					report(&so.Status)
					if err := c.Status().Update(ctx, so); err != nil {
						t.Fatal(err)
					}
				}
				before := resourceVersion(ctx, t, c, key)
				if err := x.evaluate(ctx, key); err != nil {
					t.Fatal(err)
				}
				wrote := resourceVersion(ctx, t, c, key) != before
				// Without the report the evaluation writes the activity: the check can tell.
				if wrote == withReport {
					t.Errorf("with the report %v: evaluation wrote the status %v", withReport, wrote)
				}
			}
		})
	}
}

// A trigger not yet polled, or failing, is left to the evaluation: its events follow the status
// it changes (KEDAScalerFailed on the first failure, fallback on and off).
func TestReportLeavesFailuresToTheEvaluation(t *testing.T) {
	failing := polledTrigger(false, 0)
	failing.Err, failing.ConsecutiveFailures = errors.New("connection refused"), 1
	tests := []struct {
		name    string
		trigger engine.TriggerState
	}{
		{name: "not polled", trigger: engine.TriggerState{Type: "metrics-api", MetricName: "s0-metric-api-value"}},
		{name: "failing", trigger: failing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, c, key := reportFixture(t, 0, tt.trigger)
			so := &kedav1alpha1.ScaledObject{}
			if err := c.Get(context.Background(), key, so); err != nil {
				t.Fatal(err)
			}
			if _, ok := x.Report(so); ok {
				t.Error("Report offered a status for the reconciler to write")
			}
		})
	}
}
