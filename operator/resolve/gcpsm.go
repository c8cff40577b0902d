package resolve

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

const (
	gcpSecretManagerEndpoint = "https://secretmanager.googleapis.com/"
	gcpCloudPlatformScope    = "https://www.googleapis.com/auth/cloud-platform"
	gcpDefaultTokenURI       = "https://oauth2.googleapis.com/token"
	gcpDefaultMetadataHost   = "169.254.169.254"
)

// GCPSecretManager reads the secrets of spec.gcpSecretManager through Secret Manager's REST API
// (accessSecretVersion), as a service account whose key is in a Secret (the JWT bearer grant at
// the key's own token_uri) or, for podIdentity gcp, as the operator's identity from the metadata
// server. Values are read again at every resolve; tokens are kept per identity until near expiry.
//
// CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER (gcloud's setting of the same name) points the
// operator at another endpoint, as CLOUDSDK_API_ENDPOINT_OVERRIDES_MONITORING does for the gcp-*
// scalers; GCE_METADATA_HOST and CLOUDSDK_CORE_PROJECT are read as Google's libraries read them.
type GCPSecretManager struct {
	// Timeout bounds each request; 10s when zero.
	Timeout time.Duration
	// Getenv reads the operator's environment; os.Getenv when nil.
	Getenv func(string) string

	once   sync.Once
	client *http.Client
	tokens pool[gcpSource]
}

// gcpSource is an identity's token source and project.
type gcpSource struct {
	tokens  oauth2.TokenSource
	project func(ctx context.Context) (string, error)
}

