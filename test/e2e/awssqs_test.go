package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/test/cluster"
	sqsserver "github.com/kedactl/kedactl/test/servers/sqs"
)

// TestAWSSQSQueueScalesZeroToMaxToZero: an aws-sqs-queue trigger on the SQS fake (awsEndpoint
// points at it), with the access key, secret key and session token from a Secret through a
// TriggerAuthentication. An empty queue leaves the workers at 0; three visible messages
// activate them (activationQueueLength 0); forty visible and in flight take the real HPA to the
// maximum of 4 (queueLength 5); a drained queue returns them to 0 after the cooldown. Every
// request was signed with the Secret's credentials for awsRegion.
func TestAWSSQSQueueScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	const keyID, secret, token = "AKIDE2ESQS", "e2e/sqs-secret-access-key", "e2e-sqs-session-token"
	sqs := sqsserver.Start(t, sqsserver.Options{Region: "eu-central-1", AccessKeyID: keyID, SecretAccessKey: secret, SessionToken: token})
	queueURL := sqs.CreateQueue("orders")

	ns := s.newNamespace(t, "sqs")
	s.apply(t, ns, deployment("worker", 0, nil))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: aws-secret
stringData:
  AWS_ACCESS_KEY_ID: %q
  AWS_SECRET_ACCESS_KEY: %q
  AWS_SESSION_TOKEN: %q
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: aws-auth
spec:
  secretTargetRef:
    - parameter: awsAccessKeyID
      name: aws-secret
      key: AWS_ACCESS_KEY_ID
    - parameter: awsSecretAccessKey
      name: aws-secret
      key: AWS_SECRET_ACCESS_KEY
    - parameter: awsSessionToken
      name: aws-secret
      key: AWS_SESSION_TOKEN
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
    - type: aws-sqs-queue
      authenticationRef:
        name: aws-auth
      metadata:
        queueURL: %s
        awsRegion: eu-central-1
        awsEndpoint: %s
        queueLength: "5"
