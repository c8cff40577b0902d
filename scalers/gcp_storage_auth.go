package scalers

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"
)

// The GCP triggers authenticate as a service account, from the JSON key Google issues for it.
// KEDA hands that key to Google's client libraries; here the two-legged OAuth flow they run for a
// service account key (a JWT signed with the key, exchanged at the key's token_uri for an access
// token) is x/oauth2's jwt package, already a dependency, instead of golang.org/x/oauth2/google
// and the metadata-server client it pulls in for identities this operator does not resolve.

// gcsAuthParams are the credential parameters KEDA declares on every GCP trigger. KEDA reads the
// credentials themselves outside its declared parameters (gcsCredentialsFor): these two only
// exist so that the metadata keys are known.
type gcsAuthParams struct {
	Credentials            string `keda:"name=credentials, order=triggerMetadata;resolvedEnv, optional, secret"`
	CredentialsFromEnvFile string `keda:"name=credentialsFromEnvFile, order=triggerMetadata;resolvedEnv, optional"`
}

// gcsDefaultTokenURI is Google's token endpoint, for a key that names none.
const gcsDefaultTokenURI = "https://oauth2.googleapis.com/token"

// gcsMaxKeyFileBytes bounds a key file read through credentialsFromEnvFile: a key is a few KiB.
const gcsMaxKeyFileBytes = 1 << 20

// gcsCredentials is where a trigger's service account key came from, and the key once read.
type gcsCredentials struct {
	// source names where the key came from, for errors: never the key itself.
	source string
	// json is the key's text; empty until read (a key file is read when the scaler is built).
	json string
	// file is the key file's path, from the env var credentialsFromEnvFile names.
	file string
}

// gcsCredentialsFor finds a trigger's service account key as KEDA does, first match wins:
// parameter GoogleApplicationCredentials of a TriggerAuthentication; the target's env var that
// metadata.credentialsFromEnv names; the key file whose path is in the env var that
// metadata.credentialsFromEnvFile names. Offline, where the TriggerAuthentication and the env
// are not at hand, nil means "may come later".
func gcsCredentialsFor(cfg *Config) (*gcsCredentials, error) {
	perr := func(param, problem, fix string) error {
		return &ParamError{TriggerIndex: cfg.TriggerIndex, TriggerType: cfg.TriggerType, TriggerName: cfg.TriggerName, Param: param, Problem: problem, Fix: fix}
	}
	fromEnv := strings.TrimSpace(cfg.TriggerMetadata["credentialsFromEnv"])
	fromEnvFile := strings.TrimSpace(cfg.TriggerMetadata["credentialsFromEnvFile"])
	switch {
	case cfg.AuthParams["GoogleApplicationCredentials"] != "":
		return &gcsCredentials{source: "parameter GoogleApplicationCredentials of the TriggerAuthentication", json: cfg.AuthParams["GoogleApplicationCredentials"]}, nil
	case cfg.Offline && (cfg.HasAuthenticationRef || fromEnv != "" || fromEnvFile != ""):
		return nil, nil
	case fromEnv != "":
		v, ok := cfg.ResolvedEnv[fromEnv]
		if !ok || strings.TrimSpace(v) == "" {
			return nil, perr("credentialsFromEnv", "names env var "+strconv.Quote(fromEnv)+", which the target's container does not set",
				"set that variable to the service account's JSON key, or name the variable that holds it")
		}
		return &gcsCredentials{source: "env var " + fromEnv + " (metadata.credentialsFromEnv)", json: v}, nil
	case fromEnvFile != "":
		path, ok := cfg.ResolvedEnv[fromEnvFile]
		if !ok || strings.TrimSpace(path) == "" {
			return nil, perr("credentialsFromEnvFile", "names env var "+strconv.Quote(fromEnvFile)+", which the target's container does not set",
				"set that variable to the path of the service account's JSON key file")
		}
		return &gcsCredentials{source: "key file " + path + " (metadata.credentialsFromEnvFile)", file: path}, nil
	}
	return nil, perr("GoogleApplicationCredentials", "is required: the trigger has no GCP credentials",
		"set parameter GoogleApplicationCredentials (the service account's JSON key) in a TriggerAuthentication (secretTargetRef), or metadata.credentialsFromEnv naming an env var of the target's container that holds it; podIdentity gcp is not resolved by this operator")
}

