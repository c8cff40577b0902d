package scalers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// The aws-sqs-queue trigger reads a queue's approximate counts with SQS's GetQueueAttributes
// (through aws-sdk-go-v2, as KEDA does, so requests, signing and the credential chain are the
// ones AWS supports): the visible messages, plus the in-flight ones unless scaleOnInFlight is
// false, plus the delayed ones with scaleOnDelayed.

// sqsMaxResponseBytes bounds one answer: GetQueueAttributes returns a few short attributes.
const sqsMaxResponseBytes = 1 << 20

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
	secrets    []string
}

func newAWSSQSQueueScaler(ctx context.Context, cfg *Config) (Scaler, error) {
	s := &awsSQSQueueScaler{cfg: cfg}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	s.metricName = MetricName(cfg.TriggerIndex, "aws-sqs-"+s.meta.QueueName)
	s.secrets = s.meta.Creds.Secrets()
	client, release, err := acquireSQSClient(ctx, cfg, &s.meta)
	if err != nil {
		return nil, err
	}
	s.client, s.release = client, release
	return s, nil
}

// acquireSQSClient returns the SQS client of the trigger's region, endpoint and credentials,
// shared through cfg.Clients (whose keys are HMACs: the secret key and token are never kept in
// clear there).
func acquireSQSClient(ctx context.Context, cfg *Config, m *meta.AWSSQSQueueMetadata) (*sqs.Client, func(), error) {
	c := m.Creds
	var base *aws.Config
	if !c.Static() {
		// The operator's own identity: the SDK's default chain reads the environment and the
		// shared config files, so it is loaded here, outside the pool's lock.
		loaded, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(m.AwsRegion))
		if err != nil {
			return nil, nil, fmt.Errorf("%s: could not load the operator's AWS configuration: %v", triggerWho(cfg), clipErr(err, 300))
		}
		base = &loaded
	}
	parts := []any{m.AwsRegion, m.AwsEndpoint, c.AccessKeyID, c.SecretAccessKey, c.SessionToken, c.RoleArn}
	return acquirePooled(cfg.Clients, "aws-sqs", parts, func() (*sqs.Client, func(), error) {
		transport := newHTTPTransport(&meta.HTTPAuth{}, false)
		awsCfg := aws.Config{Region: m.AwsRegion}
		if base != nil {
			awsCfg = base.Copy()
		}
		awsCfg.HTTPClient = &http.Client{Transport: observedTransport{next: &boundedBodyTransport{base: transport, limit: sqsMaxResponseBytes}}}
		switch {
		case c.Static():
			awsCfg.Credentials = credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
		case c.RoleArn != "":
			awsCfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(awsCfg), c.RoleArn))
		}
		client := sqs.NewFromConfig(awsCfg, func(o *sqs.Options) {
			if m.AwsEndpoint != "" {
				o.BaseEndpoint = aws.String(m.AwsEndpoint)
			}
		})
		return client, transport.CloseIdleConnections, nil
	})
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
			return 0, fmt.Errorf("SQS returned %s = %q, not a count", name, meta.Clip(raw, 40))
		}
		n = addSat(n, v)
	}
	return n, nil
}

func (s *awsSQSQueueScaler) Close(context.Context) error {
	s.release()
	return nil
}

// fail names the trigger, the queue and the cause, and, when it is recognised, what to check.
// Secret texts are removed; the SDK's errors do not quote credentials, but an endpoint's
// answer could.
func (s *awsSQSQueueScaler) fail(ctx context.Context, err error) error {
	msg := fmt.Sprintf("%s: could not read the attributes of SQS queue %s: %v", triggerWho(s.cfg), meta.Clip(s.meta.QueueURL, 200), clipErr(err, 400))
	if fix := s.fix(ctx, err); fix != "" {
		msg += ": " + fix
	}
	for _, secret := range s.secrets {
		msg = strings.ReplaceAll(msg, secret, "(hidden)")
	}
	return &rewordedError{msg: msg, err: err}
}

func (s *awsSQSQueueScaler) fix(ctx context.Context, err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue":
			return "the queue does not exist: check metadata.queueURL and awsRegion"
		case "InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch", "IncompleteSignature", "ExpiredToken", "InvalidSecurity":
			return "AWS refused the credentials: check awsAccessKeyID, awsSecretAccessKey and awsSessionToken in the TriggerAuthentication"
		case "AccessDenied", "AccessDeniedException":
			return "the identity may not read this queue: allow it sqs:GetQueueAttributes on the queue"
		}
		return ""
	}
	msg := err.Error()
	var netErr net.Error
	switch {
	case strings.Contains(msg, "failed to retrieve credentials") || strings.Contains(msg, "failed to refresh cached credentials") ||
		strings.Contains(msg, "no EC2 IMDS role found") || strings.Contains(msg, "AssumeRole"):
		if s.meta.Creds.RoleArn != "" {
			return "could not assume awsRoleArn with the operator's own AWS identity: check the role's trust policy and the operator's identity (IRSA, EKS Pod Identity)"
		}
		return "no AWS credentials were found for the operator's own identity: set awsAccessKeyID and awsSecretAccessKey (or awsRoleArn) in a TriggerAuthentication, or give the operator an AWS identity (IRSA, EKS Pod Identity)"
	case errors.Is(err, errSQSAnswerTooLarge):
		return "check metadata.awsEndpoint: SQS answers this call in a few hundred bytes"
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		return fmt.Sprintf("no answer within the trigger's timeout of %s: check metadata.awsEndpoint and awsRegion", s.cfg.Timeout)
	case strings.Contains(msg, "connection refused"):
		return "nothing listens at the endpoint: check metadata.awsEndpoint"
	case strings.Contains(msg, "no such host"):
		return "the endpoint's host name does not resolve: check metadata.awsEndpoint and awsRegion"
	}
	return ""
}

// sqsAttributeNames converts the attribute names for the SDK's request.
func sqsAttributeNames(names []string) []sqstypes.QueueAttributeName {
	out := make([]sqstypes.QueueAttributeName, len(names))
	for i, n := range names {
		out[i] = sqstypes.QueueAttributeName(n)
	}
	return out
}

// errSQSAnswerTooLarge is an answer beyond sqsMaxResponseBytes.
var errSQSAnswerTooLarge = errors.New("the answer is larger than 1 MiB")

// boundedBodyTransport makes every response body fail once it passes limit bytes, so that an
// endpoint that answers without end cannot hold the SDK's decoder.
type boundedBodyTransport struct {
	base  http.RoundTripper
	limit int64
}

func (t *boundedBodyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > t.limit {
		resp.Body.Close()
		return nil, errSQSAnswerTooLarge
	}
	resp.Body = &boundedBody{rc: resp.Body, left: t.limit}
	return resp, nil
}

type boundedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly limit bytes from a longer one.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, errSQSAnswerTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *boundedBody) Close() error { return b.rc.Close() }
