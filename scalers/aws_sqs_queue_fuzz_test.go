package scalers

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/kedactl/kedactl/scalers/meta"
)

// FuzzAWSSQSQueueResponse: GetQueueAttributes's answers, see fuzzAWSAnswers.
func FuzzAWSSQSQueueResponse(f *testing.F) {
	seeds := []fuzzAnswer{
		{200, `{"Attributes":{"ApproximateNumberOfMessages":"3","ApproximateNumberOfMessagesNotVisible":"2","ApproximateNumberOfMessagesDelayed":"1"}}`},
		{200, `{"Attributes":{"ApproximateNumberOfMessages":"9223372036854775807","ApproximateNumberOfMessagesNotVisible":"9223372036854775807"}}`},
		{200, `{"Attributes":{"ApproximateNumberOfMessages":"-1","ApproximateNumberOfMessagesNotVisible":"0"}}`},
		{200, `{}`},
		{200, `{"Attributes":null}`},
		{200, `not json`},
		{400, `{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}`},
		{403, `{"__type":"com.amazon.coral.service#InvalidClientTokenId","message":"The security token included in the request is invalid."}`},
		{500, strings.Repeat("x", 2000)},
	}
	fuzzAWSAnswers(f, seeds, "application/x-amz-json-1.0", true, func(cfg *Config, awsCfg aws.Config, auth meta.AWSAuth) Scaler {
		cfg.TriggerType = "aws-sqs-queue"
		return &awsSQSQueueScaler{cfg: cfg, client: sqs.NewFromConfig(awsCfg), release: func() {}, metricName: "s0-aws-sqs-q",
			meta: meta.AWSSQSQueueMetadata{QueueURL: "http://127.0.0.1:1/1/q", AWSAuth: auth, Attributes: []string{meta.SQSAttrVisible, meta.SQSAttrInFlight, meta.SQSAttrDelayed}}}
	})
}
