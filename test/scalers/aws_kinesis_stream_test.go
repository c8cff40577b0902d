package scalers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
	"github.com/kedactl/kedactl/test/servers/kinesalite"
)

// TestAWSKinesisStreamScalerKinesalite runs the aws-kinesis-stream trigger against kinesalite
// (behind the front that verifies SigV4): the value is the stream's open shard count as splits
// and merges change it, active above activationShardCount, with KEDA's metric name; triggers of
// one identity share a client; refused credentials, an unknown stream and an endpoint with
// nothing listening each name the stream and what to check, without the secret.
func TestAWSKinesisStreamScalerKinesalite(t *testing.T) {
	ctx := context.Background()
	const secret, token = "kinesis/contract-secret", "kinesis-session-token"
	srv := kinesalite.Start(t, kinesalite.Options{Region: "eu-west-1", AccessKeyID: "AKIDKINESIS", SecretAccessKey: secret, SessionToken: token})
	if err := srv.CreateStream(ctx, "click.events", 1); err != nil {
		t.Fatal(err)
	}
	pool := scalers.NewClientPool()
	defer pool.Close()
	auth := map[string]string{"awsAccessKeyID": "AKIDKINESIS", "awsSecretAccessKey": secret, "awsSessionToken": token}
	build := func(auth map[string]string, extra ...string) scalers.Scaler {
		meta := map[string]string{"streamName": "click.events", "awsRegion": "eu-west-1", "awsEndpoint": srv.URL, "activationShardCount": "1"}
		for i := 0; i+1 < len(extra); i += 2 {
			meta[extra[i]] = extra[i+1]
		}
		s, err := scalers.New(ctx, &scalers.Config{TriggerType: "aws-kinesis-stream", TriggerMetadata: meta, AuthParams: auth, Clients: pool, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(ctx) })
		return s
	}
	s := build(auth)
	_ = build(auth, "shardCount", "5")
	if pool.Len() != 1 {
		t.Errorf("two triggers of one identity hold %d clients, want 1", pool.Len())
	}
	spec := s.GetMetricSpecForScaling(ctx)[0].External
	if spec.Metric.Name != "s0-aws-kinesis-click-events" || spec.Target.AverageValue.Value() != 2 {
		t.Errorf("metric %s target %v, want s0-aws-kinesis-click-events and 2 (shardCount's default)", spec.Metric.Name, spec.Target.AverageValue)
	}
	for _, step := range []struct {
		shards int
		active bool
	}{{1, false}, {2, true}, {7, true}, {1, false}} {
		if err := srv.SetOpenShards(ctx, "click.events", step.shards); err != nil {
			t.Fatal(err)
		}
		m, active, err := s.GetMetricsAndActivity(ctx, "s0-aws-kinesis-click-events")
		if err != nil {
			t.Fatal(err)
		}
		if m[0].Value.Value() != int64(step.shards) || active != step.active {
			t.Errorf("%d open shards: read %v (active %v), want active %v", step.shards, m[0].Value.String(), active, step.active)
		}
	}
	reqs := srv.Requests()
	if last := reqs[len(reqs)-1]; last.Target != "Kinesis_20131202.DescribeStreamSummary" || last.AccessKeyID != "AKIDKINESIS" || last.Region != "eu-west-1" ||
		!strings.Contains(string(last.Body), `"StreamName":"click.events"`) {
		t.Errorf("last request %+v", last)
	}

	fail := func(step string, s scalers.Scaler, want ...string) {
		t.Helper()
		_, _, err := s.GetMetricsAndActivity(ctx, "s0-aws-kinesis-click-events")
		if err == nil {
			t.Fatalf("%s: no error", step)
		}
		t.Logf("%s: %v", step, err)
		for _, w := range append(want, "trigger 0 (aws-kinesis-stream)") {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", step, err, w)
			}
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), token) {
			t.Errorf("%s: error %q shows a credential", step, err)
		}
	}
	fail("a wrong secret", build(map[string]string{"awsAccessKeyID": "AKIDKINESIS", "awsSecretAccessKey": secret + "x", "awsSessionToken": token}),
		"InvalidSignatureException", "awsSecretAccessKey")
	fail("an unknown key", build(map[string]string{"awsAccessKeyID": "AKIDOTHER", "awsSecretAccessKey": secret}), "UnrecognizedClientException", "awsAccessKeyID")
	fail("a stream that does not exist", build(auth, "streamName", "missing"), "missing", "does not exist", "streamName")
	fail("nothing listening", build(auth, "awsEndpoint", "http://127.0.0.1:1"), "awsEndpoint")
}
