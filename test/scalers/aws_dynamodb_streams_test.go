package scalers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
	"github.com/kedactl/kedactl/test/servers/ddbstreams"
)

// TestAWSDynamoDBStreamsScalerContract runs the aws-dynamodb-streams trigger against the contract
// fake of DynamoDB's DescribeTable and DynamoDB Streams' DescribeStream (SigV4 verified): the
// stream's ARN is read once, when the trigger is built; the value is the number of shards the
// stream lists, over pages of 100 (ExclusiveStartShardId after each page's
// LastEvaluatedShardId), active above activationShardCount, with KEDA's metric name; triggers of
// one identity share their clients; refused credentials, an unknown table, a table without a
// stream, an expired stream and an endpoint with nothing listening each name the table and what
// to check, without the secret.
func TestAWSDynamoDBStreamsScalerContract(t *testing.T) {
	ctx := context.Background()
	const secret, token = "streams/contract-secret", "streams-session-token"
	srv := ddbstreams.Start(t, ddbstreams.Options{Region: "ap-northeast-1", AccessKeyID: "AKIDSTREAMS", SecretAccessKey: secret, SessionToken: token})
	srv.CreateTable("orders.v2", true)
	srv.CreateTable("plain", false)
	pool := scalers.NewClientPool()
	defer pool.Close()
	auth := map[string]string{"awsAccessKeyID": "AKIDSTREAMS", "awsSecretAccessKey": secret, "awsSessionToken": token}
	config := func(auth map[string]string, extra ...string) *scalers.Config {
		meta := map[string]string{"tableName": "orders.v2", "awsRegion": "ap-northeast-1", "awsEndpoint": srv.URL, "activationShardCount": "1"}
		for i := 0; i+1 < len(extra); i += 2 {
			meta[extra[i]] = extra[i+1]
		}
		return &scalers.Config{TriggerType: "aws-dynamodb-streams", TriggerMetadata: meta, AuthParams: auth, Clients: pool, Timeout: 5 * time.Second}
	}
	build := func(auth map[string]string, extra ...string) scalers.Scaler {
		t.Helper()
		s, err := scalers.New(ctx, config(auth, extra...))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(ctx) })
		return s
	}
	s := build(auth)
	_ = build(auth, "shardCount", "5")
	if pool.Len() != 1 {
		t.Errorf("two triggers of one identity hold %d clients, want 1 (the stream client; the table client is released once the ARN is read)", pool.Len())
	}
	spec := s.GetMetricSpecForScaling(ctx)[0].External
	if spec.Metric.Name != "s0-aws-dynamodb-streams-orders-v2" || spec.Target.AverageValue.Value() != 2 {
		t.Errorf("metric %s target %v, want s0-aws-dynamodb-streams-orders-v2 and 2 (shardCount's default)", spec.Metric.Name, spec.Target.AverageValue)
	}
	for _, step := range []struct {
		shards, pages int
		active        bool
	}{{1, 1, false}, {2, 1, true}, {100, 1, true}, {101, 2, true}, {250, 3, true}, {1, 1, false}} {
		srv.SetShards("orders.v2", step.shards)
		before := len(srv.Requests())
		m, active, err := s.GetMetricsAndActivity(ctx, "s0-aws-dynamodb-streams-orders-v2")
		if err != nil {
			t.Fatal(err)
		}
		if m[0].Value.Value() != int64(step.shards) || active != step.active {
			t.Errorf("%d shards: read %v (active %v), want active %v", step.shards, m[0].Value.String(), active, step.active)
		}
		reqs := srv.Requests()[before:]
		if len(reqs) != step.pages {
			t.Errorf("%d shards: %d requests, want %d pages", step.shards, len(reqs), step.pages)
		}
		for i, r := range reqs {
			if r.Target != "DynamoDBStreams_20120810.DescribeStream" || r.Status != 200 || r.AccessKeyID != "AKIDSTREAMS" || r.Region != "ap-northeast-1" ||
				r.Input.StreamArn != srv.StreamArn("orders.v2") || (i == 0) != (r.Input.ExclusiveStartShardId == "") {
				t.Errorf("%d shards, page %d: request %+v", step.shards, i, r)
			}
		}
	}
	var tables int
	for _, r := range srv.Requests() {
		if r.Target == "DynamoDB_20120810.DescribeTable" {
			tables++
		}
	}
	if tables != 2 {
		t.Errorf("%d DescribeTable requests, want 2 (once per trigger built)", tables)
	}

	check := func(step string, err error, want ...string) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s: no error", step)
		}
		t.Logf("%s: %v", step, err)
		for _, w := range append(want, "trigger 0 (aws-dynamodb-streams)") {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", step, err, w)
			}
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), token) {
			t.Errorf("%s: error %q shows a credential", step, err)
		}
	}
	buildFails := func(step string, auth map[string]string, extra []string, want ...string) {
		t.Helper()
		_, err := scalers.New(ctx, config(auth, extra...))
		check(step, err, want...)
	}
	buildFails("a wrong secret", map[string]string{"awsAccessKeyID": "AKIDSTREAMS", "awsSecretAccessKey": secret + "x", "awsSessionToken": token}, nil,
		"InvalidSignatureException", "awsSecretAccessKey")
	buildFails("an unknown key", map[string]string{"awsAccessKeyID": "AKIDOTHER", "awsSecretAccessKey": secret}, nil, "UnrecognizedClientException", "awsAccessKeyID")
	buildFails("a table that does not exist", auth, []string{"tableName", "missing"}, "missing", "does not exist", "tableName")
	buildFails("a table without a stream", auth, []string{"tableName", "plain"}, "plain", "does not exist", "enable DynamoDB Streams")
	buildFails("nothing listening", auth, []string{"awsEndpoint", "http://127.0.0.1:1"}, "awsEndpoint")

	srv.ExpireStream("orders.v2")
	_, _, err := s.GetMetricsAndActivity(ctx, "s0-aws-dynamodb-streams-orders-v2")
	check("an expired stream", err, "orders.v2", "ResourceNotFoundException", "no longer exists")
}
