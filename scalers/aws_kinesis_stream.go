package scalers

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// The aws-kinesis-stream trigger reads a data stream's open shard count with Kinesis's
// DescribeStreamSummary (through aws-sdk-go-v2, as KEDA does).

// kinesisSummaryGetter is the one Kinesis call the trigger makes; tests substitute it.
type kinesisSummaryGetter interface {
	DescribeStreamSummary(ctx context.Context, params *kinesis.DescribeStreamSummaryInput, optFns ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error)
}

type awsKinesisStreamScaler struct {
	cfg        *Config
	meta       meta.AWSKinesisStreamMetadata
	client     kinesisSummaryGetter
	release    func()
	metricName string
}

func newAWSKinesisStreamScaler(ctx context.Context, cfg *Config) (Scaler, error) {
	s := &awsKinesisStreamScaler{cfg: cfg}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	s.metricName = MetricName(cfg.TriggerIndex, "aws-kinesis-"+s.meta.StreamName)
	client, release, err := acquireAWSClient(ctx, cfg, "aws-kinesis", &s.meta.AWSAuth, func(c aws.Config) *kinesis.Client { return kinesis.NewFromConfig(c) })
	if err != nil {
		return nil, err
	}
	s.client, s.release = client, release
	return s, nil
}

func (s *awsKinesisStreamScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, float64(s.meta.ShardCount))
}

// GetMetricsAndActivity reads the open shard count once, within the trigger's timeout; the
// trigger is active when it is above activationShardCount.
func (s *awsKinesisStreamScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	out, err := s.client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(s.meta.StreamName)})
	if err != nil {
		return nil, false, awsFail(ctx, s.cfg, &s.meta.AWSAuth, awsCall{
			what:          "describe Kinesis stream " + meta.Clip(s.meta.StreamName, 200),
			notFoundCodes: []string{"ResourceNotFoundException"},
			notFound:      "the stream does not exist: check metadata.streamName and awsRegion",
			permission:    "kinesis:DescribeStreamSummary on the stream",
		}, err)
	}
	n, err := openShardCount(out)
	if err != nil {
		return nil, false, fmt.Errorf("%s: Kinesis stream %s: %w", triggerWho(s.cfg), meta.Clip(s.meta.StreamName, 200), err)
	}
	return oneMetricValue(metricName, float64(n)), n > s.meta.ActivationShardCount, nil
}

// openShardCount is the summary's OpenShardCount, which the answer must hold as 0 or more.
func openShardCount(out *kinesis.DescribeStreamSummaryOutput) (int64, error) {
	if out == nil || out.StreamDescriptionSummary == nil || out.StreamDescriptionSummary.OpenShardCount == nil {
		return 0, fmt.Errorf("Kinesis returned no OpenShardCount")
	}
	n := int64(*out.StreamDescriptionSummary.OpenShardCount)
	if n < 0 {
		return 0, fmt.Errorf("Kinesis returned OpenShardCount %d, not a count", n)
	}
	return n, nil
}

func (s *awsKinesisStreamScaler) Close(context.Context) error {
	s.release()
	return nil
}
