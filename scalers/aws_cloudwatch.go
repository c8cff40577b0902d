package scalers

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwschemas "github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go/transport/http/protocol/awsjson"
	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// The aws-cloudwatch trigger reads one CloudWatch GetMetricData query (through aws-sdk-go-v2, as
// KEDA does): a metric's statistic or an expression, over the last metricCollectionTime seconds
// up to metricEndTimeOffset ago, newest first; the value is the newest data point, or
// minMetricValue when there is none (an error instead with ignoreNullValues false).
//
// The client speaks AWS JSON 1.1, one of the protocols CloudWatch documents (with awsQuery and
// Smithy RPC v2 CBOR, the SDK's default): the answers are the same, and it is the one the
// contract fake speaks.

// cloudWatchDataGetter is the one CloudWatch call the trigger makes; tests substitute it.
type cloudWatchDataGetter interface {
	GetMetricData(ctx context.Context, params *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

type awsCloudWatchScaler struct {
	cfg        *Config
	meta       meta.AWSCloudWatchMetadata
	client     cloudWatchDataGetter
	release    func()
	metricName string
	now        func() time.Time
}

func newAWSCloudWatchScaler(ctx context.Context, cfg *Config) (Scaler, error) {
	s := &awsCloudWatchScaler{cfg: cfg, now: time.Now}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	s.metricName = MetricName(cfg.TriggerIndex, "aws-cloudwatch")
	client, release, err := acquireAWSClient(ctx, cfg, "aws-cloudwatch", &s.meta.AWSAuth, newCloudWatchClient)
	if err != nil {
		return nil, err
	}
	s.client, s.release = client, release
	return s, nil
}

func newCloudWatchClient(c aws.Config) *cloudwatch.Client {
	return cloudwatch.NewFromConfig(c, func(o *cloudwatch.Options) {
		o.Protocol = awsjson.New11(cwschemas.GraniteServiceVersion20100801)
	})
}

// cloudWatchWindow is KEDA's query window: it ends offset seconds before now, cut down to a
// whole period, and spans collection seconds.
func cloudWatchWindow(now time.Time, period, offset, collection int64) (start, end time.Time) {
	end = now.Add(-time.Duration(offset) * time.Second).Truncate(time.Duration(period) * time.Second)
	return end.Add(-time.Duration(collection) * time.Second), end
}

// cloudWatchInput is the trigger's GetMetricData request at now.
func cloudWatchInput(m *meta.AWSCloudWatchMetadata, now time.Time) *cloudwatch.GetMetricDataInput {
	start, end := cloudWatchWindow(now, m.MetricStatPeriod, m.MetricEndTimeOffset, m.MetricCollectionTime)
	q := cwtypes.MetricDataQuery{}
	if m.Expression != "" {
		q.Id, q.Expression, q.Period = aws.String("q1"), aws.String(m.Expression), aws.Int32(int32(m.MetricStatPeriod))
	} else {
		dims := make([]cwtypes.Dimension, len(m.DimensionName))
		for i := range m.DimensionName {
			dims[i] = cwtypes.Dimension{Name: aws.String(m.DimensionName[i]), Value: aws.String(m.DimensionValue[i])}
		}
		q.Id, q.ReturnData = aws.String("c1"), aws.Bool(true)
		q.MetricStat = &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String(m.Namespace), MetricName: aws.String(m.MetricName), Dimensions: dims},
			Period: aws.Int32(int32(m.MetricStatPeriod)),
			Stat:   aws.String(m.MetricStat),
			Unit:   cwtypes.StandardUnit(m.MetricUnit),
		}
	}
	if m.AwsAccountID != "" {
		q.AccountId = aws.String(m.AwsAccountID)
	}
	return &cloudwatch.GetMetricDataInput{StartTime: aws.Time(start), EndTime: aws.Time(end), ScanBy: cwtypes.ScanByTimestampDescending,
		MetricDataQueries: []cwtypes.MetricDataQuery{q}}
}

// cloudWatchValue is KEDA's reading of the answer: the first result's first (newest) value;
// minMetricValue when there is no result or no value, except that a result without values is an
// error with ignoreNullValues false.
func cloudWatchValue(out *cloudwatch.GetMetricDataOutput, m *meta.AWSCloudWatchMetadata) (float64, error) {
	if len(out.MetricDataResults) > 0 && len(out.MetricDataResults[0].Values) > 0 {
		return out.MetricDataResults[0].Values[0], nil
	}
	if len(out.MetricDataResults) > 0 && !m.IgnoreNullValues {
		return 0, fmt.Errorf("CloudWatch returned no data point in the last %d s and ignoreNullValues is false: check the metric's name, dimensions and metricCollectionTime, or set ignoreNullValues to use minMetricValue", m.MetricCollectionTime)
	}
	return m.MinMetricValue, nil
}

func (s *awsCloudWatchScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, s.meta.TargetMetricValue)
}

// GetMetricsAndActivity reads the query once, within the trigger's timeout; the trigger is
// active when the value is above activationTargetMetricValue.
func (s *awsCloudWatchScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	what := "metric " + meta.Clip(s.meta.Namespace+"/"+s.meta.MetricName, 200)
	if s.meta.Expression != "" {
		what = "expression " + meta.Clip(s.meta.Expression, 200)
	}
	out, err := s.client.GetMetricData(ctx, cloudWatchInput(&s.meta, s.now()))
	if err != nil {
		return nil, false, awsFail(ctx, s.cfg, &s.meta.AWSAuth, awsCall{
			what:         "read CloudWatch " + what,
			permission:   "cloudwatch:GetMetricData",
			invalidCodes: []string{"InvalidParameterValue", "InvalidParameterCombination", "MissingParameter", "InvalidParameterValueException", "InvalidParameterCombinationException"},
			invalid:      "CloudWatch refused the query: check metadata.expression, metricStat, metricUnit, metricStatPeriod and metricCollectionTime",
		}, err)
	}
	v, err := cloudWatchValue(out, &s.meta)
	if err != nil {
		return nil, false, fmt.Errorf("%s: CloudWatch %s: %w", triggerWho(s.cfg), what, err)
	}
	return oneMetricValue(metricName, v), v > s.meta.ActivationTargetMetricValue, nil
}

func (s *awsCloudWatchScaler) Close(context.Context) error {
	s.release()
	return nil
}
