package e2e

import (
	"context"
	"fmt"
	"testing"

	"github.com/kedactl/kedactl/test/servers/dynalite"
)

// TestAWSDynamoDBScalesZeroToMaxToZero: an aws-dynamodb trigger on dynalite (behind the front
// verifying SigV4; awsEndpoint points at it) counting a partition's items, the keys from a Secret
// through a TriggerAuthentication. An empty partition leaves the workers at 0; three items
// activate them; forty take the real HPA to the maximum of 4 (targetValue 5); a drained partition
// returns them to 0 after the cooldown. Every request was a Query signed with the Secret's keys
// for awsRegion.
func TestAWSDynamoDBScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ctx := context.Background()
	const keyID, secret = "AKIDE2EDYNAMO", "e2e/dynamodb-secret-access-key"
	srv := dynalite.Start(t, dynalite.Options{Region: "ca-central-1", AccessKeyID: keyID, SecretAccessKey: secret})
	if err := srv.CreateTable(ctx, "jobs"); err != nil {
		t.Fatal(err)
	}
	s.runScalerJourney(t, scalerJourney{
		namespace: "dynamodb",
		secret:    "aws-secret",
		auth:      "aws-auth",
		params: []secretParam{
			{"awsAccessKeyID", "AWS_ACCESS_KEY_ID", keyID},
			{"awsSecretAccessKey", "AWS_SECRET_ACCESS_KEY", secret},
		},
		triggerType: "aws-dynamodb",
		metadata: fmt.Sprintf(`tableName: jobs
			awsRegion: ca-central-1
			awsEndpoint: %s
			keyConditionExpression: "#q = :q"
			expressionAttributeNames: '{"#q": "queue"}'
			expressionAttributeValues: '{":q": {"S": "renders"}}'
			targetValue: "5"`, srv.URL),
		metric:       "s0-aws-dynamodb-jobs",
		averageValue: 5,
		set: func(t *testing.T, n int) {
			if err := srv.SetItems(ctx, "jobs", "renders", "pending", n); err != nil {
				t.Fatal(err)
			}
		},
		polls: func() (n int) {
			for _, r := range srv.Requests() {
				if r.Status == 200 {
					n++
				}
			}
			return n
		},
		// Three items; 40 / 5 = 8 workers, more than the maximum of 4.
		one: 3, max: 40,
	})

	for _, r := range srv.Requests() {
		if r.Status != 200 || r.AccessKeyID != keyID || r.Region != "ca-central-1" || r.Target != "DynamoDB_20120810.Query" {
			t.Fatalf("request %+v", r)
		}
	}
}
