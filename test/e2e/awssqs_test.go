package e2e

import (
	"fmt"
	"strings"
	"testing"

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

	s.runScalerJourney(t, scalerJourney{
		namespace: "sqs",
		secret:    "aws-secret",
		auth:      "aws-auth",
		params: []secretParam{
			{"awsAccessKeyID", "AWS_ACCESS_KEY_ID", keyID},
			{"awsSecretAccessKey", "AWS_SECRET_ACCESS_KEY", secret},
			{"awsSessionToken", "AWS_SESSION_TOKEN", token},
		},
		triggerType: "aws-sqs-queue",
		metadata: fmt.Sprintf(`queueURL: %s
			awsRegion: eu-central-1
			awsEndpoint: %s
			queueLength: "5"`, queueURL, sqs.URL),
		metric:       "s0-aws-sqs-orders",
		averageValue: 5,
		set: func(_ *testing.T, n int) {
			if n == 40 {
				// Thirty visible and ten in flight (scaleOnInFlight defaults to true), delayed
				// ones not counted.
				sqs.SetCounts("orders", 30, 10, 100)
				return
			}
			sqs.SetCounts("orders", int64(n), 0, 0)
		},
		// An empty queue: the operator polls it and leaves the workers at 0.
		polls: func() (n int) {
			for _, r := range sqs.Requests() {
				if r.QueueURL == queueURL && r.Status == 200 {
					n++
				}
			}
			return n
		},
		// Three visible messages; 40 / 5 = 8 workers, more than the maximum of 4.
		one: 3, max: 40,
	})

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
