package scalers

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
)

// githubTestKey is a GitHub App key for the parsing tests, PKCS #1 and PKCS #8.
func githubTestKey(t *testing.T) (*rsa.PrivateKey, string, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 1024) //nolint:gosec // a test key
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return key, string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}))
}

func TestParseGitHubRunnerMetadata(t *testing.T) {
	const pat = "ghp_secret-never-in-errors"
	_, pkcs1, pkcs8 := githubTestKey(t)
	base := func(extra ...string) map[string]string {
		m := map[string]string{"owner": "acme", "runnerScope": "org"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	withPAT := map[string]string{"personalAccessToken": pat}
	tests := []parseCase[meta.GithubRunnerMetadata]{
		{name: "defaults", meta: base(), auth: withPAT, check: func(t *testing.T, m *meta.GithubRunnerMetadata) {
			if m.APIURL.String() != "https://api.github.com" || m.TargetWorkflowQueueLength != 1 || m.NoDefaultLabels || m.EnableEtags ||
				m.MatchUnlabeledJobsWithUnlabeledRunners || m.Repos != nil || m.Labels != nil || m.AppPrivateKey != nil {
				t.Errorf("parsed %+v", m)
			}
			if !m.Auth.Has(meta.AuthModeBearer) || m.Auth.BearerToken != pat {
				t.Errorf("a personalAccessToken is the bearer token, got %+v", m.Auth)
			}
		}},
		{name: "everything", meta: base("githubApiURL", "https://ghe.example.com/api/v3/", "runnerScope", "repo", "repos", "api, web", "labels", "gpu,arm64",
			"noDefaultLabels", "true", "enableEtags", "true", "matchUnlabeledJobsWithUnlabeledRunners", "true", "targetWorkflowQueueLength", "3"), auth: withPAT,
			check: func(t *testing.T, m *meta.GithubRunnerMetadata) {
				if m.APIURL.String() != "https://ghe.example.com/api/v3" || m.RunnerScope != "repo" || strings.Join(m.Repos, "|") != "api|web" ||
					strings.Join(m.Labels, "|") != "gpu|arm64" || !m.NoDefaultLabels || !m.EnableEtags || !m.MatchUnlabeledJobsWithUnlabeledRunners || m.TargetWorkflowQueueLength != 3 {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "from the target's env", meta: map[string]string{"ownerFromEnv": "OWNER", "runnerScopeFromEnv": "SCOPE", "reposFromEnv": "REPOS"}, auth: withPAT,
			env: map[string]string{"OWNER": "acme", "SCOPE": "ent", "REPOS": "a,b"}, check: func(t *testing.T, m *meta.GithubRunnerMetadata) {
				if m.Owner != "acme" || m.RunnerScope != "ent" || len(m.Repos) != 2 {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "authModes bearer with bearerToken", meta: base("authModes", "bearer"), auth: map[string]string{"bearerToken": "b", "personalAccessToken": pat},
			check: func(t *testing.T, m *meta.GithubRunnerMetadata) {
				if m.Auth.BearerToken != "b" {
					t.Errorf("bearer token %q, want bearerToken's", m.Auth.BearerToken)
				}
			}},
		{name: "authModes bearer with personalAccessToken only", meta: base("authModes", "bearer"), auth: withPAT,
			check: func(t *testing.T, m *meta.GithubRunnerMetadata) {
				if m.Auth.BearerToken != pat {
					t.Errorf("bearer token %q, want personalAccessToken's", m.Auth.BearerToken)
				}
			}},
		{name: "GitHub App, PKCS #1", meta: base("applicationID", "12", "installationID", "34"), auth: map[string]string{"appKey": pkcs1},
			check: func(t *testing.T, m *meta.GithubRunnerMetadata) {
				if m.AppPrivateKey == nil || m.ApplicationID != 12 || m.InstallationID != 34 || len(m.Auth.Modes) != 0 {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "GitHub App, PKCS #8, wins over a token", meta: base("applicationID", "12", "installationID", "34"), auth: map[string]string{"appKey": pkcs8, "personalAccessToken": pat},
			check: func(t *testing.T, m *meta.GithubRunnerMetadata) {
				if m.AppPrivateKey == nil || len(m.Auth.Modes) != 0 {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "offline: the token may come later", meta: base(), offline: true, check: func(*testing.T, *meta.GithubRunnerMetadata) {}},
		{name: "offline: the App key may come later", meta: base("applicationID", "12", "installationID", "34"), offline: true, check: func(*testing.T, *meta.GithubRunnerMetadata) {}},

		{name: "no credential", meta: base(), wantErr: []string{"trigger 0 (github-runner)", "metadata.personalAccessToken", "is required", "TriggerAuthentication"}},
		{name: "missing owner", meta: map[string]string{"runnerScope": "org"}, auth: withPAT, wantErr: []string{"metadata.owner", "is required"}},
		{name: "missing runnerScope", meta: map[string]string{"owner": "acme"}, auth: withPAT, wantErr: []string{"metadata.runnerScope", "is required"}},
		{name: "unknown runnerScope", meta: base("runnerScope", "team"), auth: withPAT, wantErr: []string{"metadata.runnerScope", `"team"`, "org, ent, repo"}},
		{name: "githubApiURL without scheme", meta: base("githubApiURL", "api.github.com"), auth: withPAT, wantErr: []string{"metadata.githubApiURL", "not an http(s) URL"}},
		{name: "target 0", meta: base("targetWorkflowQueueLength", "0"), auth: withPAT, wantErr: []string{"metadata.targetWorkflowQueueLength", "at least 1"}},
		{name: "target not a number", meta: base("targetWorkflowQueueLength", "two"), auth: withPAT, wantErr: []string{"metadata.targetWorkflowQueueLength", "whole number"}},
		{name: "bad boolean", meta: base("enableEtags", "yes please"), auth: withPAT, wantErr: []string{"metadata.enableEtags", "true or false"}},
		{name: "applicationID not a number", meta: base("applicationID", "my-app"), auth: withPAT, wantErr: []string{"metadata.applicationID", "whole number"}},
		{name: "App without installationID", meta: base("applicationID", "12"), auth: map[string]string{"appKey": pkcs1}, wantErr: []string{"metadata.installationID", "is required for GitHub App"}},
		{name: "App without key", meta: base("applicationID", "12", "installationID", "34"), auth: withPAT, wantErr: []string{"metadata.appKey", "is required for GitHub App"}},
		{name: "App key not PEM", meta: base("applicationID", "12", "installationID", "34"), auth: map[string]string{"appKey": "not-a-key-never-in-errors"},
			wantErr: []string{"metadata.appKey", "not an RSA private key"}},
		{name: "authModes other than bearer", meta: base("authModes", "basic"), auth: map[string]string{"username": "u", "password": pat}, wantErr: []string{"metadata.authModes", `"basic"`, "only bearer"}},
		{name: "authModes bearer without any token", meta: base("authModes", "bearer"), wantErr: []string{"bearerToken", "is required for authModes bearer"}},
	}
	runParseCases(t, "github-runner", tests, pat, "not-a-key-never-in-errors", "PRIVATE KEY")
}

// TestGitHubRunnerMetricName: s<index>-github-runner-<owner>, normalized as KEDA does, with
// targetWorkflowQueueLength as the target and metricType honoured.
func TestGitHubRunnerMetricName(t *testing.T) {
	s, err := New(t.Context(), &Config{TriggerType: "github-runner", TriggerIndex: 2, MetricType: "Value",
		TriggerMetadata: map[string]string{"owner": "my.org", "runnerScope": "org", "targetWorkflowQueueLength": "5"}, AuthParams: map[string]string{"personalAccessToken": "t"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(t.Context())
	spec := s.GetMetricSpecForScaling(t.Context())
	if len(spec) != 1 || spec[0].External.Metric.Name != "s2-github-runner-my-org" || spec[0].External.Target.Value == nil || spec[0].External.Target.Value.Value() != 5 {
		t.Errorf("metric spec %+v", spec)
	}
}

// TestGitHubRunnerLabels: which jobs a runner with the trigger's labels takes.
func TestGitHubRunnerLabels(t *testing.T) {
	for _, c := range []struct {
		labels             []string
		noDefault, unlabel bool
		job                []string
		want               bool
	}{
		{nil, false, false, nil, true},
		{nil, false, false, []string{"self-hosted", "linux", "x64"}, true},
		{nil, false, false, []string{"SELF-HOSTED", "Linux"}, true},
		{nil, false, false, []string{"self-hosted", "gpu"}, false},
		{[]string{"gpu"}, false, false, []string{"self-hosted", "gpu"}, true},
		{[]string{"gpu"}, true, false, []string{"self-hosted", "gpu"}, false},
		{[]string{"gpu"}, true, false, []string{"gpu"}, true},
		{nil, true, false, []string{"linux"}, false},
		{nil, true, false, nil, true},
		{nil, false, true, nil, true},
		{[]string{"gpu"}, false, true, nil, false},
		{[]string{"gpu"}, false, true, []string{"gpu"}, true},
	} {
		s := &githubRunnerScaler{meta: meta.GithubRunnerMetadata{Labels: c.labels, NoDefaultLabels: c.noDefault, MatchUnlabeledJobsWithUnlabeledRunners: c.unlabel}}
		if got := s.runnerTakes(c.job); got != c.want {
			t.Errorf("runner %v (noDefaultLabels %t, matchUnlabeled %t), job %v: %t, want %t", c.labels, c.noDefault, c.unlabel, c.job, got, c.want)
		}
	}
}

// TestGitHubRunnerNextPage: the Link header's rel="next", only on the API's own scheme and host.
func TestGitHubRunnerNextPage(t *testing.T) {
	api, _ := url.Parse("https://api.github.com")
	s := &githubRunnerScaler{meta: meta.GithubRunnerMetadata{APIURL: api}}
	for link, want := range map[string]string{
		`<https://api.github.com/orgs/a/repos?page=2>; rel="next", <https://api.github.com/orgs/a/repos?page=5>; rel="last"`: "https://api.github.com/orgs/a/repos?page=2",
		`<https://api.github.com/x?page=1>; rel="prev", <https://api.github.com/x?page=3>; rel="next"`:                       "https://api.github.com/x?page=3",
		`</orgs/a/repos?page=2>; rel=next`:                       "https://api.github.com/orgs/a/repos?page=2",
		`<https://api.github.com/x?page=1>; rel="first"`:         "",
		`<https://evil.example.com/x?page=2>; rel="next"`:        "",
		`<http://api.github.com/x?page=2>; rel="next"`:           "",
		`https://api.github.com/x?page=2; rel="next"`:            "",
		`<https://api.github.com/x?page=2>; rel="prev next"`:     "https://api.github.com/x?page=2",
		`<https://api.github.com/%zz>; rel="next"`:               "",
		`<https://api.github.com/x?page=2>; title="a"; rel=next`: "https://api.github.com/x?page=2",
	} {
		h := http.Header{"Link": {link}}
		got := ""
		if u := s.nextPage(h); u != nil {
			got = u.String()
		}
		if got != want {
			t.Errorf("Link %s: next %q, want %q", link, got, want)
		}
	}
}

// TestGitHubAppJWT: the App's JWT is RS256 over header and claims, with iss the App's ID and at
// most ten minutes between iat and exp, as GitHub requires.
func TestGitHubAppJWT(t *testing.T) {
	key, _, _ := githubTestKey(t)
	now := time.Unix(1_700_000_000, 0)
	jwt, err := githubAppJWT(key, 42, now)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("JWT %q", jwt)
	}
	var header map[string]string
	var claims struct {
		Iat, Exp int64
		Iss      string
	}
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if json.Unmarshal(hb, &header) != nil || json.Unmarshal(cb, &claims) != nil {
		t.Fatalf("JWT parts %s %s", hb, cb)
	}
	if header["alg"] != "RS256" || claims.Iss != "42" || claims.Iat > now.Unix() || claims.Exp <= now.Unix() || claims.Exp-claims.Iat > 600 {
		t.Errorf("header %v claims %+v", header, claims)
	}
}
