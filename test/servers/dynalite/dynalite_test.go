package dynalite

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// TestDynaliteBehindFront: dynalite counts a Query's items (Select COUNT) as SetItems adds and
// removes them, on the table and on its index; the front passes what the test's keys signed and
// refuses another key and a wrong secret with DynamoDB's error codes; an unknown table is
// dynalite's ResourceNotFoundException.
func TestDynaliteBehindFront(t *testing.T) {
	ctx := context.Background()
	s := Start(t, Options{Region: "eu-north-1", AccessKeyID: "AKIDD", SecretAccessKey: "secret-d"})
	if err := s.CreateTable(ctx, "jobs"); err != nil {
		t.Fatal(err)
	}
	client := func(key, secret string) *dynamodb.Client {
		return dynamodb.New(dynamodb.Options{Region: "eu-north-1", BaseEndpoint: aws.String(s.URL), Retryer: aws.NopRetryer{},
			Credentials: credentials.NewStaticCredentialsProvider(key, secret, "")})
	}
	good := client("AKIDD", "secret-d")
	count := func(c *dynamodb.Client, table, index string) (int32, error) {
		in := &dynamodb.QueryInput{TableName: aws.String(table), Select: types.SelectCount,
			KeyConditionExpression:    aws.String("#k = :v"),
			ExpressionAttributeNames:  map[string]string{"#k": "queue"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberS{Value: "q1"}}}
		if index != "" {
			in.IndexName = aws.String(index)
			in.ExpressionAttributeNames["#k"] = "state"
			in.ExpressionAttributeValues[":v"] = &types.AttributeValueMemberS{Value: "pending"}
		}
		out, err := c.Query(ctx, in)
		if err != nil {
			return 0, err
		}
		return out.Count, nil
	}
	for _, n := range []int{0, 3, 12, 1, 0} {
		if err := s.SetItems(ctx, "jobs", "q1", "pending", n); err != nil {
			t.Fatal(err)
		}
		for _, index := range []string{"", "by-state"} {
			if got, err := count(good, "jobs", index); err != nil || got != int32(n) {
				t.Fatalf("index %q: %d items (%v), want %d", index, got, err, n)
			}
		}
	}
	refused := func(c *dynamodb.Client, table, code string) {
		t.Helper()
		_, err := count(c, table, "")
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != code {
			t.Fatalf("error %v, want %s", err, code)
		}
	}
	refused(client("AKIDOTHER", "secret-d"), "jobs", "UnrecognizedClientException")
	refused(client("AKIDD", "wrong"), "jobs", "InvalidSignatureException")
	refused(good, "missing", "ResourceNotFoundException")
	reqs := s.Requests()
	if last := reqs[len(reqs)-1]; last.Target != "DynamoDB_20120810.Query" || last.AccessKeyID != "AKIDD" || last.Region != "eu-north-1" || last.Status != 400 {
		t.Fatalf("last request %+v", last)
	}
}
