package scalers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
	sqsserver "github.com/kedactl/kedactl/test/servers/sqs"
)

// TestAWSSQSQueueScalerContract runs the aws-sqs-queue trigger against the SQS fake (SQS's JSON
// protocol, SigV4 verified; see test/servers/sqs for why not goaws): the request names the queue
// URL and only the attributes the trigger counts, signed with the TriggerAuthentication's keys
// and session token for awsRegion; visible, in-flight and delayed messages count as
// scaleOnInFlight and scaleOnDelayed say; activation is above activationQueueLength; triggers
// with the same credentials share one client; and each failure names the queue and the fix
// without showing the secret.
func TestAWSSQSQueueScalerContract(t *testing.T) {
	const secret, token = "wJalrXUtnFEMI/K7MDENG-contract-secret", "session-token-contract"
	srv := sqsserver.Start(t, sqsserver.Options{Region: "eu-west-1", AccessKeyID: "AKIDCONTRACT", SecretAccessKey: secret, SessionToken: token})
	queueURL := srv.CreateQueue("orders")
	pool := scalers.NewClientPool()
	defer pool.Close()
	auth := map[string]string{"awsAccessKeyID": "AKIDCONTRACT", "awsSecretAccessKey": secret, "awsSessionToken": token}
	build := func(auth map[string]string, extra ...string) scalers.Scaler {
		meta := map[string]string{"queueURL": queueURL, "awsRegion": "eu-west-1", "awsEndpoint": srv.URL, "queueLength": "5", "activationQueueLength": "1"}
		for i := 0; i+1 < len(extra); i += 2 {
			meta[extra[i]] = extra[i+1]
		}
		s, err := scalers.New(context.Background(), &scalers.Config{TriggerType: "aws-sqs-queue", TriggerMetadata: meta, AuthParams: auth, Clients: pool, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(context.Background()) })
		return s
	}
	plain := build(auth)
	visibleOnly := build(auth, "scaleOnInFlight", "false")
	withDelayed := build(auth, "scaleOnDelayed", "true")
	if pool.Len() != 1 {
		t.Errorf("three triggers of one identity hold %d clients, want 1", pool.Len())
	}
	if name := plain.GetMetricSpecForScaling(context.Background())[0].External.Metric.Name; name != "s0-aws-sqs-orders" {
		t.Errorf("metric %s, want s0-aws-sqs-orders", name)
	}
	check := func(step string, s scalers.Scaler, want int64, wantActive bool) {
		t.Helper()
		m, active, err := s.GetMetricsAndActivity(context.Background(), "s0-aws-sqs-orders")
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if got := m[0].Value.Value(); got != want || active != wantActive {
			t.Errorf("%s: %d messages (active %v), want %d (active %v)", step, got, active, want, wantActive)
		}
	}

	check("an empty queue", plain, 0, false)
	srv.SetCounts("orders", 1, 0, 0)
	check("one visible, not above activationQueueLength 1", plain, 1, false)
	srv.SetCounts("orders", 4, 3, 2)
	check("four visible, three in flight", plain, 7, true)
	check("four visible, scaleOnInFlight false", visibleOnly, 4, true)
	check("four visible, three in flight, two delayed, scaleOnDelayed", withDelayed, 9, true)

	reqs := srv.Requests()
	last := reqs[len(reqs)-1]
	if last.Target != "AmazonSQS.GetQueueAttributes" || last.QueueURL != queueURL || last.AccessKeyID != "AKIDCONTRACT" || last.Region != "eu-west-1" ||
		strings.Join(last.AttributeNames, ",") != "ApproximateNumberOfMessages,ApproximateNumberOfMessagesNotVisible,ApproximateNumberOfMessagesDelayed" {
		t.Errorf("last request %+v", last)
	}

	fail := func(step string, s scalers.Scaler, want ...string) {
		t.Helper()
		_, _, err := s.GetMetricsAndActivity(context.Background(), "s0-aws-sqs-orders")
		if err == nil {
			t.Fatalf("%s: no error", step)
		}
		t.Logf("%s: %v", step, err)
		for _, w := range append(want, "trigger 0 (aws-sqs-queue)") {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", step, err, w)
			}
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), token) {
			t.Errorf("%s: error %q shows a credential", step, err)
		}
	}
	wrongSecret := map[string]string{"awsAccessKeyID": "AKIDCONTRACT", "awsSecretAccessKey": secret + "x", "awsSessionToken": token}
	fail("a wrong secret", build(wrongSecret), "SignatureDoesNotMatch", "awsSecretAccessKey")
	fail("an unknown key", build(map[string]string{"awsAccessKeyID": "AKIDOTHER", "awsSecretAccessKey": secret}), "InvalidClientTokenId", "awsAccessKeyID")
	if pool.Len() != 3 {
		t.Errorf("three identities hold %d clients, want 3", pool.Len())
	}
	fail("a queue that does not exist", build(auth, "queueURL", srv.QueueURL("missing")), "missing", "does not exist", "queueURL")
	fail("nothing listening", build(auth, "awsEndpoint", "http://127.0.0.1:1"), "awsEndpoint")

	// identityOwner operator signs as the operator (podIdentity aws in KEDA's terms): with no
	// identity to be found, the error says how to give one.
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_PROFILE"} {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	fail("the operator without an AWS identity", build(nil, "identityOwner", "operator"), "no AWS credentials were found for the operator's own identity", "TriggerAuthentication")
}
