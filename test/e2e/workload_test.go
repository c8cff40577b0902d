package e2e

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestKubernetesWorkloadFollowsPods: a kubernetes-workload trigger counts the kwok pods of another
// Deployment that match its podSelector; the worker goes 0 -> 1 when the first appears, to N (the
// real HPA, one worker per matching pod) when there are N, and back to 0 when they are gone.
// Pods of the same app with another tier are not counted.
func TestKubernetesWorkloadFollowsPods(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "workload")
	s.apply(t, ns, deployment("worker", 0, nil))
	s.apply(t, ns, labelledDeployment("producer", 0, "app: producer\n        tier: web"))
	s.apply(t, ns, labelledDeployment("producer-batch", 2, "app: producer\n        tier: batch"))
	s.apply(t, ns, `apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
spec:
  scaleTargetRef:
    name: worker
  pollingInterval: 1
  cooldownPeriod: 2
  maxReplicaCount: 4
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        scaleDown:
          stabilizationWindowSeconds: 0
  triggers:
    - type: kubernetes-workload
      metadata:
        podSelector: app=producer, tier notin (batch)
        value: "1"
`)
	s.waitReady(t, ns, "worker", metav1.ConditionTrue)
	s.waitReplicas(t, ns, "producer-batch", 2, 30*time.Second)
	s.holdReplicas(t, ns, "worker", 0, 3*time.Second)

	s.scaleDeployment(t, ns, "producer", 1)
	s.waitReplicas(t, ns, "worker", 1, 30*time.Second)
	s.scaleDeployment(t, ns, "producer", 3)
	s.waitReplicas(t, ns, "worker", 3, 60*time.Second)
	s.scaleDeployment(t, ns, "producer", 0)
	s.waitReplicas(t, ns, "worker", 0, 60*time.Second)
}

// labelledDeployment is a Deployment whose pods carry podLabels (YAML lines indented for the pod
// template's labels).
func labelledDeployment(name string, replicas int, podLabels string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
spec:
  replicas: %[2]d
  selector:
    matchLabels:
      deployment: %[1]s
  template:
    metadata:
      labels:
        deployment: %[1]s
        %[3]s
    spec:
      containers:
        - name: app
          image: example.com/app:1.0
`, name, replicas, podLabels)
}

// requestsDeployment is a Deployment whose one container, app, requests cpu and memory.
func requestsDeployment(name string, replicas int, cpu, memory string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
spec:
  replicas: %[2]d
  selector:
    matchLabels:
      app: %[1]s
  template:
    metadata:
      labels:
        app: %[1]s
    spec:
      containers:
        - name: app
          image: example.com/app:1.0
          resources:
            requests:
              cpu: %[3]s
              memory: %[4]s
`, name, replicas, cpu, memory)
}
