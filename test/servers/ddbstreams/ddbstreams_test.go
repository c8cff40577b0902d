package ddbstreams

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestDynamoDBStreamsConventions: the fake pages DescribeStream as DynamoDB Streams documents
// (Limit 1 to 100, 100 by default; shards after ExclusiveStartShardId; LastEvaluatedShardId on
// every page but the last), names a table's LatestStreamArn only when it has a stream, and
// refuses what the API references refuse (an unknown table or stream, a malformed table name,
// ARN, Limit or shard ID, an unsigned request) with DynamoDB's error bodies. The signed requests
// themselves are exercised by TestAWSDynamoDBStreamsScalerContract.
func TestDynamoDBStreamsConventions(t *testing.T) {
	s := Start(t, Options{Region: "eu-west-1", AccessKeyID: "AKID", SecretAccessKey: "secret"})
	s.CreateTable("orders", true)
	s.CreateTable("plain", false)
	s.SetShards("orders", 250)
	arn := s.StreamArn("orders")
	if !strings.HasPrefix(arn, "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/") {
		t.Fatalf("stream ARN %q", arn)
	}

	table := func(name string) map[string]any {
		t.Helper()
		out, e := s.describeTable(Input{TableName: name})
		if e != nil {
			t.Fatalf("DescribeTable %s: %+v", name, e)
		}
		return out.(map[string]any)["Table"].(map[string]any)
	}
	if got := table("orders"); got["LatestStreamArn"] != arn || got["StreamSpecification"] == nil {
		t.Errorf("table with a stream: %+v", got)
	}
	if got := table("plain"); got["LatestStreamArn"] != nil || got["StreamSpecification"] != nil {
		t.Errorf("table without a stream: %+v", got)
	}

	limit := func(n int) *int { return &n }
	var pages []int
	start := ""
	for range 10 {
		out, e := s.describeStream(Input{StreamArn: arn, ExclusiveStartShardId: start})
		if e != nil {
			t.Fatal(e)
		}
		desc := out.(map[string]any)["StreamDescription"].(map[string]any)
		shards := desc["Shards"].([]shard)
		pages = append(pages, len(shards))
		last, more := desc["LastEvaluatedShardId"].(string)
		if !more {
			if shards[len(shards)-1].SequenceNumberRange["EndingSequenceNumber"] != "" {
				t.Error("the newest shard is closed")
			}
			break
		}
		if last != shards[len(shards)-1].ShardId || shards[0].ShardId <= start {
			t.Errorf("page after %q: last %q, first %q", start, last, shards[0].ShardId)
		}
		start = last
	}
	if len(pages) != 3 || pages[0] != 100 || pages[1] != 100 || pages[2] != 50 {
		t.Errorf("pages of %v shards, want [100 100 50]", pages)
	}
	if out, e := s.describeStream(Input{StreamArn: arn, Limit: limit(7)}); e != nil || len(out.(map[string]any)["StreamDescription"].(map[string]any)["Shards"].([]shard)) != 7 {
		t.Errorf("Limit 7: %v %+v", out, e)
	}

	for _, tt := range []struct {
		name string
		err  *apiError
		typ  string
	}{
		{"an unknown table", second(s.describeTable(Input{TableName: "missing"})), "ResourceNotFoundException"},
		{"a malformed table name", second(s.describeTable(Input{TableName: "a b"})), "ValidationException"},
		{"an unknown stream", second(s.describeStream(Input{StreamArn: strings.Replace(arn, "orders", "others", 1)})), "ResourceNotFoundException"},
		{"a short ARN", second(s.describeStream(Input{StreamArn: "arn:aws:dynamodb"})), "ValidationException"},
		{"Limit 101", second(s.describeStream(Input{StreamArn: arn, Limit: limit(101)})), "ValidationException"},
		{"Limit 0", second(s.describeStream(Input{StreamArn: arn, Limit: limit(0)})), "ValidationException"},
		{"a short shard ID", second(s.describeStream(Input{StreamArn: arn, ExclusiveStartShardId: "shardId-1"})), "ValidationException"},
	} {
		if tt.err == nil || !strings.HasSuffix(tt.err.typ, "#"+tt.typ) {
			t.Errorf("%s: %+v, want %s", tt.name, tt.err, tt.typ)
		}
	}
	s.ExpireStream("orders")
	if _, e := s.describeStream(Input{StreamArn: arn}); e == nil || !strings.HasSuffix(e.typ, "#ResourceNotFoundException") {
		t.Errorf("expired stream: %+v", e)
	}

	// Over HTTP: an unsigned request is refused as DynamoDB refuses it, 400 with a typed body.
	req, _ := http.NewRequest(http.MethodPost, s.URL, strings.NewReader(`{"TableName":"orders"}`))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.DescribeTable")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 400 || body["__type"] != "com.amazon.coral.service#MissingAuthenticationTokenException" || body["message"] == "" {
		t.Fatalf("unsigned: %d %v", resp.StatusCode, body)
	}
	if reqs := s.Requests(); len(reqs) != 1 || reqs[0].Status != 400 || reqs[0].Target != "DynamoDB_20120810.DescribeTable" {
		t.Errorf("requests %+v", reqs)
	}
}

func second(_ any, e *apiError) *apiError { return e }
