package e2e

import (
	"fmt"
	"testing"

	"github.com/kedactl/kedactl/test/servers/ddbstreams"
)

// TestAWSDynamoDBStreamsScalesZeroToMaxToZero: an aws-dynamodb-streams trigger on the DynamoDB
// Streams contract fake (DescribeTable and DescribeStream, SigV4 verified; awsEndpoint points at
// it), the keys from a Secret through a TriggerAuthentication. One shard is at
// activationShardCount 1 and leaves the workers at 0; two activate them; 150 (two pages of
// DescribeStream) take the real HPA to the maximum of 4 (shardCount 2); back to one shard they
// return to 0 after the cooldown. Every request was signed with the Secret's keys for awsRegion,
// and the table was described once, when the trigger was built.
func TestAWSDynamoDBStreamsScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	const keyID, secret = "AKIDE2EDDBSTREAMS", "e2e/dynamodb-streams-secret-access-key"
	srv := ddbstreams.Start(t, ddbstreams.Options{Region: "ca-central-1", AccessKeyID: keyID, SecretAccessKey: secret})
	srv.CreateTable("orders", true)
	streamReads := func() (n int) {
		for _, r := range srv.Requests() {
			if r.Status == 200 && r.Target == "DynamoDBStreams_20120810.DescribeStream" && r.Input.ExclusiveStartShardId == "" {
				n++
			}
		}
		return n
	}
	set := func(_ *testing.T, n int) { srv.SetShards("orders", n) }
	s.runScalerJourney(t, scalerJourney{
		namespace: "ddbstreams",
		secret:    "aws-secret",
		auth:      "aws-auth",
		params: []secretParam{
			{"awsAccessKeyID", "AWS_ACCESS_KEY_ID", keyID},
			{"awsSecretAccessKey", "AWS_SECRET_ACCESS_KEY", secret},
		},
		triggerType: "aws-dynamodb-streams",
		metadata: fmt.Sprintf(`tableName: orders
			awsRegion: ca-central-1
			awsEndpoint: %s
			activationShardCount: "1"`, srv.URL),
		metric:       "s0-aws-dynamodb-streams-orders",
		averageValue: 2,
		set:          set,
		polls:        streamReads,
		// One shard at the threshold; two activate; 150 / 2 asks for 75 workers, above the maximum.
		idle: 1, one: 2, max: 150,
		drain: func(t *testing.T) { set(t, 1) },
	})

	tables := 0
	for _, r := range srv.Requests() {
		if r.Status != 200 || r.AccessKeyID != keyID || r.Region != "ca-central-1" {
			t.Fatalf("request %+v", r)
		}
		switch r.Target {
		case "DynamoDB_20120810.DescribeTable":
			tables++
		case "DynamoDBStreams_20120810.DescribeStream":
			if r.Input.StreamArn != srv.StreamArn("orders") {
				t.Fatalf("request %+v", r)
			}
		default:
			t.Fatalf("request %+v", r)
		}
	}
	if tables == 0 {
		t.Fatal("the table was never described")
	}
}
