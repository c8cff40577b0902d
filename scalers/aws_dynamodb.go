package scalers

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dynamotypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// The aws-dynamodb trigger counts the items a DynamoDB Query matches (through aws-sdk-go-v2, as
// KEDA does): one Query of the table or indexName with keyConditionExpression and
// filterExpression, whose Count is the value. Like KEDA it reads one page (DynamoDB stops a page
// at 1 MB of items read); it asks for the count only (Select COUNT), which DynamoDB counts as it
// does for the items it would return, so the answer stays small.

// dynamoQuerier is the one DynamoDB call the trigger makes; tests substitute it.
type dynamoQuerier interface {
	Query(ctx context.Context, params *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

type awsDynamoDBScaler struct {
	cfg        *Config
	meta       meta.AWSDynamoDBMetadata
	client     dynamoQuerier
	input      dynamodb.QueryInput
	release    func()
	metricName string
}

func newAWSDynamoDBScaler(ctx context.Context, cfg *Config) (Scaler, error) {
	s := &awsDynamoDBScaler{cfg: cfg}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	s.metricName = MetricName(cfg.TriggerIndex, "aws-dynamodb-"+s.meta.TableName)
	s.input = dynamoQueryInput(&s.meta)
	client, release, err := acquireAWSClient(ctx, cfg, "aws-dynamodb", &s.meta.AWSAuth, func(c aws.Config) *dynamodb.Client { return dynamodb.NewFromConfig(c) })
	if err != nil {
		return nil, err
	}
	s.client, s.release = client, release
	return s, nil
}

// dynamoQueryInput is the trigger's Query.
func dynamoQueryInput(m *meta.AWSDynamoDBMetadata) dynamodb.QueryInput {
	in := dynamodb.QueryInput{
		TableName:                 aws.String(m.TableName),
		KeyConditionExpression:    aws.String(m.KeyConditionExpression),
		ExpressionAttributeNames:  m.Names,
		ExpressionAttributeValues: make(map[string]dynamotypes.AttributeValue, len(m.Values)),
		Select:                    dynamotypes.SelectCount,
	}
	for k, v := range m.Values {
		in.ExpressionAttributeValues[k] = dynamoAttributeValue(v)
	}
	if m.FilterExpression != "" {
		in.FilterExpression = aws.String(m.FilterExpression)
	}
	if m.IndexName != "" {
		in.IndexName = aws.String(m.IndexName)
	}
	return in
}

// dynamoAttributeValue is v as the SDK sends it.
func dynamoAttributeValue(v meta.DynamoValue) dynamotypes.AttributeValue {
	switch v.Type {
	case "S":
		return &dynamotypes.AttributeValueMemberS{Value: v.S}
	case "N":
		return &dynamotypes.AttributeValueMemberN{Value: v.S}
	case "B":
		return &dynamotypes.AttributeValueMemberB{Value: []byte(v.S)}
	case "BOOL":
		return &dynamotypes.AttributeValueMemberBOOL{Value: v.Bool}
	case "NULL":
		return &dynamotypes.AttributeValueMemberNULL{Value: v.Bool}
	case "L":
		list := make([]dynamotypes.AttributeValue, len(v.L))
		for i, item := range v.L {
			list[i] = dynamoAttributeValue(item)
		}
		return &dynamotypes.AttributeValueMemberL{Value: list}
	default: // "M": meta admits no other type
		m := make(map[string]dynamotypes.AttributeValue, len(v.M))
		for k, item := range v.M {
			m[k] = dynamoAttributeValue(item)
		}
		return &dynamotypes.AttributeValueMemberM{Value: m}
	}
}

func (s *awsDynamoDBScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, float64(s.meta.TargetValue))
}

// GetMetricsAndActivity runs the Query once, within the trigger's timeout; the trigger is active
// when the count is above activationTargetValue.
func (s *awsDynamoDBScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	in := s.input
	out, err := s.client.Query(ctx, &in)
	if err != nil {
		return nil, false, awsFail(ctx, s.cfg, &s.meta.AWSAuth, awsCall{
			what:          "query DynamoDB table " + meta.Clip(s.meta.TableName, 200),
			notFoundCodes: []string{"ResourceNotFoundException"},
			notFound:      "the table (or indexName) does not exist: check metadata.tableName, indexName and awsRegion",
			permission:    "dynamodb:Query on the table and its indexes",
			invalidCodes:  []string{"ValidationException"},
			invalid:       "DynamoDB refused the Query: check metadata.keyConditionExpression, filterExpression, expressionAttributeNames and expressionAttributeValues against the table's keys",
		}, err)
	}
	if out.Count < 0 {
		return nil, false, fmt.Errorf("%s: DynamoDB table %s: Query returned Count %d, not a count", triggerWho(s.cfg), meta.Clip(s.meta.TableName, 200), out.Count)
	}
	n := int64(out.Count)
	return oneMetricValue(metricName, float64(n)), n > s.meta.ActivationTargetValue, nil
}

func (s *awsDynamoDBScaler) Close(context.Context) error {
	s.release()
	return nil
}
