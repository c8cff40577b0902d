package target

import (
	"context"
	"errors"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	scalefake "k8s.io/client-go/scale/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// countingReader counts the reads that reach the apiserver.
type countingReader struct {
	client.Reader
	gets int
}

func (c *countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	c.gets++
	return c.Reader.Get(ctx, key, obj, opts...)
}

func TestResolveCachedAsksTheAPIServerWhenTheCacheHasNotSeenTheTargetYet(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, meta.RESTScopeNamespace)
	live := &countingReader{Reader: fake.NewClientBuilder().WithScheme(scheme).WithObjects(
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "new"}, Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2)}}).Build()}
	scales := &scalefake.FakeScaleClient{}
	scales.AddReactor("get", "deployments", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "new"}, Spec: autoscalingv1.ScaleSpec{Replicas: 2}}, nil
	})
	so := &kedav1alpha1.ScaledObject{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "so"},
		Spec: kedav1alpha1.ScaledObjectSpec{ScaleTargetRef: &kedav1alpha1.ScaleTarget{Name: "new"}}}
	got, err := ResolveCached(context.Background(), fake.NewClientBuilder().WithScheme(scheme).Build(), live, mapper, scales, so)
	if err != nil {
		t.Fatalf("a target applied with its ScaledObject, not yet in the cache: %v", err)
	}
	if got.Replicas != 2 || live.gets != 1 {
		t.Fatalf("replicas %d after %d live reads, want 2 after 1", got.Replicas, live.gets)
	}
}

func TestResolveCachedReadsNothingLiveUntilThePodTemplateIsWanted(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, meta.RESTScopeNamespace)
	mapper.Add(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "StatefulSet"}, meta.RESTScopeNamespace)
	template := corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Env: []corev1.EnvVar{{Name: "QUEUE", Value: "jobs"}}}}}}
	deployment := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "worker"}, Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](3), Template: template}}
	unset := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "db"}, Spec: appsv1.StatefulSetSpec{Template: template}}
	// The cache holds what replicasOnly keeps; the apiserver the whole object.
	cached := fake.NewClientBuilder().WithScheme(scheme).WithObjects(
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "worker"}, Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](3)}},
		&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "db"}},
	).Build()
	so := func(kind, name string) *kedav1alpha1.ScaledObject {
		return &kedav1alpha1.ScaledObject{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "so"},
			Spec: kedav1alpha1.ScaledObjectSpec{ScaleTargetRef: &kedav1alpha1.ScaleTarget{Kind: kind, Name: name}}}
	}
	for _, c := range []struct {
		name         string
		so           *kedav1alpha1.ScaledObject
		wantReplicas int32
		wantReason   string
	}{
		{"a Deployment", so("", "worker"), 3, ""},
		{"a StatefulSet without replicas: the apiserver's default", so("StatefulSet", "db"), 1, ""},
		{"a missing Deployment", so("Deployment", "gone"), 0, kedav1alpha1.ReasonScaleTargetNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			live := &countingReader{Reader: fake.NewClientBuilder().WithScheme(scheme).WithObjects(deployment.DeepCopy(), unset.DeepCopy()).Build()}
			got, err := ResolveCached(context.Background(), cached, live, mapper, nil, c.so)
			if c.wantReason != "" {
				var te *Error
				if !errors.As(err, &te) || te.Reason != c.wantReason {
					t.Fatalf("err = %v, want a target error %s", err, c.wantReason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Replicas != c.wantReplicas || live.gets != 0 {
				t.Fatalf("replicas %d with %d live reads, want %d with none", got.Replicas, live.gets, c.wantReplicas)
			}
			spec, err := got.PodSpec(context.Background(), "ns")
			if err != nil {
				t.Fatal(err)
			}
			if spec == nil || len(spec.Containers) != 1 || spec.Containers[0].Env[0].Value != "jobs" {
				t.Fatalf("pod template = %+v, want the apiserver's", spec)
			}
			if _, err := got.PodSpec(context.Background(), "ns"); err != nil || live.gets != 1 {
				t.Fatalf("a second PodSpec: err %v, %d live reads in all, want 1", err, live.gets)
			}
		})
	}
}
