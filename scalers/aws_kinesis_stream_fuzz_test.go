package scalers

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/kedactl/kedactl/scalers/meta"
)

// FuzzAWSKinesisStreamResponse: DescribeStreamSummary's answers, see fuzzAWSAnswers.
func FuzzAWSKinesisStreamResponse(f *testing.F) {
	seeds := []fuzzAnswer{
		{200, `{"StreamDescriptionSummary":{"StreamName":"s","StreamStatus":"ACTIVE","OpenShardCount":3}}`},
		{200, `{"StreamDescriptionSummary":{"OpenShardCount":-4}}`},
		{200, `{"StreamDescriptionSummary":{"OpenShardCount":99999999999}}`},
		{200, `{"StreamDescriptionSummary":null}`},
		{200, `{}`},
		{200, `not json`},
		{400, `{"__type":"ResourceNotFoundException","message":"Stream s under account 000000000000 not found."}`},
		{403, `{"__type":"UnrecognizedClientException","message":"The security token included in the request is invalid."}`},
		{500, strings.Repeat("x", 5000)},
	}
	fuzzAWSAnswers(f, seeds, "application/x-amz-json-1.1", true, func(cfg *Config, awsCfg aws.Config, auth meta.AWSAuth) Scaler {
		cfg.TriggerType = "aws-kinesis-stream"
		s := &awsKinesisStreamScaler{cfg: cfg, client: kinesis.NewFromConfig(awsCfg), release: func() {}, metricName: "s0-fuzz",
			meta: meta.AWSKinesisStreamMetadata{StreamName: "s", AWSAuth: auth}}
		return s
	})
}
