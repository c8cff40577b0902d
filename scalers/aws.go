package scalers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/kedactl/kedactl/scalers/meta"
)

// What the aws-* triggers share: one SDK client per service, region, endpoint and identity
// (through cfg.Clients), bounded answers, and errors that say what to check.

// awsMaxResponseBytes bounds one answer: the calls the triggers make are answered in a few
// kilobytes at most.
const awsMaxResponseBytes = 1 << 20

// acquireAWSClient returns the client of kind (one per AWS service) for the trigger's region,
// endpoint and credentials, shared through cfg.Clients (whose keys are HMACs: the secret key and
// token are never kept in clear there). newClient makes the service's client from the config.
func acquireAWSClient[T any](ctx context.Context, cfg *Config, kind string, a *meta.AWSAuth, newClient func(aws.Config) T) (T, func(), error) {
	c := a.Creds
	var base *aws.Config
	if !c.Static() {
		// The operator's own identity: the SDK's default chain reads the environment and the
		// shared config files, so it is loaded here, outside the pool's lock.
		loaded, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(a.AwsRegion))
		if err != nil {
			var zero T
			return zero, nil, fmt.Errorf("%s: could not load the operator's AWS configuration: %v", triggerWho(cfg), clipErr(err, 300))
		}
		base = &loaded
	}
	parts := []any{a.AwsRegion, a.AwsEndpoint, c.AccessKeyID, c.SecretAccessKey, c.SessionToken, c.RoleArn}
	return acquirePooled(cfg.Clients, kind, parts, func() (T, func(), error) {
		transport := newHTTPTransport(&meta.HTTPAuth{}, false)
		awsCfg := aws.Config{Region: a.AwsRegion}
		if base != nil {
			awsCfg = base.Copy()
		}
		awsCfg.HTTPClient = &http.Client{Transport: observedTransport{next: &boundedBodyTransport{base: transport, limit: awsMaxResponseBytes}}}
		switch {
		case c.Static():
			awsCfg.Credentials = credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
		case c.RoleArn != "":
			awsCfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(awsCfg), c.RoleArn))
		}
		if a.AwsEndpoint != "" {
			awsCfg.BaseEndpoint = aws.String(a.AwsEndpoint)
		}
		return newClient(awsCfg), transport.CloseIdleConnections, nil
	})
}

// awsCall describes a trigger's one AWS request for its errors: what it reads, the error codes
// meaning that thing does not exist and what to check then, and the permission it needs.
type awsCall struct {
	what          string // "read the attributes of SQS queue orders"
	notFoundCodes []string
	notFound      string // "the queue does not exist: check metadata.queueURL and awsRegion"
	// invalidCodes are the service refusing the request as the metadata wrote it; invalid says
	// which parameters to check then.
	invalidCodes []string
	invalid      string
	permission   string // "sqs:GetQueueAttributes on the queue"
}

// awsFail names the trigger, what it read and the cause, and, when it is recognised, what to
// check. Secret texts are removed; the SDK's errors do not quote credentials, but an endpoint's
// answer could.
func awsFail(ctx context.Context, cfg *Config, a *meta.AWSAuth, call awsCall, err error) error {
	msg := fmt.Sprintf("%s: could not %s: %v", triggerWho(cfg), call.what, clipErr(err, 400))
	if fix := awsFix(ctx, cfg, a, call, err); fix != "" {
		msg += ": " + fix
	}
	for _, secret := range a.Creds.Secrets() {
		msg = strings.ReplaceAll(msg, secret, "(hidden)")
	}
	return &rewordedError{msg: msg, err: err}
}

// awsFix is what to check for err, or "" when it is not recognised.
func awsFix(ctx context.Context, cfg *Config, a *meta.AWSAuth, call awsCall, err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code := apiErr.ErrorCode()
		switch {
		case slices.Contains(call.notFoundCodes, code):
			return call.notFound
		case slices.Contains(call.invalidCodes, code):
			return call.invalid
		case slices.Contains([]string{"InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch", "InvalidSignatureException",
			"IncompleteSignature", "ExpiredToken", "ExpiredTokenException", "InvalidSecurity", "MissingAuthenticationToken"}, code):
			return "AWS refused the credentials: check awsAccessKeyID, awsSecretAccessKey and awsSessionToken in the TriggerAuthentication"
		case code == "AccessDenied" || code == "AccessDeniedException":
			return "the identity may not make this call: allow it " + call.permission
		}
		return ""
	}
	msg := err.Error()
	var netErr net.Error
	switch {
	case strings.Contains(msg, "failed to retrieve credentials") || strings.Contains(msg, "failed to refresh cached credentials") ||
		strings.Contains(msg, "no EC2 IMDS role found") || strings.Contains(msg, "AssumeRole"):
		if a.Creds.RoleArn != "" {
			return "could not assume awsRoleArn with the operator's own AWS identity: check the role's trust policy and the operator's identity (IRSA, EKS Pod Identity)"
		}
		return "no AWS credentials were found for the operator's own identity: set awsAccessKeyID and awsSecretAccessKey (or awsRoleArn) in a TriggerAuthentication, or give the operator an AWS identity (IRSA, EKS Pod Identity)"
	case errors.Is(err, errAWSAnswerTooLarge):
		return "check metadata.awsEndpoint: AWS answers this call in a few kilobytes"
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		return fmt.Sprintf("no answer within the trigger's timeout of %s: check metadata.awsEndpoint and awsRegion", cfg.Timeout)
	case strings.Contains(msg, "connection refused"):
		return "nothing listens at the endpoint: check metadata.awsEndpoint"
	case strings.Contains(msg, "no such host"):
		return "the endpoint's host name does not resolve: check metadata.awsEndpoint and awsRegion"
	}
	return ""
}

// errAWSAnswerTooLarge is an answer beyond its transport's limit.
var errAWSAnswerTooLarge = errors.New("the answer is larger than 1 MiB")

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
		return nil, errAWSAnswerTooLarge
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
			return 0, errAWSAnswerTooLarge
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
