package scalers

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/kedactl/kedactl/scalers/meta"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"
)

// Every gcp-* trigger authenticates as a service account, from the JSON key Google issues for
// it. KEDA hands that key to Google's client libraries; here the two-legged OAuth flow they run
// for a service account key (a JWT signed with the key, exchanged at the key's token_uri for an
// access token: the JWT bearer grant of Google's OAuth 2.0 server) is x/oauth2's jwt package,
// instead of golang.org/x/oauth2/google and the metadata-server client it pulls in for
// identities this operator does not resolve.

// gcpNoCredentials is the build error of a trigger whose key was not found: only offline, where
// the TriggerAuthentication or the env may supply it later, is a trigger validated without one.
func gcpNoCredentials(cfg *Config) error {
	return fmt.Errorf("%s: no GCP credentials were found: set parameter GoogleApplicationCredentials in the TriggerAuthentication or metadata.credentialsFromEnv", triggerWho(cfg))
}

// gcpServiceAccount is the part of a service account key the triggers read.
type gcpServiceAccount struct {
	Type         string `json:"type"`
	ProjectID    string `json:"project_id"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	ClientEmail  string `json:"client_email"`
	TokenURI     string `json:"token_uri"`
}

// parseGCPServiceAccount reads a service account key, refusing other credential types as KEDA
// does (it asks Google's library for a service account key), and checks its private key so that
// a damaged key fails when the trigger is built rather than at each poll. Errors complete "the
// key ...": they say what is wrong with it, never what it holds.
func parseGCPServiceAccount(key []byte) (*gcpServiceAccount, error) {
	const whole = "use the whole JSON key downloaded for the service account (IAM > Service accounts > Keys, or `gcloud iam service-accounts keys create`)"
	var sa gcpServiceAccount
	if err := json.Unmarshal(key, &sa); err != nil {
		return nil, errors.New("is not a service account key's JSON (not JSON at all): " + whole)
	}
	switch {
	case sa.Type != "service_account":
		return nil, fmt.Errorf("has type %s, not service_account: only service account keys are supported: %s", meta.Quote(sa.Type, 40), whole)
	case sa.ClientEmail == "":
		return nil, errors.New("lacks client_email or private_key (it has no client_email): " + whole)
	case sa.PrivateKey == "":
		return nil, errors.New("lacks client_email or private_key (it has no private_key): " + whole)
	}
	if sa.TokenURI == "" {
		sa.TokenURI = meta.GCPDefaultTokenURI
	}
	if u, err := url.Parse(sa.TokenURI); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("has a token_uri that is not an http(s) URL: use the key as Google issued it")
	}
	if err := checkRSAPrivateKey(sa.PrivateKey); err != nil {
		return nil, err
	}
	return &sa, nil
}

// checkRSAPrivateKey checks that pemText is an RSA private key in PEM, as the token exchange
// signs with.
func checkRSAPrivateKey(pemText string) error {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return errors.New("has a private_key that is not PEM: keep the -----BEGIN PRIVATE KEY----- text, with its \\n line breaks, as Google issued it")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		if _, ok := k.(*rsa.PrivateKey); !ok {
			return errors.New("has a private_key that is not an RSA key: use the key as Google issued it")
		}
		return nil
	}
	if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
		return errors.New("has a private_key that is not a readable RSA private key: use the key as Google issued it")
	}
	return nil
}

// gcpTokens are the access tokens of one trigger's service account key for one scope.
type gcpTokens struct {
	sa *gcpServiceAccount
	// from names the key's source in errors.
	from string
	// source is shared through the client pool by every trigger with the same key and scope,
	// so that they share one cached token.
	source  oauth2.TokenSource
	release func()
}

// newGCPTokens reads and checks the key src names, keeps it out of hc's errors, and takes the
// pooled token source of (key, scope); tokens are fetched over hc's transport, each fetch
// bounded by hc's timeout. It does no I/O except reading a key file.
func newGCPTokens(cfg *Config, src *meta.GCPCredentialSource, scope string, hc *httpClient) (*gcpTokens, error) {
	if src == nil {
		return nil, gcpNoCredentials(cfg)
	}
	key, err := src.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", triggerWho(cfg), err)
	}
	sa, err := parseGCPServiceAccount(key)
	if err != nil {
		return nil, fmt.Errorf("%s: the service account key in %s %w", triggerWho(cfg), src.From, err)
	}
	// Nothing of the key may appear in an error, even if a server echoes it.
	escaped, _ := json.Marshal(sa.PrivateKey) // a string: Marshal cannot fail
	hc.secrets = append(hc.secrets, sa.PrivateKey, strings.Trim(string(escaped), `"`), string(key))
	slices.SortFunc(hc.secrets, func(a, b string) int { return len(b) - len(a) })
	transport, timeout := hc.client.Transport, hc.timeout
	parts := []any{sa.ClientEmail, sa.PrivateKeyID, sa.PrivateKey, sa.TokenURI, scope}
	source, release, err := acquirePooled(cfg.Clients, "gcp-token", parts, func() (oauth2.TokenSource, func(), error) {
		conf := &jwt.Config{Email: sa.ClientEmail, PrivateKey: []byte(sa.PrivateKey), PrivateKeyID: sa.PrivateKeyID,
			Scopes: []string{scope}, TokenURL: sa.TokenURI}
		// The token source outlives any one poll and keeps this context for every fetch: only
		// its HTTP client matters.
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: transport, Timeout: timeout})
		return conf.TokenSource(ctx), nil, nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", triggerWho(cfg), err)
	}
	return &gcpTokens{sa: sa, from: src.From, source: source, release: release}, nil
}

// token is an access token for the next request; errors say whether the token endpoint refused
// the key (naming the key's account, which is not secret) or could not be reached, never what
// the key or the token is.
func (t *gcpTokens) token(cfg *Config, hc *httpClient) (string, error) {
	tok, err := t.source.Token()
	if err == nil {
		return tok.AccessToken, nil
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		// Google's token endpoint says why in {"error":"invalid_grant","error_description":"..."};
		// neither field echoes the assertion.
		var said struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(re.Body, &said)
		reason := strings.Join(strings.Fields(strings.TrimSuffix(said.Error+": "+said.Description, ": ")), " ")
		if strings.Trim(reason, ": ") == "" {
			reason = http.StatusText(re.Response.StatusCode)
		}
		return "", hc.redactErr(fmt.Errorf("%s: the token endpoint %s (token_uri of the service account key in %s) refused the key: it refused a token for service account %s (%d %s): check that the key is current, not deleted or disabled",
			triggerWho(cfg), t.sa.TokenURI, t.from, t.sa.ClientEmail, re.Response.StatusCode, meta.Clip(reason, 160)))
	}
	return "", hc.redactErr(fmt.Errorf("%s: could not get an access token for service account %s from %s (token_uri of the service account key in %s): %w",
		triggerWho(cfg), t.sa.ClientEmail, t.sa.TokenURI, t.from, clipErr(err, 300)))
}

func (t *gcpTokens) close() {
	t.release()
}