// read returns the key's text, reading the key file if the key is one. The operator reads the
// file from its own filesystem, as KEDA's operator does.
func (c *gcsCredentials) read() (string, error) {
	if c.file == "" {
		return c.json, nil
	}
	f, err := os.Open(c.file)
	if err != nil {
		return "", fmt.Errorf("could not open the %s: mount it into the operator's pod at that path: %w", c.source, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, gcsMaxKeyFileBytes+1))
	if err != nil {
		return "", fmt.Errorf("could not read the %s: %w", c.source, err)
	}
	if len(data) > gcsMaxKeyFileBytes {
		return "", fmt.Errorf("the %s is larger than %d KiB, which no service account key is", c.source, gcsMaxKeyFileBytes>>10)
	}
	return string(data), nil
}

// gcsServiceAccountKey is the part of a service account's JSON key the token exchange needs.
type gcsServiceAccountKey struct {
	Type         string `json:"type"`
	ClientEmail  string `json:"client_email"`
	PrivateKey   string `json:"private_key"`
	PrivateKeyID string `json:"private_key_id"`
	TokenURI     string `json:"token_uri"`
}

// parseGCSServiceAccountKey reads a service account's JSON key, refusing other credential types
// as KEDA does (it asks Google's library for a service account key). No error quotes the key.
func parseGCSServiceAccountKey(text string) (*gcsServiceAccountKey, error) {
	var k gcsServiceAccountKey
	if err := json.Unmarshal([]byte(text), &k); err != nil {
		return nil, errors.New("it is not JSON: use the whole JSON key downloaded for the service account (IAM > Service accounts > Keys)")
	}
	switch {
	case k.Type != "service_account":
		return nil, fmt.Errorf("its type is %s, not service_account: use a service account's JSON key", strconv.Quote(clip(k.Type, 40)))
	case k.ClientEmail == "":
		return nil, errors.New("it has no client_email: use the whole JSON key downloaded for the service account")
	case k.PrivateKey == "":
		return nil, errors.New("it has no private_key: use the whole JSON key downloaded for the service account")
	}
	if err := checkRSAPrivateKey(k.PrivateKey); err != nil {
		return nil, err
	}
	if k.TokenURI == "" {
		k.TokenURI = gcsDefaultTokenURI
	}
	if u, err := url.Parse(k.TokenURI); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("its token_uri is not an http(s) URL: use the key as Google issued it")
	}
	return &k, nil
}

// checkRSAPrivateKey checks that pemText is an RSA private key in PEM, as the token exchange
// signs with, so that a damaged key fails when the trigger is built rather than at each poll.
func checkRSAPrivateKey(pemText string) error {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return errors.New("its private_key is not PEM: keep the -----BEGIN PRIVATE KEY----- text, with its \\n line breaks, as Google issued it")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		if _, ok := k.(*rsa.PrivateKey); !ok {
			return errors.New("its private_key is not an RSA key: use the key as Google issued it")
		}
		return nil
	}
	if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
		return errors.New("its private_key is not a readable RSA private key: use the key as Google issued it")
	}
	return nil
}

// gcsTokenSource returns the access tokens of a service account key for scope, shared through
// pool with every trigger that uses the same key for the same scope, so that they share one
// cached token. Tokens are fetched over transport, each fetch bounded by timeout.
func gcsTokenSource(pool *ClientPool, k *gcsServiceAccountKey, scope string, transport http.RoundTripper, timeout time.Duration) (oauth2.TokenSource, func(), error) {
	parts := []any{k.ClientEmail, k.PrivateKeyID, k.PrivateKey, k.TokenURI, scope}
	return acquirePooled(pool, "gcs-token", parts, func() (oauth2.TokenSource, func(), error) {
		conf := &jwt.Config{Email: k.ClientEmail, PrivateKey: []byte(k.PrivateKey), PrivateKeyID: k.PrivateKeyID,
			Scopes: []string{scope}, TokenURL: k.TokenURI}
		// The token source keeps this context for every fetch: only its HTTP client matters.
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: transport, Timeout: timeout})
		return conf.TokenSource(ctx), nil, nil
	})
}

// gcsTokenError words a failed token exchange: the token endpoint's refusal names the key's
// account (not secret) and what to check.
func gcsTokenError(k *gcsServiceAccountKey, source string, err error) error {
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
		return fmt.Errorf("%s refused a token for service account %s (%d %s): check that the key in the %s is not deleted or disabled",
			k.TokenURI, k.ClientEmail, re.Response.StatusCode, clip(reason, 160), source)
	}
	return fmt.Errorf("could not get a token for service account %s from %s: %v", k.ClientEmail, k.TokenURI, clipErr(err, 300))
}