`, keyID, secret, token, queueURL, sqs.URL))

	const metric = "s0-aws-sqs-orders"
	so := s.waitReady(t, ns, "worker", metav1.ConditionTrue)
	if got := so.Status.ExternalMetricNames; len(got) != 1 || got[0] != metric {
		t.Fatalf("status.externalMetricNames = %v, want [%s]", got, metric)
	}
	hpa, err := s.hpa(context.Background(), ns, "keda-hpa-worker")
	if err != nil {
		t.Fatalf("HPA keda-hpa-worker: %v", err)
	}
	if len(hpa.Spec.Metrics) != 1 || hpa.Spec.Metrics[0].External == nil || hpa.Spec.Metrics[0].External.Metric.Name != metric ||
		hpa.Spec.Metrics[0].External.Target.Type != autoscalingv2.AverageValueMetricType || hpa.Spec.Metrics[0].External.Target.AverageValue.Value() != 5 {
		t.Fatalf("HPA metrics = %+v, want %s with AverageValue 5", hpa.Spec.Metrics, metric)
	}

	// An empty queue: the operator polls it and leaves the workers at 0.
	eventually(t, 30*time.Second, "three polls of the empty queue", func(context.Context) (bool, string) {
		n := 0
		for _, r := range sqs.Requests() {
			if r.QueueURL == queueURL && r.Status == 200 {
				n++
			}
		}
		return n >= 3, fmt.Sprintf("%d polls", n)
	})
	if got, err := s.replicas(context.Background(), ns, "worker"); err != nil || got != 0 {
		t.Fatalf("an empty queue: %d replicas (%v), want 0", got, err)
	}
	if so, err := s.scaledObject(context.Background(), ns, "worker"); err != nil || so.Status.Conditions.IsTrue(kedav1alpha1.ConditionActive) {
		t.Fatalf("an empty queue: the ScaledObject is active (%v)", err)
	}

	// Three visible messages: 0 -> 1.
	sqs.SetCounts("orders", 3, 0, 0)
	s.waitReplicas(t, ns, "worker", 1, 30*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetActivated, "from 0 to 1")
	if v := s.externalMetric(t, ns, metric, "worker"); v != 3 {
		t.Errorf("external metric %s = %d, want 3", metric, v)
	}

	// Thirty visible and ten in flight (scaleOnInFlight defaults to true), delayed ones not
	// counted: 40 / 5 = 8 workers, more than the maximum of 4.
	sqs.SetCounts("orders", 30, 10, 100)
	s.waitReplicas(t, ns, "worker", 4, 60*time.Second)
	if v := s.externalMetric(t, ns, metric, "worker"); v != 40 {
		t.Errorf("external metric %s = %d, want 40", metric, v)
	}

	// The queue drains: back to 0 after the cooldown.
	sqs.SetCounts("orders", 0, 0, 0)
	s.waitReplicas(t, ns, "worker", 0, 30*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetDeactivated, "from 4 to 0")

	for _, r := range sqs.Requests() {
		if r.Status != 200 || r.AccessKeyID != keyID || r.Region != "eu-central-1" || r.Target != "AmazonSQS.GetQueueAttributes" ||
			strings.Join(r.AttributeNames, ",") != "ApproximateNumberOfMessages,ApproximateNumberOfMessagesNotVisible" {
			t.Fatalf("request %+v", r)
		}
	}
}

// TestAWSSQSQueueScaledJob: a ScaledJob starts one Job per message (queueLength 1) up to
// maxReplicaCount, with the keys from a TriggerAuthentication and the queue URL from the job
// container's env (queueURLFromEnv).
func TestAWSSQSQueueScaledJob(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	const keyID, secret = "AKIDE2ESQSJOB", "e2e-sqs-scaledjob-secret"
	sqs := sqsserver.Start(t, sqsserver.Options{AccessKeyID: keyID, SecretAccessKey: secret})
	queueURL := sqs.CreateQueue("renders")

	ns := s.newNamespace(t, "sqs-sj")
	s.apply(t, ns, fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: aws-secret
stringData:
  id: %q
  key: %q
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: aws-auth
spec:
  secretTargetRef:
    - parameter: awsAccessKeyID
      name: aws-secret
      key: id
    - parameter: awsSecretAccessKey
      name: aws-secret
      key: key
---
apiVersion: keda.sh/v1alpha1
kind: ScaledJob
metadata:
  name: renderers
spec:
  pollingInterval: 1
  maxReplicaCount: 5
  jobTargetRef:
    backoffLimit: 0
    template:
      metadata:
        labels:
          %s: %s
      spec:
        restartPolicy: Never
        containers:
          - name: renderer
            image: busybox
            env:
              - name: QUEUE_URL
                value: %s
  triggers:
    - type: aws-sqs-queue
      authenticationRef:
        name: aws-auth
      metadata:
        queueURLFromEnv: QUEUE_URL
        awsRegion: us-east-1
        awsEndpoint: %s
        queueLength: "1"
`, keyID, secret, cluster.JobOutcomeLabel, cluster.JobOutcomeRun, queueURL, sqs.URL))
	s.waitScaledJob(t, ns, "renderers", "Ready", func(sj *kedav1alpha1.ScaledJob) (bool, string) {
		c := sj.Status.Conditions.Get(kedav1alpha1.ConditionReady)
		return c != nil && c.Status == metav1.ConditionTrue, fmt.Sprintf("%+v", sj.Status)
	})

	sqs.SetCounts("renders", 2, 0, 0)
	s.waitJobs(t, ns, "renderers", "2 Jobs for 2 messages", func(c jobCounts) bool { return c.unfinished == 2 })
	sqs.SetCounts("renders", 12, 0, 0)
	s.waitJobs(t, ns, "renderers", "5 Jobs (maxReplicaCount) for 12 messages", func(c jobCounts) bool { return c.unfinished == 5 })
	for _, r := range sqs.Requests() {
		if r.Status != 200 || r.AccessKeyID != keyID || r.QueueURL != queueURL {
			t.Fatalf("request %+v", r)
		}
	}
}
