package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	azuriteserver "github.com/kedactl/kedactl/test/servers/azurite"
)

// azureStorageObjects is a Secret holding srv's connection string, a TriggerAuthentication
// passing it as the connection parameter, and a ScaledObject for the worker Deployment with one
// trigger of typ (its metadata given as YAML lines).
func azureStorageObjects(srv *azuriteserver.Server, typ, metadata string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: storage-secret
stringData:
  connection: %q
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: storage-auth
spec:
  secretTargetRef:
    - parameter: connection
      name: storage-secret
      key: connection
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
spec:
  scaleTargetRef:
    name: worker
  pollingInterval: 1
  cooldownPeriod: 5
  maxReplicaCount: 4
  triggers:
    - type: %s
      authenticationRef:
        name: storage-auth
      metadata:
%s`, srv.ConnectionString(), typ, metadata)
}

// checkAzureHPA checks the ScaledObject's metric name and the HPA's AverageValue target.
func (s *suite) checkAzureHPA(t *testing.T, ns, metric string, target int64) {
	t.Helper()
	so := s.waitReady(t, ns, "worker", metav1.ConditionTrue)
	if got := so.Status.ExternalMetricNames; len(got) != 1 || got[0] != metric {
		t.Fatalf("status.externalMetricNames = %v, want [%s]", got, metric)
	}
	hpa, err := s.hpa(context.Background(), ns, "keda-hpa-worker")
	if err != nil {
		t.Fatalf("HPA keda-hpa-worker: %v", err)
	}
	if len(hpa.Spec.Metrics) != 1 || hpa.Spec.Metrics[0].External == nil || hpa.Spec.Metrics[0].External.Metric.Name != metric ||
		hpa.Spec.Metrics[0].External.Target.Type != autoscalingv2.AverageValueMetricType || hpa.Spec.Metrics[0].External.Target.AverageValue.Value() != target {
		t.Fatalf("HPA metrics = %+v, want %s with AverageValue %d", hpa.Spec.Metrics, metric, target)
	}
}

// TestAzureQueueScalesZeroToMaxToZero: an azure-queue trigger on Azurite, the account's
// connection string from a Secret through a TriggerAuthentication. An empty queue leaves the
// workers at 0; one message activates them; thirty (some being processed, invisible, which the
// default strategy counts) take the real HPA to the maximum of 4; once the queue is empty the
// workers go back to 0 after the cooldown. The account key appears in no log, event or status.
func TestAzureQueueScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	srv := azuriteserver.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := srv.CreateQueue(ctx, "orders"); err != nil {
		t.Fatal(err)
	}

	ns := s.newNamespace(t, "azure-queue")
	s.apply(t, ns, deployment("worker", 0, nil))
	s.apply(t, ns, azureStorageObjects(srv, "azure-queue", `        queueName: orders
        queueLength: "5"
`))
	const metric = "s0-azure-queue-orders"
	s.checkAzureHPA(t, ns, metric, 5)

	s.holdReplicas(t, ns, "worker", 0, 3*time.Second)
	if so, err := s.scaledObject(ctx, ns, "worker"); err != nil || so.Status.Conditions.IsTrue(kedav1alpha1.ConditionActive) {
		t.Fatalf("an empty queue: the ScaledObject is active (%v)", err)
	}

	// One message: 0 -> 1.
	if err := srv.PutMessages(ctx, "orders", 1); err != nil {
		t.Fatal(err)
	}
	s.waitReplicas(t, ns, "worker", 1, 30*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetActivated, "from 0 to 1")

	// Thirty messages, ten of them taken by workers (invisible, still in the queue): 30 / 5 = 6
	// workers, more than the maximum of 4.
	if err := srv.PutMessages(ctx, "orders", 29); err != nil {
		t.Fatal(err)
	}
	if err := srv.Hide(ctx, "orders", 10, time.Hour); err != nil {
		t.Fatal(err)
	}
	s.waitReplicas(t, ns, "worker", 4, 60*time.Second)
	if v := s.externalMetric(t, ns, metric, "worker"); v != 30 {
		t.Errorf("external metric %s = %d, want 30", metric, v)
	}

	// Every message done: back to 0 after the cooldown.
	if err := srv.ClearMessages(ctx, "orders"); err != nil {
		t.Fatal(err)
	}
	s.waitReplicas(t, ns, "worker", 0, 30*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetDeactivated, "from 4 to 0")
	s.checkNoLeak(t, ns, []string{"worker"}, map[string]string{"account key": srv.Key, "connection string": srv.ConnectionString()})
}

// TestAzureBlobScalesZeroToMaxToZero: an azure-blob trigger on Azurite, the account's connection
// string from a Secret through a TriggerAuthentication, counting the blobs directly under
// incoming/. Blobs elsewhere, and in sub-directories, never count; one blob activates the
// workers; twenty take the real HPA to the maximum of 4; once they are processed (deleted) the
// workers go back to 0 after the cooldown.
func TestAzureBlobScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	srv := azuriteserver.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := srv.CreateContainer(ctx, "uploads"); err != nil {
		t.Fatal(err)
	}
	if err := srv.PutBlobs(ctx, "uploads", "done/a.csv", "incoming/archive/b.csv"); err != nil {
		t.Fatal(err)
	}

	ns := s.newNamespace(t, "azure-blob")
	s.apply(t, ns, deployment("worker", 0, nil))
	s.apply(t, ns, azureStorageObjects(srv, "azure-blob", `        blobContainerName: uploads
        blobPrefix: incoming
        blobCount: "5"
`))
	const metric = "s0-azure-blob-uploads"
	s.checkAzureHPA(t, ns, metric, 5)

	s.holdReplicas(t, ns, "worker", 0, 3*time.Second)
	if so, err := s.scaledObject(ctx, ns, "worker"); err != nil || so.Status.Conditions.IsTrue(kedav1alpha1.ConditionActive) {
		t.Fatalf("no blob directly under incoming/: the ScaledObject is active (%v)", err)
	}

	if err := srv.PutBlobs(ctx, "uploads", "incoming/0.csv"); err != nil {
		t.Fatal(err)
	}
	s.waitReplicas(t, ns, "worker", 1, 30*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetActivated, "from 0 to 1")

	names := make([]string, 29)
	for i := range names {
		names[i] = fmt.Sprintf("incoming/%d.csv", i+1)
	}
	if err := srv.PutBlobs(ctx, "uploads", names...); err != nil {
		t.Fatal(err)
	}
	s.waitReplicas(t, ns, "worker", 4, 60*time.Second)
	if v := s.externalMetric(t, ns, metric, "worker"); v != 30 {
		t.Errorf("external metric %s = %d, want 30", metric, v)
	}

	if err := srv.DeleteBlobs(ctx, "uploads", append(names, "incoming/0.csv")...); err != nil {
		t.Fatal(err)
	}
	s.waitReplicas(t, ns, "worker", 0, 30*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetDeactivated, "from 4 to 0")
	s.checkNoLeak(t, ns, []string{"worker"}, map[string]string{"account key": srv.Key, "connection string": srv.ConnectionString()})
}
