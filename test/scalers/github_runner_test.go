package scalers_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
	ghserver "github.com/kedactl/kedactl/test/servers/github"
)

// The github-runner trigger's credential; no error may show it.
const githubTestPAT = "ghp_never-in-errors-5d7e1c"

// newGitHubTrigger builds a github-runner trigger on the fake.
func newGitHubTrigger(t *testing.T, gh *ghserver.Server, meta, auth map[string]string) scalers.Scaler {
	t.Helper()
	m := map[string]string{"githubApiURL": gh.URL, "owner": "acme", "runnerScope": "org"}
	for k, v := range meta {
		m[k] = v
	}
	if auth == nil {
		auth = map[string]string{"personalAccessToken": githubTestPAT}
	}
	s, err := scalers.New(context.Background(), &scalers.Config{TriggerType: "github-runner", TriggerMetadata: m, AuthParams: auth, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// readQueue polls once and returns the value and activity.
func readQueue(t *testing.T, s scalers.Scaler) (int64, bool) {
	t.Helper()
	vals, active, err := s.GetMetricsAndActivity(context.Background(), "s0-github-runner-acme")
	if err != nil {
		t.Fatalf("poll: %v", err)
	}
	if len(vals) != 1 || vals[0].MetricName != "s0-github-runner-acme" {
		t.Fatalf("poll gave %+v", vals)
	}
	return vals[0].Value.Value(), active
}

// paths renders requests as "METHOD path?query status", in order.
func paths(reqs []ghserver.Request) []string {
	out := make([]string, 0, len(reqs))
	for _, r := range reqs {
		out = append(out, fmt.Sprintf("%s %s?%s %d", r.Method, r.Path, r.Query.Encode(), r.Status))
	}
	return out
}

func checkRequests(t *testing.T, got []ghserver.Request, want []string) {
	t.Helper()
	g := paths(got)
	if strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n  %s\nwant:\n  %s", strings.Join(g, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestGitHubRunnerCountsJobsOfAnOrganization: the trigger lists the organization's
// repositories page by page through the Link header, asks each for its queued and in-progress
// runs and each such run for its jobs, and counts the queued and in-progress jobs a runner with
// its labels (plus the default self-hosted, linux, x64) can take.
func TestGitHubRunnerCountsJobsOfAnOrganization(t *testing.T) {
	gh := ghserver.Start(t, ghserver.Options{Token: githubTestPAT})
	repos := make([]string, 0, 102)
	for i := range 101 {
		repos = append(repos, fmt.Sprintf("lib-%03d", i))
	}
	repos = append(repos, "api")
	gh.AddOrg("acme", repos...)
	queued := gh.AddRun("acme", "api", "queued",
		ghserver.Job{Status: "queued", Labels: []string{"self-hosted", "Linux", "gpu"}}, // GitHub's labels are case-insensitive
		ghserver.Job{Status: "queued", Labels: []string{"self-hosted", "arm64"}},        // no runner of ours has arm64
		ghserver.Job{Status: "queued"},                             // unlabeled: any runner
		ghserver.Job{Status: "completed", Labels: []string{"gpu"}}) // done
	running := gh.AddRun("acme", "api", "in_progress",
		ghserver.Job{Status: "in_progress", Labels: []string{"gpu"}},
		ghserver.Job{Status: "queued", Labels: []string{"x64"}})
	gh.AddRun("acme", "api", "completed", ghserver.Job{Status: "completed", Labels: []string{"gpu"}})

	s := newGitHubTrigger(t, gh, map[string]string{"labels": "gpu", "targetWorkflowQueueLength": "4"}, nil)
	if n, active := readQueue(t, s); n != 4 || !active {
		t.Errorf("queue %d active %t, want 4 and active (4 reaches the target of 4)", n, active)
	}
	want := []string{
		"GET /orgs/acme/repos?per_page=100 200",
		"GET /orgs/acme/repos?page=2&per_page=100 200",
	}
	for _, r := range repos {
		want = append(want,
			"GET /repos/acme/"+r+"/actions/runs?per_page=100&status=queued 200",
			"GET /repos/acme/"+r+"/actions/runs?per_page=100&status=in_progress 200")
	}
	want = append(want,
		fmt.Sprintf("GET /repos/acme/api/actions/runs/%d/jobs?per_page=100 200", queued),
		fmt.Sprintf("GET /repos/acme/api/actions/runs/%d/jobs?per_page=100 200", running))
	reqs := gh.Requests()
	checkRequests(t, reqs, want)
	for _, r := range reqs {
		if r.Authorization != "Bearer "+githubTestPAT || r.Accept != "application/vnd.github+json" || r.APIVersion != "2022-11-28" {
			t.Fatalf("request %s: Authorization %q, Accept %q, X-GitHub-Api-Version %q", r.Path, r.Authorization, r.Accept, r.APIVersion)
		}
	}
	spec := s.GetMetricSpecForScaling(context.Background())
	if len(spec) != 1 || spec[0].External.Metric.Name != "s0-github-runner-acme" || spec[0].External.Target.AverageValue.Value() != 4 {
		t.Errorf("metric spec %+v, want s0-github-runner-acme with AverageValue 4", spec)
	}

	// Below the target the trigger is inactive, as KEDA has it (active from the target on).
	gh.SetRunStatus(running, "completed")
	if n, active := readQueue(t, s); n != 2 || active {
		t.Errorf("queue %d active %t, want 2 and inactive", n, active)
	}
}

// TestGitHubRunnerScopesAndRepos: runnerScope repo lists a user's repositories; metadata.repos
// skips the listing; noDefaultLabels and matchUnlabeledJobsWithUnlabeledRunners narrow what
// counts; a run's jobs are read page by page; a repository without runs (404) counts 0.
func TestGitHubRunnerScopesAndRepos(t *testing.T) {
	gh := ghserver.Start(t, ghserver.Options{Token: githubTestPAT})
	gh.AddUser("acme", "tool", "site")
	var jobs []ghserver.Job
	for range 130 {
		jobs = append(jobs, ghserver.Job{Status: "queued", Labels: []string{"self-hosted"}})
	}
	jobs = append(jobs, ghserver.Job{Status: "queued"})
	big := gh.AddRun("acme", "tool", "queued", jobs...)

	user := newGitHubTrigger(t, gh, map[string]string{"runnerScope": "repo"}, nil)
	if n, _ := readQueue(t, user); n != 131 {
		t.Errorf("repo scope: queue %d, want 131", n)
	}
	checkRequests(t, gh.Requests(), []string{
		"GET /users/acme/repos?per_page=100 200",
		"GET /repos/acme/tool/actions/runs?per_page=100&status=queued 200",
		"GET /repos/acme/tool/actions/runs?per_page=100&status=in_progress 200",
		"GET /repos/acme/site/actions/runs?per_page=100&status=queued 200",
		"GET /repos/acme/site/actions/runs?per_page=100&status=in_progress 200",
		fmt.Sprintf("GET /repos/acme/tool/actions/runs/%d/jobs?per_page=100 200", big),
		fmt.Sprintf("GET /repos/acme/tool/actions/runs/%d/jobs?page=2&per_page=100 200", big),
	})

	for _, c := range []struct {
		meta map[string]string
		want int64
	}{
		{map[string]string{"noDefaultLabels": "true"}, 1},                                             // only the unlabeled job
		{map[string]string{"matchUnlabeledJobsWithUnlabeledRunners": "true"}, 131},                    // a runner without labels takes it
		{map[string]string{"matchUnlabeledJobsWithUnlabeledRunners": "true", "labels": "gpu"}, 130},   // a labeled runner does not
		{map[string]string{"noDefaultLabels": "true", "labels": "Self-Hosted"}, 131},                  // case-insensitive
		{map[string]string{"repos": "site,gone"}, 0},                                                  // no runs, no repository
		{map[string]string{"repos": "tool", "runnerScope": "ent", "noDefaultLabels": "true"}, 1},      // ent reads as org
		{map[string]string{"repos": "tool", "owner": "acme", "labels": "self-hosted,linux,gpu"}, 131}, // more labels than asked is fine
	} {
		gh.ResetRequests()
		if c.meta["runnerScope"] == "" {
			c.meta["runnerScope"] = "repo"
		}
		s := newGitHubTrigger(t, gh, c.meta, nil)
		if n, _ := readQueue(t, s); n != c.want {
			t.Errorf("%v: queue %d, want %d", c.meta, n, c.want)
		}
		for _, r := range gh.Requests() {
			if c.meta["repos"] != "" && strings.HasSuffix(r.Path, "/repos") {
				t.Errorf("%v: listed repositories (%s) though metadata.repos names them", c.meta, r.Path)
			}
		}
	}
}

// TestGitHubRunnerRateLimits: once GitHub says the limit is spent (403 with
// X-RateLimit-Remaining 0, or 429 with Retry-After), the trigger answers its last count without
// asking again until the reset; with no count yet, it fails and says why.
func TestGitHubRunnerRateLimits(t *testing.T) {
	for _, c := range []struct {
		name  string
		limit func(gh *ghserver.Server)
	}{
		{"primary 403", func(gh *ghserver.Server) { gh.ExhaustRateLimit(time.Now().Add(time.Hour)) }},
		{"secondary 429", func(gh *ghserver.Server) { gh.SetSecondaryLimit(http.StatusTooManyRequests, 3600) }},
		{"secondary 403", func(gh *ghserver.Server) { gh.SetSecondaryLimit(http.StatusForbidden, 3600) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			gh := ghserver.Start(t, ghserver.Options{Token: githubTestPAT})
			gh.AddOrg("acme", "api")
			gh.AddRun("acme", "api", "queued", ghserver.Job{Status: "queued"}, ghserver.Job{Status: "queued"})
			s := newGitHubTrigger(t, gh, map[string]string{"repos": "api"}, nil)
			fresh := newGitHubTrigger(t, gh, map[string]string{"repos": "api"}, nil)
			if n, _ := readQueue(t, s); n != 2 {
				t.Fatalf("queue %d, want 2", n)
			}
			c.limit(gh)
			gh.AddRun("acme", "api", "queued", ghserver.Job{Status: "queued"})
			gh.ResetRequests()
			if n, active := readQueue(t, s); n != 2 || !active {
				t.Errorf("rate limited: queue %d active %t, want the last count 2, active", n, active)
			}
			if got := gh.Requests(); len(got) != 1 || got[0].Status != http.StatusForbidden && got[0].Status != http.StatusTooManyRequests {
				t.Errorf("requests while limited: %v, want the one refused", paths(got))
			}
			gh.ResetRequests()
			if n, _ := readQueue(t, s); n != 2 {
				t.Errorf("still limited: queue %d, want 2", n)
			}
			if got := gh.Requests(); len(got) != 0 {
				t.Errorf("asked GitHub while it is limiting: %v", paths(got))
			}
			_, _, err := fresh.GetMetricsAndActivity(context.Background(), "s0-github-runner-acme")
			if err == nil || !strings.Contains(err.Error(), "rate limit") || !strings.Contains(err.Error(), "trigger 0 (github-runner)") || strings.Contains(err.Error(), githubTestPAT) {
				t.Errorf("first poll while limited: %v, want an error about the rate limit naming the trigger", err)
			}
		})
	}
}

// TestGitHubRunnerETags: with enableEtags every request after the first poll is conditional,
// GitHub answers 304 (not counted against the limit) and the count stands; a new job changes
// the answer.
func TestGitHubRunnerETags(t *testing.T) {
	gh := ghserver.Start(t, ghserver.Options{Token: githubTestPAT})
	gh.AddOrg("acme", "api", "web")
	gh.AddRun("acme", "api", "queued", ghserver.Job{Status: "queued"})
	s := newGitHubTrigger(t, gh, map[string]string{"enableEtags": "true"}, nil)
	if n, _ := readQueue(t, s); n != 1 {
		t.Fatalf("queue %d, want 1", n)
	}
	first := gh.Requests()
	gh.ResetRequests()
	if n, _ := readQueue(t, s); n != 1 {
		t.Errorf("second poll: queue %d, want 1", n)
	}
	second := gh.Requests()
	if len(second) != len(first) {
		t.Fatalf("second poll made %d requests, the first %d", len(second), len(first))
	}
	for _, r := range second {
		if r.IfNoneMatch == "" || r.Status != http.StatusNotModified {
			t.Errorf("second poll: %s If-None-Match %q answered %d, want a conditional request answered 304", r.Path, r.IfNoneMatch, r.Status)
		}
	}
	gh.AddRun("acme", "web", "queued", ghserver.Job{Status: "queued"}, ghserver.Job{Status: "in_progress"})
	if n, _ := readQueue(t, s); n != 3 {
		t.Errorf("after a new run: queue %d, want 3", n)
	}
}

// TestGitHubRunnerCredentials: a refused token is an error naming the parameter to check and
// never the token; authModes bearer reads bearerToken.
func TestGitHubRunnerCredentials(t *testing.T) {
	gh := ghserver.Start(t, ghserver.Options{Token: githubTestPAT})
	gh.AddOrg("acme", "api")
	bad := newGitHubTrigger(t, gh, nil, map[string]string{"personalAccessToken": "ghp_wrong-never-in-errors"})
	_, _, err := bad.GetMetricsAndActivity(context.Background(), "s0-github-runner-acme")
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "Bad credentials") ||
		!strings.Contains(err.Error(), "personalAccessToken") || strings.Contains(err.Error(), "ghp_wrong-never-in-errors") {
		t.Errorf("refused token: %v", err)
	}
	missing := newGitHubTrigger(t, gh, map[string]string{"owner": "nobody"}, nil)
	_, _, err = missing.GetMetricsAndActivity(context.Background(), "s0-github-runner-nobody")
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "metadata.owner") {
		t.Errorf("unknown organization: %v", err)
	}
	gh.ResetRequests()
	bearer := newGitHubTrigger(t, gh, map[string]string{"authModes": "bearer", "repos": "api"}, map[string]string{"bearerToken": githubTestPAT})
	readQueue(t, bearer)
	for _, r := range gh.Requests() {
		if r.Authorization != "Bearer "+githubTestPAT {
			t.Errorf("authModes bearer: Authorization %q", r.Authorization)
		}
	}
}

// TestGitHubRunnerApp: with applicationID, installationID and appKey the trigger signs a JWT,
// trades it for an installation token once, and sends that token with every request.
func TestGitHubRunnerApp(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	gh := ghserver.Start(t, ghserver.Options{App: &ghserver.App{ID: 123456, InstallationID: 7654321, Key: &key.PublicKey}})
	gh.AddOrg("acme", "api")
	gh.AddRun("acme", "api", "queued", ghserver.Job{Status: "queued"})
	s := newGitHubTrigger(t, gh, map[string]string{"applicationID": "123456", "installationID": "7654321"}, map[string]string{"appKey": keyPEM})
	for range 2 {
		if n, _ := readQueue(t, s); n != 1 {
			t.Errorf("queue %d, want 1", n)
		}
	}
	reqs := gh.Requests()
	if len(reqs) == 0 || reqs[0].Method != http.MethodPost || reqs[0].Path != "/app/installations/7654321/access_tokens" || reqs[0].Status != http.StatusCreated {
		t.Fatalf("first request %+v, want the installation token's", reqs)
	}
	for _, r := range reqs[1:] {
		if r.Method != http.MethodGet || !strings.HasPrefix(r.Authorization, "token ghs_") || r.Status != http.StatusOK {
			t.Errorf("request %s %s with %q answered %d, want a GET with the installation token", r.Method, r.Path, r.Authorization, r.Status)
		}
	}

	// A key the App does not have is refused, and the error shows no key.
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	otherPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(other)}))
	wrong := newGitHubTrigger(t, gh, map[string]string{"applicationID": "123456", "installationID": "7654321"}, map[string]string{"appKey": otherPEM})
	_, _, err = wrong.GetMetricsAndActivity(context.Background(), "s0-github-runner-acme")
	if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "PRIVATE KEY") {
		t.Errorf("wrong App key: %v", err)
	}
}
