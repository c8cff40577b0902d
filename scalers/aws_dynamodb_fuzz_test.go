package scalers

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/kedactl/kedactl/scalers/meta"
)

// FuzzAWSDynamoDBResponse: Query's answers, see fuzzAWSAnswers.
func FuzzAWSDynamoDBResponse(f *testing.F) {
	seeds := []fuzzAnswer{
		{200, `{"Count":3,"ScannedCount":10}`},
		{200, `{"Count":-3}`},
		{200, `{"Count":99999999999}`},
		{200, `{"Count":"3"}`},
		{200, `{}`},
		{200, `not json`},
		{400, `{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"}`},
		{400, `{"__type":"com.amazon.coral.validate#ValidationException","message":"Query condition missed key schema element"}`},
		{500, strings.Repeat("x", 5000)},
	}
	fuzzAWSAnswers(f, seeds, "application/x-amz-json-1.0", true, func(cfg *Config, awsCfg aws.Config, auth meta.AWSAuth) Scaler {
		cfg.TriggerType = "aws-dynamodb"
		m := meta.AWSDynamoDBMetadata{TableName: "t", KeyConditionExpression: "#k = :v", Names: map[string]string{"#k": "k"},
			Values: map[string]meta.DynamoValue{":v": {Type: "S", S: "x"}}, AWSAuth: auth}
		return &awsDynamoDBScaler{cfg: cfg, client: dynamodb.NewFromConfig(awsCfg), input: dynamoQueryInput(&m), release: func() {}, metricName: "s0-fuzz", meta: m}
	})
}
