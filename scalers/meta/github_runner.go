package meta

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// GithubRunnerMetadata is the github-runner trigger's metadata, with KEDA's parameter names.
type GithubRunnerMetadata struct {
	GithubAPIURL                           string   `keda:"name=githubApiURL, order=triggerMetadata;resolvedEnv, default=https://api.github.com"`
	Owner                                  string   `keda:"name=owner, order=triggerMetadata;resolvedEnv"`
	RunnerScope                            string   `keda:"name=runnerScope, order=triggerMetadata;resolvedEnv, enum=org;ent;repo"`
	PersonalAccessToken                    string   `keda:"name=personalAccessToken, order=authParams, optional, secret"`
	Repos                                  []string `keda:"name=repos, order=triggerMetadata;resolvedEnv, optional"`
	Labels                                 []string `keda:"name=labels, order=triggerMetadata;resolvedEnv, optional"`
	NoDefaultLabels                        bool     `keda:"name=noDefaultLabels, order=triggerMetadata;resolvedEnv, default=false"`
	EnableEtags                            bool     `keda:"name=enableEtags, order=triggerMetadata;resolvedEnv, default=false"`
	MatchUnlabeledJobsWithUnlabeledRunners bool     `keda:"name=matchUnlabeledJobsWithUnlabeledRunners, order=triggerMetadata;resolvedEnv, default=false"`
	TargetWorkflowQueueLength              int64    `keda:"name=targetWorkflowQueueLength, order=triggerMetadata;resolvedEnv, default=1"`
	ApplicationID                          int64    `keda:"name=applicationID, order=triggerMetadata;resolvedEnv, optional"`
	InstallationID                         int64    `keda:"name=installationID, order=triggerMetadata;resolvedEnv, optional"`
	AppKey                                 string   `keda:"name=appKey, order=authParams, optional, secret"`
	// The authentication parameters every HTTP scaler shares; KEDA takes only authModes bearer
	// here (bearerToken or token, else personalAccessToken), and ca for a GitHub Enterprise
	// Server with a private CA.
	HTTPAuthParams

	// Set by Validate.
	APIURL        *url.URL
	Auth          *HTTPAuth
	AppPrivateKey *rsa.PrivateKey
}

// Validate checks what the metadata alone decides.
func (m *GithubRunnerMetadata) Validate() error {
	u, err := httpURL("githubApiURL", m.GithubAPIURL, "https://api.github.com or https://ghe.example.com/api/v3")
	if err != nil {
		return err
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	m.APIURL = u
	if m.TargetWorkflowQueueLength < 1 {
		return &ParamError{Param: "targetWorkflowQueueLength", Problem: fmt.Sprintf("is %d", m.TargetWorkflowQueueLength),
			Fix: "must be at least 1: it is the number of waiting jobs per runner the HPA aims at"}
	}
	bearer := false
	for _, list := range []struct {
		param string
		modes []string
	}{{"authModes", m.AuthModes}, {"authMode", m.AuthMode}} {
		for _, mode := range list.modes {
			if mode != AuthModeBearer {
				return &ParamError{Param: list.param, Problem: "has " + strconv.Quote(mode),
					Fix: "the github-runner trigger takes only bearer (a token), or a personalAccessToken or GitHub App credentials without authModes"}
			}
			bearer = true
		}
	}
	if m.ApplicationID < 0 {
		return &ParamError{Param: "applicationID", Problem: fmt.Sprintf("is %d", m.ApplicationID), Fix: "use the GitHub App's ID from its settings page"}
	}
	if m.InstallationID < 0 {
		return &ParamError{Param: "installationID", Problem: fmt.Sprintf("is %d", m.InstallationID), Fix: "use the ID of the App's installation on the owner"}
	}
	if m.ApplicationID != 0 || m.InstallationID != 0 || m.AppKey != "" {
		for _, p := range []struct {
			name string
			set  bool
			how  string
		}{
			{"applicationID", m.ApplicationID != 0, "metadata.applicationID"},
			{"installationID", m.InstallationID != 0, "metadata.installationID"},
			{"appKey", m.AppKey != "", "parameter appKey (the App's private key, PEM) in the TriggerAuthentication"},
		} {
			if !p.set {
				return &ParamError{Param: p.name, Problem: "is required for GitHub App authentication", Fix: "set " + p.how + ", or use a personalAccessToken instead of applicationID, installationID and appKey"}
			}
		}
		key, err := parseGitHubAppKey(m.AppKey)
		if err != nil {
			return &ParamError{Param: "appKey", Problem: "is not an RSA private key in PEM (" + err.Error() + ")",
				Fix: "put the PEM file the GitHub App's settings page generated, whole, in the TriggerAuthentication's appKey parameter"}
		}
		m.AppPrivateKey = key
		// The App's token wins over any other credential, as in KEDA; ca still applies.
		p := m.HTTPAuthParams
		p.AuthModes, p.AuthMode = nil, nil
		m.Auth, err = p.Validate()
		return err
	}
	// KEDA's bridge: a personalAccessToken is the bearer token, with authModes bearer or without
	// authModes.
	p := m.HTTPAuthParams
	if bearer && p.BearerToken == "" && p.Token == "" {
		p.BearerToken = m.PersonalAccessToken
	}
	if !bearer && m.PersonalAccessToken != "" {
		p.AuthModes, p.BearerToken = []string{AuthModeBearer}, m.PersonalAccessToken
	}
	if len(p.AuthModes)+len(p.AuthMode) == 0 {
		return &ParamError{Param: "personalAccessToken", Problem: "is required (or appKey with applicationID and installationID)",
			Fix: "set parameter personalAccessToken in a TriggerAuthentication (secretTargetRef to a Secret holding the token)"}
	}
	m.Auth, err = p.Validate()
	return err
}

// parseGitHubAppKey reads a GitHub App's private key: PKCS #1 as GitHub generates it, or PKCS #8.
func parseGitHubAppKey(text string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(text)))
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("neither PKCS #1 nor PKCS #8")
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("not an RSA key")
	}
	return rk, nil
}
