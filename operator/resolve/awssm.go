package resolve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// AWSSecrets reads the secrets of spec.awsSecretManager from AWS Secrets Manager. Values are read
// again at every resolve, so a rotated secret reaches the scaler at the next resync; what is kept
// is one client per region and credentials.
//
// The operator's AWS configuration is the SDK's default one (AWS_REGION, the shared config files,
// the web identity token of EKS pod identity), so that the standard
// AWS_ENDPOINT_URL_SECRETS_MANAGER (or AWS_ENDPOINT_URL) points the operator at another endpoint,
// as it would KEDA's.
type AWSSecrets struct {
	// Timeout bounds each resolve's requests; 10s when zero.
	Timeout time.Duration
	// LoadConfig loads the operator's AWS configuration; the SDK's LoadDefaultConfig when nil.
	LoadConfig func(ctx context.Context) (aws.Config, error)

	baseMu sync.Mutex
	base   *aws.Config

	clients pool[*secretsmanager.Client]
}

// awsIdentity is whom a client signs as.
type awsIdentity struct {
	region                         string
	accessKeyID, secretKey, token  string
	podIdentity, roleArn, external string
}

func (i awsIdentity) parts() []string {
	return []string{i.region, i.accessKeyID, i.secretKey, i.token, i.podIdentity, i.roleArn, i.external}
}

// awsCredentials reads spec's credentials: the access key pair (and session token) from Secrets,
// or the operator's own identity for podIdentity aws.
func (r *Resolver) awsCredentials(ctx context.Context, objNamespace string, spec *kedav1alpha1.AwsSecretManager) (awsIdentity, error) {
	id := awsIdentity{region: spec.Region}
	provider := ""
	if spec.PodIdentity != nil {
		provider = spec.PodIdentity.Provider
	}
	switch provider {
	case "", "none":
		c := spec.Credentials
		if c == nil || c.AccessKey == nil || c.AccessSecretKey == nil {
			return id, fmt.Errorf("credentials: set credentials.accessKey and credentials.accessSecretKey (valueFrom.secretKeyRef), or podIdentity.provider aws")
		}
		var err error
		if id.accessKeyID, err = r.secretValue(ctx, objNamespace, c.AccessKey); err != nil {
			return id, fmt.Errorf("credentials.accessKey: %w", err)
		}
		if id.secretKey, err = r.secretValue(ctx, objNamespace, c.AccessSecretKey); err != nil {
			return id, fmt.Errorf("credentials.accessSecretKey: %w", err)
		}
		if c.AccessToken != nil {
			if id.token, err = r.secretValue(ctx, objNamespace, c.AccessToken); err != nil {
				return id, fmt.Errorf("credentials.accessToken: %w", err)
			}
		}
		if id.accessKeyID == "" || id.secretKey == "" {
			return id, fmt.Errorf("credentials: the Secret keys of accessKey and accessSecretKey must not be empty")
		}
	case "aws":
		pi := spec.PodIdentity
		if pi.IdentityOwner != nil && *pi.IdentityOwner == "workload" {
			return id, fmt.Errorf("podIdentity.identityOwner workload is not supported for awsSecretManager by this operator: remove identityOwner (the operator's identity), or set podIdentity.roleArn")
		}
		id.podIdentity = provider
		if pi.RoleArn != nil {
			id.roleArn = *pi.RoleArn
		}
		if pi.ExternalID != nil {
			id.external = *pi.ExternalID
		}
	default:
		return id, fmt.Errorf("podIdentity.provider %q is not supported for awsSecretManager: use aws, or none with credentials", provider)
	}
	return id, nil
}

// Resolve reads every secret of spec with the identity's client.
func (a *AWSSecrets) Resolve(ctx context.Context, id awsIdentity, spec *kedav1alpha1.AwsSecretManager) (map[string]string, error) {
	client, err := a.client(ctx, id)
	if err != nil {
		return nil, err
	}
	timeout := a.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out := make(map[string]string, len(spec.Secrets))
	for i, s := range spec.Secrets {
		in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.Name)}
		if s.VersionID != "" {
			in.VersionId = aws.String(s.VersionID)
		}
		if s.VersionStage != "" {
			in.VersionStage = aws.String(s.VersionStage)
		}
		res, err := client.GetSecretValue(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("secrets[%d] (parameter %s): failed to read secret %q: %w%s", i, s.Parameter, s.Name, err, awsHint(err))
		}
		if res.SecretString == nil {
			return nil, fmt.Errorf("secrets[%d] (parameter %s): secret %q holds binary data, not a string: store the value as SecretString", i, s.Parameter, s.Name)
		}
		v, err := secretJSONKey(*res.SecretString, s.SecretKey)
		if err != nil {
			return nil, fmt.Errorf("secrets[%d] (parameter %s): secret %q: %w", i, s.Parameter, s.Name, err)
		}
		out[s.Parameter] = v
	}
	return out, nil
}

// secretJSONKey returns the string at key of the JSON object secret, or secret itself when key is
// empty. Its errors never quote the secret.
func secretJSONKey(secret, key string) (string, error) {
	if key == "" {
		return secret, nil
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(secret), &obj); err != nil {
		return "", fmt.Errorf("secretKey %q is set but the secret is not a JSON object: remove secretKey to use the whole secret, or store it as JSON", key)
	}
	v, ok := obj[key]
	if !ok {
		return "", fmt.Errorf("the secret's JSON has no key %q: check secretKey", key)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("the secret's JSON key %q is not a string: store it as a JSON string", key)
	}
	return s, nil
}

// awsHint says how to fix the errors a TriggerAuthentication can cause.
func awsHint(err error) string {
	var nf *smtypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		return " (check the secret's name, versionId and versionStage, and spec.awsSecretManager.region)"
	}
	return ""
}

func (a *AWSSecrets) baseConfig(ctx context.Context) (aws.Config, error) {
	a.baseMu.Lock()
	defer a.baseMu.Unlock()
	if a.base != nil {
		return *a.base, nil
	}
	load := a.LoadConfig
	if load == nil {
		load = func(ctx context.Context) (aws.Config, error) { return awsconfig.LoadDefaultConfig(ctx) }
	}
	cfg, err := load(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("failed to load the operator's AWS configuration: %w", err)
	}
	// One HTTP client for every identity's client, so that they share the connection pool.
	cfg.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	a.base = &cfg
	return cfg, nil
}

func (a *AWSSecrets) client(ctx context.Context, id awsIdentity) (*secretsmanager.Client, error) {
	base, err := a.baseConfig(ctx)
	if err != nil {
		return nil, err
	}
	return a.clients.get(id.parts(), func() (*secretsmanager.Client, func(), error) {
		cfg := base.Copy()
		if id.region != "" {
			cfg.Region = id.region
		}
		if cfg.Region == "" {
			return nil, nil, fmt.Errorf("region: set spec.awsSecretManager.region (the operator has no AWS_REGION)")
		}
		switch {
		case id.podIdentity == "":
			cfg.Credentials = credentials.NewStaticCredentialsProvider(id.accessKeyID, id.secretKey, id.token)
		case id.roleArn != "":
			cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), id.roleArn, func(o *stscreds.AssumeRoleOptions) {
				if id.external != "" {
					o.ExternalID = aws.String(id.external)
				}
			}))
		}
		return secretsmanager.NewFromConfig(cfg), nil, nil
	})
}
