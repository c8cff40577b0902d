package meta

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// The SQS attributes the trigger sums.
const (
	SQSAttrVisible  = "ApproximateNumberOfMessages"
	SQSAttrInFlight = "ApproximateNumberOfMessagesNotVisible"
	SQSAttrDelayed  = "ApproximateNumberOfMessagesDelayed"
)

// AWSSQSQueueMetadata is the aws-sqs-queue trigger's metadata, with KEDA's parameter names. The
// credentials are not tagged: KEDA reads them outside its declared parameters (see
// awsCredentialParams), so they are not in its schema either.
type AWSSQSQueueMetadata struct {
	QueueLength           int64  `keda:"name=queueLength, order=triggerMetadata, default=5"`
	ActivationQueueLength int64  `keda:"name=activationQueueLength, order=triggerMetadata, default=0"`
	QueueURL              string `keda:"name=queueURL, order=triggerMetadata;resolvedEnv"`
	AwsRegion             string `keda:"name=awsRegion, order=triggerMetadata;authParams"`
	AwsEndpoint           string `keda:"name=awsEndpoint, order=triggerMetadata, optional"`
	ScaleOnInFlight       bool   `keda:"name=scaleOnInFlight, order=triggerMetadata, default=true"`
	ScaleOnDelayed        bool   `keda:"name=scaleOnDelayed, order=triggerMetadata, default=false"`
	IdentityOwner         string `keda:"name=identityOwner, order=triggerMetadata, optional, enum=pod;operator"`

	// Set by Validate and ValidateConfig.
	QueueName  string
	Attributes []string
	Creds      AWSCredentials
}

// Validate checks what the metadata alone decides.
func (m *AWSSQSQueueMetadata) Validate() error {
	if m.QueueLength < 1 {
		return &ParamError{Param: "queueLength", Problem: fmt.Sprintf("is %d", m.QueueLength),
			Fix: "must be at least 1: it is the number of messages per replica the HPA aims at"}
	}
	if m.ActivationQueueLength < 0 {
		return &ParamError{Param: "activationQueueLength", Problem: fmt.Sprintf("is %d", m.ActivationQueueLength), Fix: "must not be negative"}
	}
	name, err := sqsQueueName(m.QueueURL)
	if err != nil {
		return err
	}
	m.QueueName = name
	if m.AwsEndpoint != "" {
		u, err := url.Parse(m.AwsEndpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &ParamError{Param: "awsEndpoint", Problem: strconv.Quote(Clip(m.AwsEndpoint, 100)) + " is not an http(s) URL",
				Fix: "use the endpoint's URL, such as https://sqs.eu-west-1.amazonaws.com or http://localstack:4566"}
		}
	}
	m.Attributes = []string{SQSAttrVisible}
	if m.ScaleOnInFlight {
		m.Attributes = append(m.Attributes, SQSAttrInFlight)
	}
	if m.ScaleOnDelayed {
		m.Attributes = append(m.Attributes, SQSAttrDelayed)
	}
	return nil
}

// sqsQueueName is the queue's name for the metric name. Like KEDA, a queueURL that is not an
// absolute URL is taken as the name itself, and a URL must have the /<account>/<name> path SQS
// gives its queues.
func sqsQueueName(queueURL string) (string, error) {
	u, err := url.ParseRequestURI(queueURL)
	if err != nil {
		return queueURL, nil
	}
	parts := strings.Split(u.Path, "/")
	if len(parts) != 3 || parts[2] == "" {
		return "", &ParamError{Param: "queueURL", Problem: strconv.Quote(Clip(queueURL, 200)) + " has no queue name in its path",
			Fix: "use the queue's URL as SQS shows it, https://sqs.<region>.amazonaws.com/<account id>/<queue name>"}
	}
	return parts[2], nil
}

