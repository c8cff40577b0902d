package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// workerCRD is a custom resource with a /scale subresource, as operators of queue workers define
// them; its status.selector is what the HPA counts pods with.
const workerCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: queueworkers.e2e.kedactl.dev
spec:
  group: e2e.kedactl.dev
  scope: Namespaced
  names:
    plural: queueworkers
    singular: queueworker
    kind: QueueWorker
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
      subresources:
        status: {}
        scale:
          specReplicasPath: .spec.replicas
          statusReplicasPath: .status.replicas
          labelSelectorPath: .status.selector
`

// TestSubresourceScale is KEDA's subresource_scale: the operator activates and deactivates any kind
// with a /scale subresource, not only Deployments, and the HPA scales it in between. KEDA's
// scenario scales an Argo Rollout; here a custom resource of a CRD of the test's own (Argo
// Rollouts is not installed on the local cluster) and a StatefulSet go 0 -> 1 -> 3 -> 0 on a Redis
// list. KEDA's replicaset_scale is TestReplicasetScale.
func TestSubresourceScale(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	gvk := schema.GroupVersionKind{Group: "e2e.kedactl.dev", Version: "v1", Kind: "QueueWorker"}
	for _, c := range []struct {
		kind, apiVersion, object string
		replicas                 func(ctx context.Context, ns string) (int64, error)
	}{
		{kind: "StatefulSet", apiVersion: "apps/v1", object: `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: worker
spec:
  replicas: 0
  serviceName: worker
  selector:
    matchLabels:
      app: worker
  template:
    metadata:
      labels:
        app: worker
    spec:
      containers:
        - name: worker
          image: example.com/worker:1.0
`, replicas: func(ctx context.Context, ns string) (int64, error) {
			sc, err := s.env.Kube.AppsV1().StatefulSets(ns).GetScale(ctx, "worker", metav1.GetOptions{})
			if err != nil {
				return 0, err
			}
			return int64(sc.Spec.Replicas), nil
		}},
		{kind: "QueueWorker", apiVersion: "e2e.kedactl.dev/v1", object: `apiVersion: e2e.kedactl.dev/v1
kind: QueueWorker
metadata:
  name: worker
spec:
  replicas: 0
`, replicas: func(ctx context.Context, ns string) (int64, error) {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(gvk)
			if err := s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "worker"}, u); err != nil {
				return 0, err
			}
			n, _, err := unstructured.NestedInt64(u.Object, "spec", "replicas")
			return n, err
		}},
	} {
		// In order: the StatefulSet's activation fills the operator's discovery cache before the
		// CRD exists, so the custom resource proves that a kind installed later is scalable too.
		t.Run(c.kind, func(t *testing.T) {
			if c.kind == "QueueWorker" {
				s.apply(t, "", workerCRD)
			}
			ns := s.newNamespace(t, "scaletarget")
			list := "scaletarget-" + ns
			// A QueueWorker has no containers to read a password from: it comes from a Secret.
			s.redisAuthentications(t, ns, "scaletarget-"+ns)
			s.apply(t, ns, c.object)
			if c.kind == "QueueWorker" {
				// No controller runs QueueWorkers: set the status the HPA reads by hand.
				eventually(t, 30*time.Second, "QueueWorker status", func(ctx context.Context) (bool, string) {
					u := &unstructured.Unstructured{}
					u.SetGroupVersionKind(gvk)
					if err := s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "worker"}, u); err != nil {
						return false, err.Error()
					}
					_ = unstructured.SetNestedField(u.Object, "app=worker", "status", "selector")
					_ = unstructured.SetNestedField(u.Object, int64(0), "status", "replicas")
					err := s.env.Client.Status().Update(ctx, u)
					return err == nil, fmt.Sprint(err)
				})
			}
			s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
spec:
  scaleTargetRef:
    apiVersion: %s
    kind: %s
    name: worker
  pollingInterval: 1
  cooldownPeriod: 3
  maxReplicaCount: 3
  triggers:
    - type: redis
      authenticationRef:
        name: redis-auth
      metadata:
        address: %s
        listName: %s
        listLength: "2"
`, c.apiVersion, c.kind, s.redis.Addr, list))
			waitFor := func(want int64) {
				t.Helper()
				eventually(t, 60*time.Second, fmt.Sprintf("%s at %d replicas", c.kind, want), func(ctx context.Context) (bool, string) {
					got, err := c.replicas(ctx, ns)
					if err != nil {
						return false, err.Error()
					}
					return got == want, fmt.Sprintf("%d replicas; %s", got, s.describeHPAs(ctx, ns))
				})
			}
			rc := s.redis.Client()
			defer rc.Close()
			ctx := context.Background()
			if err := rc.RPush(ctx, list, "1").Err(); err != nil {
				t.Fatal(err)
			}
			waitFor(1)
			if err := rc.RPush(ctx, list, "2", "3", "4", "5", "6").Err(); err != nil {
				t.Fatal(err)
			}
			waitFor(3)
			if err := rc.Del(ctx, list).Err(); err != nil {
				t.Fatal(err)
			}
			waitFor(0)
		})
	}
}

// TestReplicasetScale is KEDA's replicaset_scale: a ReplicaSet as the scale target follows the pods
// of a monitored Deployment (kubernetes-workload, value 1) from 0 to 5 and 10, then down to 5 and 0.
func TestReplicasetScale(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "replicaset")
	s.apply(t, ns, deployment("monitored", 0, nil))
	s.apply(t, ns, `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: worker
spec:
  replicas: 0
  selector:
    matchLabels:
      app: worker
  template:
    metadata:
      labels:
        app: worker
    spec:
      containers:
        - name: worker
          image: example.com/worker:1.0
`)
	s.apply(t, ns, `apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: ReplicaSet
    name: worker
  pollingInterval: 1
  cooldownPeriod: 5
  minReplicaCount: 0
  maxReplicaCount: 10
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        scaleDown:
          stabilizationWindowSeconds: 5
  triggers:
    - type: kubernetes-workload
      metadata:
        podSelector: app=monitored
        value: "1"
`)
	waitFor := func(want int32) {
		t.Helper()
		eventually(t, 90*time.Second, fmt.Sprintf("ReplicaSet at %d replicas", want), func(ctx context.Context) (bool, string) {
			sc, err := s.env.Kube.AppsV1().ReplicaSets(ns).GetScale(ctx, "worker", metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			return sc.Spec.Replicas == want, fmt.Sprintf("%d replicas; %s", sc.Spec.Replicas, s.describeHPAs(ctx, ns))
		})
	}
	s.waitReady(t, ns, "worker", metav1.ConditionTrue)
	waitFor(0)
	for _, n := range []int32{5, 10, 5, 0} {
		s.scaleDeployment(t, ns, "monitored", n)
		waitFor(n)
	}
}
