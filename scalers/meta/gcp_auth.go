package meta

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

const (
	// GCPDefaultTokenURI is Google's token endpoint, for a key that names none.
	GCPDefaultTokenURI = "https://oauth2.googleapis.com/token"
	// gcpCredentialsAuthParam is the TriggerAuthentication parameter KEDA reads the key from.
	gcpCredentialsAuthParam = "GoogleApplicationCredentials"
	// gcpMaxKeyFileBytes bounds a key file read from disk; a service account key is about 2 KiB.
	gcpMaxKeyFileBytes = 64 << 10
)

// gcpAuthParams are the credential parameters every gcp-* trigger declares, with KEDA's names,
// and where the key comes from. KEDA reads the key itself outside its declared parameters
// (gcpCredentials): these two only exist so that the metadata keys are known.
type gcpAuthParams struct {
	Credentials            string `keda:"name=credentials, order=triggerMetadata;resolvedEnv, optional, secret"`
	CredentialsFromEnvFile string `keda:"name=credentialsFromEnvFile, order=triggerMetadata;resolvedEnv, optional"`

	// Set by ValidateConfig: where the service account key comes from; nil offline when a
	// TriggerAuthentication or the target's env may still supply it.
	Creds *GCPCredentialSource
}

// ValidateConfig finds the key, which KEDA reads from outside the declared parameters. Every
// gcp-* trigger's metadata embeds gcpAuthParams, and with it this check.
func (p *gcpAuthParams) ValidateConfig(cfg *Trigger) error {
	creds, err := gcpCredentials(cfg)
	if err != nil {
		return err
	}
	p.Creds = creds
	return nil
}

// GCPCredentialSource says where a trigger's key comes from, in KEDA's order of precedence.
type GCPCredentialSource struct {
	// Key is the key's JSON, from the TriggerAuthentication or an env var.
	Key []byte
	// File is the path of a key file, from an env var (read when the scaler is built).
	File string
	// From names the source in errors: never the key itself.
	From string
}

// gcpCredentials finds a trigger's service account key as KEDA does, first match wins:
// parameter GoogleApplicationCredentials of a TriggerAuthentication; the target's env var that
// metadata.credentialsFromEnv names; the key file whose path is in the env var that
// metadata.credentialsFromEnvFile names. Offline, where the TriggerAuthentication and the env
// are not at hand, nil means "may come later".
func gcpCredentials(cfg *Trigger) (*GCPCredentialSource, error) {
	perr := func(param, problem, fix string) error {
		return &ParamError{TriggerIndex: cfg.Index, TriggerType: cfg.Type, TriggerName: cfg.Name, Param: param, Problem: problem, Fix: fix}
	}
	if strings.TrimSpace(cfg.Metadata["credentials"]) != "" {
		// KEDA ignores a key written into the metadata; a key there is readable by anyone who
		// may read the ScaledObject, so it is refused rather than ignored.
		return nil, perr("credentials", "holds a value, which is never read: the key is required from a TriggerAuthentication or the target's env",
			"a service account key does not belong in the metadata: put it in a Secret and name it with GoogleApplicationCredentials in a TriggerAuthentication, or with metadata.credentialsFromEnv")
	}
	fromEnv := strings.TrimSpace(cfg.Metadata["credentialsFromEnv"])
	fromEnvFile := strings.TrimSpace(cfg.Metadata["credentialsFromEnvFile"])
	switch {
	case strings.TrimSpace(cfg.AuthParams[gcpCredentialsAuthParam]) != "":
		return &GCPCredentialSource{Key: []byte(cfg.AuthParams[gcpCredentialsAuthParam]), From: "parameter " + gcpCredentialsAuthParam + " of the TriggerAuthentication"}, nil
	case cfg.Offline && (cfg.HasAuthenticationRef || fromEnv != "" || fromEnvFile != ""):
		return nil, nil
	case fromEnv != "":
		v, ok := cfg.ResolvedEnv[fromEnv]
		if !ok || strings.TrimSpace(v) == "" {
			return nil, perr("credentialsFromEnv", "names env var "+strconv.Quote(fromEnv)+", which the target's container does not set",
				"set that variable to the service account's JSON key (from a Secret), or name the variable that holds it")
		}
		return &GCPCredentialSource{Key: []byte(v), From: "env var " + fromEnv + " (metadata.credentialsFromEnv)"}, nil
	case fromEnvFile != "":
		path, ok := cfg.ResolvedEnv[fromEnvFile]
		if !ok || strings.TrimSpace(path) == "" {
			return nil, perr("credentialsFromEnvFile", "names env var "+strconv.Quote(fromEnvFile)+", which the target's container does not set",
				"set that variable to the path of the service account's JSON key file, or name the variable that holds it")
		}
		return &GCPCredentialSource{File: path, From: "key file " + strconv.Quote(path) + " (metadata.credentialsFromEnvFile)"}, nil
	}
	return nil, perr(gcpCredentialsAuthParam, "is required: the trigger has no GCP credentials",
		"set parameter GoogleApplicationCredentials (the service account's JSON key, from a Secret) in a TriggerAuthentication, or metadata.credentialsFromEnv naming an env var of the target's container that holds it, or credentialsFromEnvFile; pod identity gcp is not supported by this operator (podIdentity gcp gives no key)")
}

// Read returns the key's JSON, reading the key file if the key is one. The operator reads the
// file from its own filesystem, as KEDA's operator does, bounded.
func (c *GCPCredentialSource) Read() ([]byte, error) {
	if c.File == "" {
		return c.Key, nil
	}
	f, err := os.Open(c.File)
	if err != nil {
		return nil, fmt.Errorf("could not open the %s: mount it into the operator's pod at that path: %w", c.From, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, gcpMaxKeyFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("could not read the %s: %w", c.From, err)
	}
	if len(data) > gcpMaxKeyFileBytes {
		return nil, fmt.Errorf("the %s is larger than %d KiB, which no service account key is", c.From, gcpMaxKeyFileBytes>>10)
	}
	return data, nil
}
