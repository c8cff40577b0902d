package scalers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
	"github.com/kedactl/kedactl/test/servers/dynalite"
)

// TestAWSDynamoDBScalerDynalite runs the aws-dynamodb trigger against dynalite (behind the front
// that verifies SigV4): the value is the number of items the Query matches, on the table with a
// filter and on a global secondary index, active above activationTargetValue, with KEDA's metric
// name; refused credentials, an unknown table, an invalid expression and an endpoint with nothing
// listening each name the table and what to check, without the secret.
func TestAWSDynamoDBScalerDynalite(t *testing.T) {
	ctx := context.Background()
	const secret = "dynamo/contract-secret"
	srv := dynalite.Start(t, dynalite.Options{Region: "eu-west-3", AccessKeyID: "AKIDDYNAMO", SecretAccessKey: secret})
	if err := srv.CreateTable(ctx, "jobs"); err != nil {
		t.Fatal(err)
	}
	pool := scalers.NewClientPool()
	defer pool.Close()
	auth := map[string]string{"awsAccessKeyID": "AKIDDYNAMO", "awsSecretAccessKey": secret}
	build := func(auth map[string]string, extra ...string) scalers.Scaler {
		meta := map[string]string{"tableName": "jobs", "awsRegion": "eu-west-3", "awsEndpoint": srv.URL, "targetValue": "5", "activationTargetValue": "1",
			"keyConditionExpression": "#q = :q", "expressionAttributeNames": `{"#q": "queue"}`, "expressionAttributeValues": `{":q": {"S": "q1"}}`}
		for i := 0; i+1 < len(extra); i += 2 {
			meta[extra[i]] = extra[i+1]
		}
		s, err := scalers.New(ctx, &scalers.Config{TriggerType: "aws-dynamodb", TriggerMetadata: meta, AuthParams: auth, Clients: pool, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(ctx) })
		return s
	}
	table := build(auth)
	filtered := build(auth, "filterExpression", "#s = :s", "expressionAttributeNames", `{"#q": "queue", "#s": "state"}`,
		"expressionAttributeValues", `{":q": {"S": "q1"}, ":s": {"S": "failed"}}`)
	index := build(auth, "indexName", "by-state", "keyConditionExpression", "#s = :s", "expressionAttributeNames", `{"#s": "state"}`,
		"expressionAttributeValues", `{":s": {"S": "pending"}}`)
	if pool.Len() != 1 {
		t.Errorf("three triggers of one identity hold %d clients, want 1", pool.Len())
	}
	if spec := table.GetMetricSpecForScaling(ctx)[0].External; spec.Metric.Name != "s0-aws-dynamodb-jobs" || spec.Target.AverageValue.Value() != 5 {
		t.Errorf("metric %s target %v", spec.Metric.Name, spec.Target.AverageValue)
	}
	check := func(step string, s scalers.Scaler, want int64, wantActive bool) {
		t.Helper()
		m, active, err := s.GetMetricsAndActivity(ctx, "s0-aws-dynamodb-jobs")
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if got := m[0].Value.Value(); got != want || active != wantActive {
			t.Errorf("%s: %d items (active %v), want %d (active %v)", step, got, active, want, wantActive)
		}
	}
	check("an empty table", table, 0, false)
	if err := srv.SetItems(ctx, "jobs", "q1", "pending", 1); err != nil {
		t.Fatal(err)
	}
	check("one item, not above activationTargetValue 1", table, 1, false)
	if err := srv.SetItems(ctx, "jobs", "q1", "pending", 7); err != nil {
		t.Fatal(err)
	}
	if err := srv.SetItems(ctx, "jobs", "q2", "failed", 4); err != nil {
		t.Fatal(err)
	}
	check("seven items in q1", table, 7, true)
	check("none failed in q1", filtered, 0, false)
	check("seven pending through the index", index, 7, true)
	reqs := srv.Requests()
	if last := reqs[len(reqs)-1]; last.Target != "DynamoDB_20120810.Query" || last.AccessKeyID != "AKIDDYNAMO" || last.Region != "eu-west-3" ||
		!strings.Contains(string(last.Body), `"IndexName":"by-state"`) || !strings.Contains(string(last.Body), `"Select":"COUNT"`) {
		t.Errorf("last request %+v", last)
	}

	fail := func(step string, s scalers.Scaler, want ...string) {
		t.Helper()
		_, _, err := s.GetMetricsAndActivity(ctx, "s0-aws-dynamodb-jobs")
		if err == nil {
			t.Fatalf("%s: no error", step)
		}
		t.Logf("%s: %v", step, err)
		for _, w := range append(want, "trigger 0 (aws-dynamodb)") {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", step, err, w)
			}
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: error %q shows a credential", step, err)
		}
	}
	fail("a wrong secret", build(map[string]string{"awsAccessKeyID": "AKIDDYNAMO", "awsSecretAccessKey": secret + "x"}), "InvalidSignatureException", "awsSecretAccessKey")
	fail("an unknown key", build(map[string]string{"awsAccessKeyID": "AKIDOTHER", "awsSecretAccessKey": secret}), "UnrecognizedClientException", "awsAccessKeyID")
	fail("a table that does not exist", build(auth, "tableName", "missing"), "missing", "does not exist", "tableName")
	fail("a key condition on another attribute", build(auth, "expressionAttributeNames", `{"#q": "state"}`), "ValidationException", "keyConditionExpression")
	fail("nothing listening", build(auth, "awsEndpoint", "http://127.0.0.1:1"), "awsEndpoint")
}
