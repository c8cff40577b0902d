package meta

import (
	"errors"
	"net/url"
	"strings"
)

// AWSAuth is the part every aws-* trigger shares: the region, an optional endpoint and the
// identity its requests are signed with. The credentials are not tagged: KEDA reads them outside
// its declared parameters (see awsCredentialParams), so they are not in its schema either.
type AWSAuth struct {
	AwsRegion     string `keda:"name=awsRegion, order=triggerMetadata;authParams"`
	AwsEndpoint   string `keda:"name=awsEndpoint, order=triggerMetadata, optional"`
	IdentityOwner string `keda:"name=identityOwner, order=triggerMetadata, optional, enum=pod;operator"`

	// Set by ValidateConfig.
	Creds AWSCredentials
}

// CheckEndpoint refuses an awsEndpoint that is not an http(s) URL; the triggers' Validate call it.
func (m *AWSAuth) CheckEndpoint() error {
	if m.AwsEndpoint == "" {
		return nil
	}
	u, err := url.Parse(m.AwsEndpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &ParamError{Param: "awsEndpoint", Problem: Quote(m.AwsEndpoint, 100) + " is not an http(s) URL",
			Fix: "use the endpoint's URL, such as https://sqs.eu-west-1.amazonaws.com or http://localstack:4566"}
	}
	return nil
}

// ValidateConfig reads the credentials, which KEDA takes from the TriggerAuthentication (and,
// deprecated, from the metadata and the target's env) outside the declared parameters.
func (m *AWSAuth) ValidateConfig(cfg *Trigger) error {
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
