package scalers

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// The aws-sqs-queue trigger reads a queue's approximate counts with SQS's GetQueueAttributes
// (through aws-sdk-go-v2, as KEDA does, so requests, signing and the credential chain are the
// ones AWS supports): the visible messages, plus the in-flight ones unless scaleOnInFlight is
// false, plus the delayed ones with scaleOnDelayed.

// sqsAttributesGetter is the one SQS call the trigger makes; tests substitute it.
type sqsAttributesGetter interface {
	GetQueueAttributes(ctx context.Context, params *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// awsSQSQueueScaler reads one queue's counts on each poll, through the client it shares with the
// triggers of the same region, endpoint and credentials.
type awsSQSQueueScaler struct {
	cfg        *Config
	meta       meta.AWSSQSQueueMetadata
	client     sqsAttributesGetter
	release    func()
	metricName string
}

func newAWSSQSQueueScaler(ctx context.Context, cfg *Config) (Scaler, error) {
	s := &awsSQSQueueScaler{cfg: cfg}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	s.metricName = MetricName(cfg.TriggerIndex, "aws-sqs-"+s.meta.QueueName)
	client, release, err := acquireSQSClient(ctx, cfg, &s.meta)
	if err != nil {
		return nil, err
	}
	s.client, s.release = client, release
	return s, nil
}

// acquireSQSClient returns the SQS client of the trigger's region, endpoint and credentials.
func acquireSQSClient(ctx context.Context, cfg *Config, m *meta.AWSSQSQueueMetadata) (*sqs.Client, func(), error) {
	return acquireAWSClient(ctx, cfg, "aws-sqs", &m.AWSAuth, func(c aws.Config) *sqs.Client { return sqs.NewFromConfig(c) })
}

func (s *awsSQSQueueScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, float64(s.meta.QueueLength))
}

// GetMetricsAndActivity reads the queue's counts once, within the trigger's timeout; the
// trigger is active when their sum is above activationQueueLength.
func (s *awsSQSQueueScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	out, err := s.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(s.meta.QueueURL),
		AttributeNames: sqsAttributeNames(s.meta.Attributes),
	})
	if err != nil {
		return nil, false, s.fail(ctx, err)
	}
	n, err := sumSQSAttributes(out.Attributes, s.meta.Attributes)
	if err != nil {
		return nil, false, fmt.Errorf("%s: queue %s: %w", triggerWho(s.cfg), meta.Clip(s.meta.QueueURL, 200), err)
	}
	return []external_metrics.ExternalMetricValue{{MetricName: metricName, Value: *resource.NewQuantity(n, resource.DecimalSI)}},
		n > s.meta.ActivationQueueLength, nil
}

// sumSQSAttributes adds the counts named by want, each of which the answer must hold as a
// whole number of 0 or more.
func sumSQSAttributes(attrs map[string]string, want []string) (int64, error) {
	var n int64
	for _, name := range want {
		raw, ok := attrs[name]
		if !ok {
			return 0, fmt.Errorf("SQS did not return the attribute %s", name)
		}
		v, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("SQS returned %s = %s, not a count", name, meta.Quote(raw, 40))
		}
		n = addSat(n, v)
	}
	return n, nil
}

func (s *awsSQSQueueScaler) Close(context.Context) error {
	s.release()
	return nil
}

// fail names the trigger, the queue and the cause, and what to check.
func (s *awsSQSQueueScaler) fail(ctx context.Context, err error) error {
	return awsFail(ctx, s.cfg, &s.meta.AWSAuth, awsCall{
		what:          "read the attributes of SQS queue " + meta.Clip(s.meta.QueueURL, 200),
		notFoundCodes: []string{"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"},
		notFound:      "the queue does not exist: check metadata.queueURL and awsRegion",
		permission:    "sqs:GetQueueAttributes on the queue",
	}, err)
}

// sqsAttributeNames converts the attribute names for the SDK's request.
func sqsAttributeNames(names []string) []sqstypes.QueueAttributeName {
	out := make([]sqstypes.QueueAttributeName, len(names))
	for i, n := range names {
		out[i] = sqstypes.QueueAttributeName(n)
	}
	return out
}