// gcpKey is what a service account key file holds that the JWT bearer grant needs.
type gcpKey struct {
	Type         string `json:"type"`
	ProjectID    string `json:"project_id"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	ClientEmail  string `json:"client_email"`
	TokenURI     string `json:"token_uri"`
}

func (g *GCPSecretManager) getenv(k string) string {
	if g.Getenv != nil {
		return g.Getenv(k)
	}
	return os.Getenv(k)
}

func (g *GCPSecretManager) httpClient() *http.Client {
	g.once.Do(func() {
		timeout := g.Timeout
		if timeout <= 0 {
			timeout = 10 * time.Second
		}
		g.client = &http.Client{Timeout: timeout, Transport: http.DefaultTransport.(*http.Transport).Clone()}
	})
	return g.client
}

// gcpKeyOf reads spec's service account key from its Secret; "" for podIdentity gcp.
func (r *Resolver) gcpKeyOf(ctx context.Context, objNamespace string, spec *kedav1alpha1.GCPSecretManager) (string, error) {
	provider := ""
	if spec.PodIdentity != nil {
		provider = spec.PodIdentity.Provider
	}
	switch provider {
	case "", "none":
		if spec.Credentials == nil {
			return "", fmt.Errorf("credentials: set credentials.clientSecret.valueFrom.secretKeyRef to the Secret key holding the service account's JSON key, or podIdentity.provider gcp")
		}
		key, err := r.secretValue(ctx, objNamespace, &spec.Credentials.ClientSecret)
		if err != nil {
			return "", fmt.Errorf("credentials.clientSecret: %w", err)
		}
		if key == "" {
			return "", fmt.Errorf("credentials.clientSecret: the Secret key is empty")
		}
		return key, nil
	case "gcp":
		return "", nil
	default:
		return "", fmt.Errorf("podIdentity.provider %q is not supported for gcpSecretManager: use gcp, or none with credentials", provider)
	}
}

// source returns the token source and project of a key file's service account, or of the
// metadata server's identity when keyJSON is "".
func (g *GCPSecretManager) source(keyJSON string) (gcpSource, error) {
	metadataHost := g.getenv("GCE_METADATA_HOST")
	if metadataHost == "" {
		metadataHost = gcpDefaultMetadataHost
	}
	parts := []string{keyJSON}
	if keyJSON == "" {
		parts = []string{"", metadataHost, g.getenv("CLOUDSDK_CORE_PROJECT")}
	}
	return g.tokens.get(parts, func() (gcpSource, func(), error) {
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, g.httpClient())
		if keyJSON == "" {
			return g.metadataSource(ctx, metadataHost), nil, nil
		}
		var k gcpKey
		if err := json.Unmarshal([]byte(keyJSON), &k); err != nil {
			return gcpSource{}, nil, fmt.Errorf("credentials.clientSecret: the Secret key does not hold a service account's JSON key")
		}
		switch {
		case k.Type != "service_account":
			return gcpSource{}, nil, fmt.Errorf("credentials.clientSecret: the JSON key's type is %q: use a service account key (type service_account)", k.Type)
		case k.ProjectID == "":
			return gcpSource{}, nil, fmt.Errorf("credentials.clientSecret: the JSON key has no project_id")
		case k.ClientEmail == "" || k.PrivateKey == "":
			return gcpSource{}, nil, fmt.Errorf("credentials.clientSecret: the JSON key has no client_email or private_key")
		}
		if k.TokenURI == "" {
			k.TokenURI = gcpDefaultTokenURI
		}
		if err := checkSecureURL(k.TokenURI); err != nil {
			return gcpSource{}, nil, fmt.Errorf("credentials.clientSecret: the JSON key's token_uri: %w", err)
		}
		conf := &jwt.Config{Email: k.ClientEmail, PrivateKey: []byte(k.PrivateKey), PrivateKeyID: k.PrivateKeyID,
			Scopes: []string{gcpCloudPlatformScope}, TokenURL: k.TokenURI}
		project := k.ProjectID
		return gcpSource{tokens: conf.TokenSource(ctx), project: func(context.Context) (string, error) { return project, nil }}, nil, nil
	})
}

// metadataSource serves the metadata server's default service account (the node's, or GKE's
// workload identity's) and the project CLOUDSDK_CORE_PROJECT names, or else the metadata server's.
func (g *GCPSecretManager) metadataSource(ctx context.Context, host string) gcpSource {
	get := func(ctx context.Context, path string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+host+"/computeMetadata/v1/"+path, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Metadata-Flavor", "Google")
		resp, err := g.httpClient().Do(req)
		if err != nil {
			return nil, fmt.Errorf("podIdentity gcp: failed to reach the metadata server: %w", err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		if err != nil || resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("podIdentity gcp: the metadata server answered %d to %s", resp.StatusCode, path)
		}
		return body, nil
	}
	fetch := tokenFunc(func() (*oauth2.Token, error) {
		body, err := get(ctx, "instance/service-accounts/default/token")
		if err != nil {
			return nil, err
		}
		var t struct {
			AccessToken string `json:"access_token"`
			ExpiresIn   int64  `json:"expires_in"`
			TokenType   string `json:"token_type"`
		}
		if err := json.Unmarshal(body, &t); err != nil || t.AccessToken == "" {
			return nil, fmt.Errorf("podIdentity gcp: the metadata server's token answer holds no token")
		}
		return &oauth2.Token{AccessToken: t.AccessToken, TokenType: t.TokenType, Expiry: time.Now().Add(time.Duration(t.ExpiresIn) * time.Second)}, nil
	})
	project := g.getenv("CLOUDSDK_CORE_PROJECT")
	return gcpSource{tokens: oauth2.ReuseTokenSource(nil, fetch), project: func(ctx context.Context) (string, error) {
		if project != "" {
			return project, nil
		}
		body, err := get(ctx, "project/project-id")
		if err != nil {
			return "", err
		}
		return strings.TrimSpace(string(body)), nil
	}}
}

// Resolve reads every secret of spec with the service account of keyJSON ("" for the metadata
// server's identity).
func (g *GCPSecretManager) Resolve(ctx context.Context, keyJSON string, spec *kedav1alpha1.GCPSecretManager) (map[string]string, error) {
	src, err := g.source(keyJSON)
	if err != nil {
		return nil, err
	}
	project, err := src.project(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := src.tokens.Token()
	if err != nil {
		return nil, fmt.Errorf("failed to get a Google access token: %w", tokenErr(err))
	}
	base := g.getenv("CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER")
	if base == "" {
		base = gcpSecretManagerEndpoint
	}
	out := make(map[string]string, len(spec.Secrets))
	for i, s := range spec.Secrets {
		version := s.Version
		if version == "" {
			version = "latest"
		}
		v, err := g.access(ctx, base, tok.AccessToken, project, s.ID, version)
		if err != nil {
			return nil, fmt.Errorf("secrets[%d] (parameter %s): secret %q version %s of project %s: %w", i, s.Parameter, s.ID, version, project, err)
		}
		out[s.Parameter] = v
	}
	return out, nil
}

// access calls accessSecretVersion and checks the payload's CRC32C.
func (g *GCPSecretManager) access(ctx context.Context, base, token, project, id, version string) (string, error) {
	u := strings.TrimSuffix(base, "/") + "/v1/projects/" + url.PathEscape(project) + "/secrets/" + url.PathEscape(id) + "/versions/" + url.PathEscape(version) + ":access"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := g.httpClient().Do(req)
	if err != nil {
		return "", fmt.Errorf("failed to reach Secret Manager: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("failed to read Secret Manager's answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Message, Status string
			} `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		hint := ""
		switch resp.StatusCode {
		case http.StatusNotFound:
			hint = " (check the secret's id and version in spec.gcpSecretManager.secrets)"
		case http.StatusForbidden:
			hint = " (grant the service account roles/secretmanager.secretAccessor on the secret)"
		}
		return "", fmt.Errorf("Secret Manager answered %d %s: %s%s", resp.StatusCode, e.Error.Status, clipText(e.Error.Message, 300), hint)
	}
	var res struct {
		Payload *struct {
			Data       string `json:"data"`
			DataCrc32C string `json:"dataCrc32c"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(body, &res); err != nil || res.Payload == nil {
		return "", fmt.Errorf("Secret Manager's answer has no payload")
	}
	data, err := base64.StdEncoding.DecodeString(res.Payload.Data)
	if err != nil {
		return "", fmt.Errorf("Secret Manager's payload is not base64")
	}
	if res.Payload.DataCrc32C != "" {
		want, err := strconv.ParseInt(res.Payload.DataCrc32C, 10, 64)
		if err != nil || int64(crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli))) != want {
			return "", fmt.Errorf("the payload's CRC32C does not match: the data was corrupted on the way")
		}
	}
	return string(data), nil
}
