package scalers

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/kedactl/kedactl/scalers/meta"
)

// FuzzAWSDynamoDBStreamsResponse: DescribeStream's answers, see fuzzAWSAnswers. Every page is
// answered alike, so an answer naming a LastEvaluatedShardId must end at the second page.
func FuzzAWSDynamoDBStreamsResponse(f *testing.F) {
	seeds := []fuzzAnswer{
		{200, `{"StreamDescription":{"StreamArn":"arn","StreamStatus":"ENABLED","Shards":[{"ShardId":"shardId-1"},{"ShardId":"shardId-2"}]}}`},
		{200, `{"StreamDescription":{"Shards":[{"ShardId":"shardId-1"}],"LastEvaluatedShardId":"shardId-1"}}`},
		{200, `{"StreamDescription":{"Shards":[],"LastEvaluatedShardId":""}}`},
		{200, `{"StreamDescription":{"Shards":null}}`},
		{200, `{"StreamDescription":null}`},
		{200, `{}`},
		{200, `not json`},
		{400, `{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found: Stream: arn not found"}`},
		{400, `{"__type":"com.amazon.coral.service#UnrecognizedClientException","message":"The security token included in the request is invalid."}`},
		{500, strings.Repeat("x", 5000)},
	}
	fuzzAWSAnswers(f, seeds, "application/x-amz-json-1.0", true, func(cfg *Config, awsCfg aws.Config, auth meta.AWSAuth) Scaler {
		cfg.TriggerType = "aws-dynamodb-streams"
		return &awsDynamoDBStreamsScaler{cfg: cfg, client: dynamodbstreams.NewFromConfig(awsCfg), release: func() {}, metricName: "s0-fuzz",
			streamArn: "arn:aws:dynamodb:eu-west-1:123456789012:table/t/stream/2026-01-01T00:00:00.000",
			meta:      meta.AWSDynamoDBStreamsMetadata{TableName: "t", ShardCount: 2, AWSAuth: auth}}
	})
}
