package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/test/cluster"
)

// TestEvents is KEDA's events scenario: the events KEDA records, with its reasons, for a
// ScaledObject that starts scaling (KEDAScalersStarted, ScaledObjectReady), one whose target does
// not exist and one whose target has no /scale subresource (ScaledObjectCheckFailed), a ScaledJob
// that starts (KEDAScalersStarted, ScaledJobReady) and one that cannot run (ScaledJobCheckFailed),
// and TriggerAuthentications and ClusterTriggerAuthentications added and updated (the cluster
// kind's events in namespace default, as Kubernetes records events of cluster objects).
//
// KEDA's messages are not all ours: see KEDA_SCENARIOS.md for the differences.
func TestEvents(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "events")

	t.Run("ScaledObject starts", func(t *testing.T) {
		s.apply(t, ns, deployment("monitored", 0, nil))
		s.apply(t, ns, deployment("worker", 0, nil))
		s.apply(t, ns, workloadScaledObject("worker", "monitored", "", ""))
		s.scaleDeployment(t, ns, "monitored", 2)
		s.waitReplicas(t, ns, "worker", 2, 60*time.Second)
		s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScalersStarted, "Scaler kubernetes-workload is built")
		s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScalersStarted, "Started scalers watch")
		s.waitEvent(t, ns, "worker", kedav1alpha1.EventScaledObjectReady, "ScaledObject is ready for scaling")
	})

	t.Run("target not found", func(t *testing.T) {
		s.apply(t, ns, workloadScaledObject("no-exist", "monitored", "", ""))
		// KEDA's two messages, in one event here.
		s.waitEvent(t, ns, "no-exist", kedav1alpha1.EventScaledObjectCheckFailed, "Target resource doesn't exist", "ScaledObject doesn't have correct scaleTargetRef specification")
	})

	t.Run("target without /scale", func(t *testing.T) {
		s.apply(t, ns, `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels:
      app: agent
  template:
    metadata:
      labels:
        app: agent
    spec:
      containers:
        - name: agent
          image: example.com/agent:1.0
`)
		s.apply(t, ns, `apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: agent
spec:
  scaleTargetRef:
    kind: DaemonSet
    name: agent
  triggers:
    - type: kubernetes-workload
      metadata:
        podSelector: app=monitored
        value: "1"
`)
		s.waitEvent(t, ns, "agent", kedav1alpha1.EventScaledObjectCheckFailed, "Target resource doesn't expose /scale subresource", "ScaledObject doesn't have correct scaleTargetRef specification")
	})

	t.Run("ScaledJob starts", func(t *testing.T) {
		s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledJob
metadata:
  name: importer
spec:
  pollingInterval: 1
  maxReplicaCount: 8
  successfulJobsHistoryLimit: 0
  failedJobsHistoryLimit: 0
  jobTargetRef:
    backoffLimit: 1
    template:
      metadata:
        labels:
          %s: %s
      spec:
        restartPolicy: Never
        containers:
          - name: importer
            image: example.com/importer:1.0
  triggers:
    - type: kubernetes-workload
      metadata:
        podSelector: app=monitored
        value: "1"
`, cluster.JobOutcomeLabel, cluster.JobOutcomeRun))
		s.waitJobs(t, ns, "importer", "2 running", func(c jobCounts) bool { return c.unfinished == 2 })
		s.waitEvent(t, ns, "importer", kedav1alpha1.EventKEDAScalersStarted, "Scaler kubernetes-workload is built")
		s.waitEvent(t, ns, "importer", kedav1alpha1.EventKEDAScalersStarted, "Started scalers watch")
		s.waitEvent(t, ns, "importer", kedav1alpha1.EventScaledJobReady, "ScaledJob is ready for scaling")
	})

	t.Run("ScaledJob that cannot run", func(t *testing.T) {
		// KEDA admits a ScaledJob with a cpu trigger and reports it; our webhook refuses it
		// (KEDA_SCENARIOS.md), so the object goes where the webhook does not look.
		unadmitted := s.newUnadmittedNamespace(t, "events")
		s.apply(t, unadmitted, `apiVersion: keda.sh/v1alpha1
kind: ScaledJob
metadata:
  name: cpu-job
spec:
  jobTargetRef:
    template:
      spec:
        restartPolicy: Never
        containers:
          - name: job
            image: example.com/job:1.0
  triggers:
    - type: cpu
      name: x
      metadata:
        typex: Utilization
        value: "50"
`)
		s.waitEvent(t, unadmitted, "cpu-job", kedav1alpha1.EventScaledJobCheckFailed, "cpu")
	})

	t.Run("authentications added and updated", func(t *testing.T) {
		secret := func(name string) string {
			return fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\nstringData:\n  AUTH_USERNAME: user\n  AUTH_PASSWORD: secret\n", name)
		}
		auth := func(kind, name, secretName string) string {
			return fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: %s
metadata:
  name: %s
spec:
  secretTargetRef:
    - parameter: username
      name: %s
      key: AUTH_USERNAME
    - parameter: password
      name: %s
      key: AUTH_PASSWORD
`, kind, name, secretName, secretName)
		}
		s.apply(t, ns, secret("creds"))
		s.apply(t, ns, secret("creds-2"))
		ctaName := "events-" + ns
		t.Cleanup(func() {
			_ = s.env.Client.Delete(context.Background(), &kedav1alpha1.ClusterTriggerAuthentication{ObjectMeta: metav1.ObjectMeta{Name: ctaName}})
		})

		s.apply(t, ns, auth("TriggerAuthentication", "ta", "creds"))
		s.waitEvent(t, ns, "ta", kedav1alpha1.EventTriggerAuthenticationAdded)
		s.apply(t, "", auth("ClusterTriggerAuthentication", ctaName, "creds"))
		s.waitEvent(t, "default", ctaName, kedav1alpha1.EventClusterTriggerAuthenticationAdded)

		s.apply(t, ns, auth("TriggerAuthentication", "ta", "creds-2"))
		// KEDA records a TriggerAuthentication's update under the cluster kind's reason.
		s.waitEvent(t, ns, "ta", kedav1alpha1.EventClusterTriggerAuthenticationUpdated)
		s.apply(t, "", auth("ClusterTriggerAuthentication", ctaName, "creds-2"))
		s.waitEvent(t, "default", ctaName, kedav1alpha1.EventClusterTriggerAuthenticationUpdated)
	})
}
