package scalers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// FuzzGitHubRunnerResponse serves arbitrary repository, workflow-run and job listings (and
// status codes) on 127.0.0.1 to a github-runner trigger's poll: it counts what a direct reading of
// the same answers counts, or fails naming the trigger with a bounded error, and no answer
// panics or shows the token.
func FuzzGitHubRunnerResponse(f *testing.F) {
	const token = "ghp_fuzz-never-in-errors"
	repos := `[{"id":1,"name":"api","full_name":"acme/api"},{"id":2,"name":"web"}]`
	runs := `{"total_count":2,"workflow_runs":[{"id":7,"status":"queued","repository":{"name":"api"}},{"id":8,"status":"in_progress","repository":{"name":""}},{"id":9,"status":"completed"}]}`
	jobs := `{"total_count":3,"jobs":[{"status":"queued","labels":["self-hosted","linux"]},{"status":"in_progress","labels":[]},{"status":"queued","labels":["gpu"]},{"status":"completed"}]}`
	for _, s := range []struct {
		repos, runs, jobs string
		status            uint8
	}{
		{repos, runs, jobs, 0},
		{`[]`, runs, jobs, 0},
		{`null`, `null`, `null`, 0},
		{repos, `{"workflow_runs":null}`, jobs, 0},
		{repos, `{"workflow_runs":[{"id":-1,"status":"queued","repository":{"name":"../../x"}}]}`, jobs, 0},
		{`[{"name":"a/b?c#d"},{"name":"%2e%2e"},{"name":""}]`, runs, jobs, 0},
		{repos, `{"workflow_runs":[{"id":7,"status":"queued"},{"id":7,"status":"queued"}]}`, `{"jobs":[{"status":"queued","labels":[null,""]}]}`, 0},
		{repos, runs, `{"jobs":{"status":"queued"}}`, 0},
		{repos, runs, `{"jobs":[{"status":"queued","labels":"x64"}]}`, 0},
		{`{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`, runs, jobs, 4},
		{`{"message":"Bad credentials"}`, runs, jobs, 2},
		{`{"message":"API rate limit exceeded for user ID 1."}`, runs, jobs, 3},
		{`<html>` + strings.Repeat("x", 500) + token, runs, jobs, 6},
		{repos, runs, `{"jobs":[{"status":"queued","labels":["self-hosted"]}],"message":"` + token + `"}`, 0},
	} {
		f.Add([]byte(s.repos), []byte(s.runs), []byte(s.jobs), s.status)
	}
	var mu sync.Mutex
	var cur struct {
		status            int
		repos, runs, jobs []byte
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		body := cur.jobs
		switch {
		case strings.HasSuffix(r.URL.Path, "/repos"):
			body = cur.repos
		case strings.HasSuffix(r.URL.Path, "/actions/runs"):
			body = cur.runs
		}
		w.WriteHeader(cur.status)
		_, _ = w.Write(body)
	}))
	f.Cleanup(srv.Close)
	f.Fuzz(func(t *testing.T, repos, runs, jobs []byte, status uint8) {
		mu.Lock()
		cur.status, cur.repos, cur.runs, cur.jobs = fuzzStatuses[int(status)%len(fuzzStatuses)], repos, runs, jobs
		mu.Unlock()
		sc, err := New(context.Background(), &Config{TriggerType: "github-runner", TriggerIndex: 3, Timeout: fuzzPollTimeout,
			TriggerMetadata: map[string]string{"githubApiURL": srv.URL, "owner": "acme", "runnerScope": "org", "targetWorkflowQueueLength": "2"},
			AuthParams:      map[string]string{"personalAccessToken": token}})
		if err != nil {
			t.Fatal(err)
		}
		defer sc.Close(context.Background())
		s := sc.(*githubRunnerScaler)
		want, wantErr := githubFuzzCount(s, repos, runs, jobs)
		if cur.status != http.StatusOK {
			want, wantErr = 0, true
		}

		vals, active, err := poll(t, sc, "s3-github-runner-acme")
		if err != nil {
			if !wantErr {
				t.Fatalf("a direct reading counts %d, the poll failed: %v", want, err)
			}
			checkErr(t, err, "trigger 3 (github-runner)")
			if strings.Contains(err.Error(), token) {
				t.Fatalf("error shows the token: %v", err)
			}
			return
		}
		if wantErr {
			t.Fatalf("a direct reading fails, the poll counted %v", vals)
		}
		checkPoll(t, vals, active, "s3-github-runner-acme", float64(want), 1)
	})
}

// githubFuzzCount reads the answers as GitHub's documentation describes them: the repositories'
// names, each repository's queued and in-progress runs (the same answer for every repository
// and both statuses, counted once per repository and run ID), and each run's jobs (the same
// answer for every run).
func githubFuzzCount(s *githubRunnerScaler, repos, runs, jobs []byte) (int64, bool) {
	var rs []struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(repos, &rs) != nil {
		return 0, true
	}
	var names []string
	for _, r := range rs {
		if r.Name != "" {
			names = append(names, r.Name)
		}
	}
	if len(names) == 0 {
		return 0, false
	}
	var rp struct {
		WorkflowRuns []githubRun `json:"workflow_runs"`
	}
	if json.Unmarshal(runs, &rp) != nil {
		return 0, true
	}
	type key struct {
		repo string
		id   int64
	}
	active := map[key]bool{}
	for _, repo := range names {
		for _, r := range rp.WorkflowRuns {
			if r.Status == "queued" || r.Status == "in_progress" {
				name := r.Repository.Name
				if name == "" {
					name = repo
				}
				active[key{name, r.ID}] = true
			}
		}
	}
	if len(active) == 0 {
		return 0, false
	}
	var jp struct {
		Jobs []githubJob `json:"jobs"`
	}
	if json.Unmarshal(jobs, &jp) != nil {
		return 0, true
	}
	var per int64
	for _, j := range jp.Jobs {
		if (j.Status == "queued" || j.Status == "in_progress") && s.runnerTakes(j.Labels) {
			per++
		}
	}
	return per * int64(len(active)), false
}
