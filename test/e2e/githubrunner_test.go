package e2e

import (
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/test/cluster"
	ghserver "github.com/kedactl/kedactl/test/servers/github"
)

// TestGitHubRunnerScalesZeroToMaxToZero: a github-runner trigger on the GitHub API fake, with
// the personal access token from a Secret through a TriggerAuthentication, counts the queued
// jobs with its runners' labels in the organization's repositories. One job is below the target
// of 2 and leaves the runners at 0 (KEDA's trigger is active from the target on); two activate
// them; twenty take the real HPA to the maximum of 4; once the runs complete the runners go back
// to 0 after the cooldown.
func TestGitHubRunnerScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	const pat = "ghp_e2e-github-runner-token"
	gh := ghserver.Start(t, ghserver.Options{Token: pat})
	gh.AddOrg("acme", "api", "web")
	runner := []string{"self-hosted", "linux", "kedactl"}
	jobs := func(n int) []ghserver.Job {
		out := make([]ghserver.Job, n)
		for i := range out {
			out[i] = ghserver.Job{Status: "queued", Labels: runner}
		}
		return out
	}
	// A job for other runners never counts.
	gh.AddRun("acme", "web", "queued", ghserver.Job{Status: "queued", Labels: []string{"self-hosted", "windows"}})

	var jobsPath string
	s.runScalerJourney(t, scalerJourney{
		namespace:   "github",
		secret:      "github-secret",
		auth:        "github-auth",
		params:      []secretParam{{"personalAccessToken", "personalAccessToken", pat}},
		triggerType: "github-runner",
		metadata: fmt.Sprintf(`githubApiURL: %s
			owner: acme
			runnerScope: org
			labels: kedactl
			targetWorkflowQueueLength: "2"`, gh.URL),
		metric:       "s0-github-runner-acme",
		averageValue: 2,
		set: func(_ *testing.T, n int) {
			switch n {
			case 1:
				// One job: below the target, so the operator polls, sees it, and leaves the
				// runners at 0.
				first := gh.AddRun("acme", "api", "queued", jobs(1)...)
				jobsPath = fmt.Sprintf("/repos/acme/api/actions/runs/%d/jobs", first)
			case 2:
				// Two jobs reach the target.
				gh.AddRun("acme", "api", "in_progress", ghserver.Job{Status: "in_progress", Labels: runner})
			case 20:
				gh.AddRun("acme", "web", "queued", jobs(18)...)
			}
		},
		polls: func() (n int) {
			for _, r := range gh.Requests() {
				if r.Path == jobsPath && r.Status == 200 {
					n++
				}
			}
			return n
		},
		// Twenty jobs / 2 per runner = 10 runners, more than the maximum of 4.
		idle: 1, one: 2, max: 20,
		// The runs complete.
		drain: func(*testing.T) {
			gh.CompleteRuns("acme", "api")
			gh.CompleteRuns("acme", "web")
		},
	})

	// Every request carried the token from the Secret, as GitHub's API takes it, and asked for
	// this organization only.
	for _, r := range gh.Requests() {
		if r.Authorization != "Bearer "+pat || r.APIVersion != "2022-11-28" || r.Status != 200 || !strings.HasPrefix(r.Path, "/orgs/acme/") && !strings.HasPrefix(r.Path, "/repos/acme/") {
			t.Fatalf("request %s %s (Authorization %q, API version %q) answered %d", r.Method, r.Path, r.Authorization, r.APIVersion, r.Status)
		}
	}
}

// TestGitHubRunnerScaledJob: as GitHub runners are usually run, a ScaledJob starts one runner Job
// per queued job for the labels, up to maxReplicaCount, with the token from a
// TriggerAuthentication.
func TestGitHubRunnerScaledJob(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	const pat = "ghp_e2e-github-runner-scaledjob"
	gh := ghserver.Start(t, ghserver.Options{Token: pat})
	gh.AddUser("octocat", "dotfiles")
	queue := func(n int) {
		jobs := make([]ghserver.Job, n)
		for i := range jobs {
			jobs[i] = ghserver.Job{Status: "queued", Labels: []string{"self-hosted", "kedactl-sj"}}
		}
		gh.AddRun("octocat", "dotfiles", "queued", jobs...)
	}

	ns := s.newNamespace(t, "github-sj")
	s.apply(t, ns, fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: github-secret
stringData:
  token: %q
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: github-auth
spec:
  secretTargetRef:
    - parameter: personalAccessToken
      name: github-secret
      key: token
---
apiVersion: keda.sh/v1alpha1
kind: ScaledJob
metadata:
  name: runners
spec:
  pollingInterval: 1
  maxReplicaCount: 5
  jobTargetRef:
    backoffLimit: 0
    template:
      metadata:
        labels:
          %s: %s
      spec:
        restartPolicy: Never
        containers:
          - name: runner
            image: ghcr.io/actions/actions-runner:latest
  triggers:
    - type: github-runner
      authenticationRef:
        name: github-auth
      metadata:
        githubApiURL: %s
        owner: octocat
        runnerScope: repo
        labels: kedactl-sj
`, pat, cluster.JobOutcomeLabel, cluster.JobOutcomeRun, gh.URL))
	s.waitScaledJob(t, ns, "runners", "Ready", func(sj *kedav1alpha1.ScaledJob) (bool, string) {
		c := sj.Status.Conditions.Get(kedav1alpha1.ConditionReady)
		return c != nil && c.Status == metav1.ConditionTrue, fmt.Sprintf("%+v", sj.Status)
	})

	queue(2)
	s.waitJobs(t, ns, "runners", "2 runners for 2 queued jobs", func(c jobCounts) bool { return c.unfinished == 2 })
	queue(10)
	s.waitJobs(t, ns, "runners", "5 runners (maxReplicaCount) for 12 queued jobs", func(c jobCounts) bool { return c.unfinished == 5 })
	for _, r := range gh.Requests() {
		if r.Authorization != "Bearer "+pat || r.Status != 200 {
			t.Fatalf("request %s %s (Authorization %q) answered %d", r.Method, r.Path, r.Authorization, r.Status)
		}
	}
}
