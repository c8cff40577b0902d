package scalers

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// The aws-dynamodb-streams trigger counts the shards of a table's stream (through aws-sdk-go-v2,
// as KEDA does): DynamoDB's DescribeTable names the table's LatestStreamArn once, when the
// trigger is built, and each poll pages through DynamoDB Streams' DescribeStream, counting every
// shard it lists (open and closed alike, as KEDA counts them).

// maxStreamPages bounds one poll's DescribeStream pages: 100 shards a page (DynamoDB Streams'
// most) makes 100,000 shards, far beyond a table's stream.
const maxStreamPages = 1000

// streamDescriber is the one DynamoDB Streams call a poll makes; tests substitute it.
type streamDescriber interface {
	DescribeStream(ctx context.Context, params *dynamodbstreams.DescribeStreamInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
}

type awsDynamoDBStreamsScaler struct {
	cfg        *Config
	meta       meta.AWSDynamoDBStreamsMetadata
	streamArn  string
	client     streamDescriber
	release    func()
	metricName string
}

func newAWSDynamoDBStreamsScaler(ctx context.Context, cfg *Config) (Scaler, error) {
	s := &awsDynamoDBStreamsScaler{cfg: cfg}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	s.metricName = MetricName(cfg.TriggerIndex, "aws-dynamodb-streams-"+s.meta.TableName)
	tables, releaseTables, err := acquireAWSClient(ctx, cfg, "aws-dynamodb", &s.meta.AWSAuth, func(c aws.Config) *dynamodb.Client { return dynamodb.NewFromConfig(c) })
	if err != nil {
		return nil, err
	}
	// The table client is needed only here: the stream's ARN is read once, as KEDA reads it.
	defer releaseTables()
	if s.streamArn, err = latestStreamArn(ctx, s.cfg, &s.meta, tables); err != nil {
		return nil, err
	}
	client, release, err := acquireAWSClient(ctx, cfg, "aws-dynamodb-streams", &s.meta.AWSAuth, func(c aws.Config) *dynamodbstreams.Client { return dynamodbstreams.NewFromConfig(c) })
	if err != nil {
		return nil, err
	}
	s.client, s.release = client, release
	return s, nil
}

// latestStreamArn is the table's LatestStreamArn, read with DescribeTable within the trigger's
// timeout.
func latestStreamArn(ctx context.Context, cfg *Config, m *meta.AWSDynamoDBStreamsMetadata, client interface {
	DescribeTable(ctx context.Context, params *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	table := meta.Clip(m.TableName, 200)
	out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(m.TableName)})
	if err != nil {
		return "", awsFail(ctx, cfg, &m.AWSAuth, awsCall{
			what:          "describe DynamoDB table " + table,
			notFoundCodes: []string{"ResourceNotFoundException"},
			notFound:      "the table does not exist: check metadata.tableName and awsRegion",
			permission:    "dynamodb:DescribeTable on the table",
		}, err)
	}
	if out.Table == nil || aws.ToString(out.Table.LatestStreamArn) == "" {
		return "", fmt.Errorf("%s: the stream of DynamoDB table %s does not exist (DescribeTable named no LatestStreamArn): enable DynamoDB Streams on the table", triggerWho(cfg), table)
	}
	return *out.Table.LatestStreamArn, nil
}

func (s *awsDynamoDBStreamsScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, float64(s.meta.ShardCount))
}

// GetMetricsAndActivity counts the stream's shards, every page within the trigger's timeout; the
// trigger is active when there are more than activationShardCount.
func (s *awsDynamoDBStreamsScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	n, err := s.shardCount(ctx)
	if err != nil {
		return nil, false, err
	}
	return oneMetricValue(metricName, float64(n)), n > s.meta.ActivationShardCount, nil
}

// shardCount pages through DescribeStream from the first shard, each page starting after the
// last shard the previous one evaluated.
func (s *awsDynamoDBStreamsScaler) shardCount(ctx context.Context) (int64, error) {
	var n int64
	var start *string
	for range maxStreamPages {
		out, err := s.client.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(s.streamArn), ExclusiveStartShardId: start})
		if err != nil {
			return 0, awsFail(ctx, s.cfg, &s.meta.AWSAuth, awsCall{
				what:          "describe the stream of DynamoDB table " + meta.Clip(s.meta.TableName, 200),
				notFoundCodes: []string{"ResourceNotFoundException"},
				notFound:      "the table's stream no longer exists (a stream is kept 24 hours after it is disabled): check the table's stream and recreate the trigger",
				permission:    "dynamodb:DescribeStream on the table's stream",
			}, err)
		}
		if out.StreamDescription == nil {
			return 0, fmt.Errorf("%s: DynamoDB Streams returned no StreamDescription for table %s", triggerWho(s.cfg), meta.Clip(s.meta.TableName, 200))
		}
		n += int64(len(out.StreamDescription.Shards))
		next, err := nextShardPage(start, out.StreamDescription.LastEvaluatedShardId)
		if err != nil {
			return 0, fmt.Errorf("%s: stream of DynamoDB table %s: %w", triggerWho(s.cfg), meta.Clip(s.meta.TableName, 200), err)
		}
		if next == nil {
			return n, nil
		}
		start = next
	}
	return 0, fmt.Errorf("%s: stream of DynamoDB table %s: more than %d pages of shards", triggerWho(s.cfg), meta.Clip(s.meta.TableName, 200), maxStreamPages)
}

// nextShardPage is where the page after one that started after sent begins: nil when the page
// evaluated no last shard (it was the last page). A page ending where it started would repeat
// itself for ever, so it is an error.
func nextShardPage(sent, lastEvaluated *string) (*string, error) {
	if lastEvaluated == nil || *lastEvaluated == "" {
		return nil, nil
	}
	if sent != nil && *sent == *lastEvaluated {
		return nil, fmt.Errorf("DescribeStream returned LastEvaluatedShardId %s, the shard it started after", meta.Clip(*lastEvaluated, 100))
	}
	return lastEvaluated, nil
}

func (s *awsDynamoDBStreamsScaler) Close(context.Context) error {
	s.release()
	return nil
}