// ValidateConfig reads the credentials, which KEDA takes from the TriggerAuthentication (and,
// deprecated, from the metadata and the target's env) outside the declared parameters.
func (m *AWSSQSQueueMetadata) ValidateConfig(cfg *Trigger) error {
	creds, err := awsCredentialParams(cfg)
	if err != nil {
		var pe *ParamError
		if errors.As(err, &pe) {
			pe.TriggerIndex, pe.TriggerType, pe.TriggerName = cfg.Index, cfg.Type, cfg.Name
		}
		return err
	}
	m.Creds = creds
	return nil
}

// AWSCredentials is how a trigger signs its requests: with static keys, with a role assumed
// from the operator's own identity, or as the operator itself (its environment, web identity
// token, or instance role: the SDK's default chain).
type AWSCredentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	RoleArn                                    string
}

func (c *AWSCredentials) Static() bool { return c.AccessKeyID != "" }

// Secrets are the texts no error may show.
func (c *AWSCredentials) Secrets() []string {
	var out []string
	for _, s := range []string{c.SecretAccessKey, c.SessionToken} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// awsCredentialParams reads the credentials as KEDA does: identityOwner operator uses the
// operator's own identity; otherwise (pod, or unset) awsRoleArn, else awsAccessKeyID (or
// awsAccessKeyId) with awsSecretAccessKey and an optional awsSessionToken from the
// TriggerAuthentication, else the deprecated metadata awsAccessKeyID or awsAccessKeyIDFromEnv
// with awsSecretAccessKeyFromEnv.
func awsCredentialParams(cfg *Trigger) (AWSCredentials, error) {
	var c AWSCredentials
	if strings.TrimSpace(cfg.Metadata["identityOwner"]) == "operator" {
		return c, nil
	}
	auth := cfg.AuthParams
	const fix = "set awsAccessKeyID and awsSecretAccessKey (or awsRoleArn) in the trigger's TriggerAuthentication, or identityOwner: operator to use the operator's own AWS identity"
	switch {
	case auth["awsRoleArn"] != "":
		c.RoleArn = auth["awsRoleArn"]
		return c, nil
	case auth["awsAccessKeyID"] != "" || auth["awsAccessKeyId"] != "":
		c.AccessKeyID = cmpOr(auth["awsAccessKeyID"], auth["awsAccessKeyId"])
		c.SecretAccessKey, c.SessionToken = auth["awsSecretAccessKey"], auth["awsSessionToken"]
		if c.SecretAccessKey == "" {
			return c, &ParamError{Param: "awsSecretAccessKey", Problem: "is required with awsAccessKeyID", Fix: "add awsSecretAccessKey to the TriggerAuthentication"}
		}
		return c, nil
	}
	meta := cfg.Metadata
	if cfg.Offline && (cfg.HasAuthenticationRef || meta["awsAccessKeyIDFromEnv"] != "" || meta["awsSecretAccessKeyFromEnv"] != "") {
		// Offline, the TriggerAuthentication or the target's env may hold them.
		return c, nil
	}
	c.AccessKeyID = strings.TrimSpace(meta["awsAccessKeyID"])
	if c.AccessKeyID == "" && meta["awsAccessKeyIDFromEnv"] != "" {
		c.AccessKeyID = cfg.ResolvedEnv[meta["awsAccessKeyIDFromEnv"]]
	}
	if c.AccessKeyID == "" {
		return c, &ParamError{Param: "awsAccessKeyID", Problem: "is required: the trigger has no AWS credentials", Fix: fix}
	}
	if name := meta["awsSecretAccessKeyFromEnv"]; name != "" {
		c.SecretAccessKey = cfg.ResolvedEnv[name]
	}
	if c.SecretAccessKey == "" {
		return c, &ParamError{Param: "awsSecretAccessKey", Problem: "is required with awsAccessKeyID",
			Fix: "add awsSecretAccessKey to a TriggerAuthentication (or name the target's env var holding it in awsSecretAccessKeyFromEnv)"}
	}
	return c, nil
}

// cmpOr is the first of a and b that is not empty.
func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
