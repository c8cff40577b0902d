package kinesalite

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/smithy-go"
)

// TestKinesaliteBehindFront: kinesalite answers DescribeStreamSummary with the open shard count
// as splits and merges change it; the front passes what the test's keys signed for its region
// and refuses, with Kinesis's error codes, another key, a wrong secret and another region; an
// unknown stream is kinesalite's ResourceNotFoundException.
func TestKinesaliteBehindFront(t *testing.T) {
	ctx := context.Background()
	s := Start(t, Options{Region: "eu-west-1", AccessKeyID: "AKIDK", SecretAccessKey: "secret-k", SessionToken: "token-k"})
	if err := s.CreateStream(ctx, "events", 1); err != nil {
		t.Fatal(err)
	}
	client := func(region, key, secret, token string) *kinesis.Client {
		return kinesis.New(kinesis.Options{Region: region, BaseEndpoint: aws.String(s.URL), Retryer: aws.NopRetryer{},
			Credentials: credentials.NewStaticCredentialsProvider(key, secret, token)})
	}
	good := client("eu-west-1", "AKIDK", "secret-k", "token-k")
	open := func() int32 {
		t.Helper()
		out, err := good.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("events")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToInt32(out.StreamDescriptionSummary.OpenShardCount)
	}
	for _, n := range []int{1, 5, 9, 2, 1} {
		if err := s.SetOpenShards(ctx, "events", n); err != nil {
			t.Fatal(err)
		}
		if got := open(); got != int32(n) {
			t.Fatalf("%d open shards, want %d", got, n)
		}
	}
	refused := func(c *kinesis.Client, stream, code string) {
		t.Helper()
		_, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != code {
			t.Fatalf("error %v, want %s", err, code)
		}
	}
	refused(client("eu-west-1", "AKIDOTHER", "secret-k", "token-k"), "events", "UnrecognizedClientException")
	refused(client("eu-west-1", "AKIDK", "wrong", "token-k"), "events", "InvalidSignatureException")
	refused(client("eu-west-1", "AKIDK", "secret-k", ""), "events", "UnrecognizedClientException")
	refused(client("us-east-1", "AKIDK", "secret-k", "token-k"), "events", "InvalidSignatureException")
	refused(good, "missing", "ResourceNotFoundException")
	reqs := s.Requests()
	if last := reqs[len(reqs)-1]; last.Target != "Kinesis_20131202.DescribeStreamSummary" || last.AccessKeyID != "AKIDK" || last.Region != "eu-west-1" || last.Status != 400 {
		t.Fatalf("last request %+v", last)
	}
}
