package scalers

import (
	"cmp"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// The github-runner trigger counts the workflow jobs waiting for (or running on) self-hosted
// runners with the trigger's labels, through GitHub's REST API:
//
//	GET /orgs/{owner}/repos, /users/{owner}/repos      the repositories, unless metadata.repos names them
//	GET /repos/{owner}/{repo}/actions/runs?status=...  the queued and the in-progress runs of each
//	GET /repos/{owner}/{repo}/actions/runs/{id}/jobs   the jobs of each such run
//
// Every listing follows the Link header's rel="next" while it stays on githubApiURL's host.

// The runner scopes of metadata.runnerScope.
const (
	githubScopeOrg        = "org"
	githubScopeEnterprise = "ent"
	githubScopeRepo       = "repo"
)

// githubDefaultRunnerLabels are the labels every self-hosted runner has unless noDefaultLabels.
var githubDefaultRunnerLabels = []string{"self-hosted", "linux", "x64"}

// githubAPIVersion is the REST API version the requests ask for.
const githubAPIVersion = "2022-11-28"

// githubMaxPages bounds one listing, so that a server whose Link header never ends cannot hold a
// poll (100 pages of 100 items is 10,000 repositories, runs or jobs).
const githubMaxPages = 100

// githubMaxCached bounds the ETag cache of enableEtags.
const githubMaxCached = 5000

// githubRunnerScaler counts queued and in-progress jobs on each poll.
type githubRunnerScaler struct {
	cfg        *Config
	meta       meta.GithubRunnerMetadata
	client     *httpClient
	metricName string
	now        func() time.Time

	// mu makes polls one at a time: they share the rate limit, the cache and the App token.
	mu sync.Mutex
	// limit is the rate limit GitHub reported last.
	limit githubRateLimit
	// last is the last counted queue length, answered while GitHub is rate limiting (as KEDA does).
	last    int64
	counted bool
	// cache holds, by URL, the last 200 answer and its ETag (enableEtags).
	cache map[string]*githubCached
	// appToken is the installation token of GitHub App authentication, until appTokenExpiry.
	appToken       string
	appTokenExpiry time.Time
}

// githubCached is an answer kept for a conditional request.
type githubCached struct {
	etag string
	body []byte
	next *url.URL
}

// githubRateLimit is what GitHub's rate-limit headers said.
type githubRateLimit struct {
	remaining  int64
	known      bool // X-RateLimit-Remaining was sent
	reset      time.Time
	retryAfter time.Time
}

// until is when requests may be made again, or the zero time when they may now.
func (l githubRateLimit) until(now time.Time) time.Time {
	var t time.Time
	if l.known && l.remaining <= 0 && now.Before(l.reset) {
		t = l.reset
	}
	if now.Before(l.retryAfter) && l.retryAfter.After(t) {
		t = l.retryAfter
	}
	return t
}

func newGitHubRunnerScaler(_ context.Context, cfg *Config) (Scaler, error) {
	s := &githubRunnerScaler{cfg: cfg, now: time.Now, cache: map[string]*githubCached{}}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	s.metricName = MetricName(cfg.TriggerIndex, "github-runner-"+s.meta.Owner)
	p := s.meta.HTTPAuthParams
	s.client = newHTTPClient(cfg, &p, s.meta.Auth, "githubApiURL", s.meta.APIURL, 0, false)
	return s, nil
}

func (s *githubRunnerScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, float64(s.meta.TargetWorkflowQueueLength))
}

// GetMetricsAndActivity counts the jobs once; the trigger is active when the count reaches
// targetWorkflowQueueLength, as KEDA has it.
func (s *githubRunnerScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	n, err := s.queueLength(ctx)
	if err != nil {
		return nil, false, err
	}
	v := float64(n)
	return oneMetricValue(metricName, v), n >= s.meta.TargetWorkflowQueueLength, nil
}

func (s *githubRunnerScaler) Close(context.Context) error {
	s.client.close()
	return nil
}

// errGitHubRateLimited: GitHub refuses requests until a time it named.
var errGitHubRateLimited = errors.New("rate limited")

// queueLength counts the queued and in-progress jobs that runners with the trigger's labels can
// take. While GitHub is rate limiting, it answers the last count without asking (an error when
// there is none yet).
func (s *githubRunnerScaler) queueLength(ctx context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if until := s.limit.until(s.now()); !until.IsZero() {
		return s.rateLimited(until)
	}
	n, err := s.count(ctx)
	if err != nil {
		if until := s.limit.until(s.now()); !until.IsZero() && errors.Is(err, errGitHubRateLimited) {
			return s.rateLimited(until)
		}
		return 0, err
	}
	s.last, s.counted = n, true
	return n, nil
}

// rateLimited answers the last count, or an error when there is none.
func (s *githubRunnerScaler) rateLimited(until time.Time) (int64, error) {
	if s.counted {
		return s.last, nil
	}
	return 0, fmt.Errorf("%s: GitHub's API rate limit is exhausted until %s and no count was made before: wait, or use a token of a user or App with a higher limit",
		triggerWho(s.cfg), until.UTC().Format(time.RFC3339))
}

// githubRun is the part of a workflow run the count reads.
type githubRun struct {
	ID         int64  `json:"id"`
	Status     string `json:"status"`
	Repository struct {
		Name string `json:"name"`
	} `json:"repository"`
}

// githubJob is the part of a workflow job the count reads.
type githubJob struct {
	Status string   `json:"status"`
	Labels []string `json:"labels"`
}

// count asks GitHub for the repositories, their active runs and the runs' jobs.
func (s *githubRunnerScaler) count(ctx context.Context) (int64, error) {
	used := map[string]bool{}
	repos := s.meta.Repos
	if len(repos) == 0 {
		var err error
		if repos, err = s.repositories(ctx, used); err != nil {
			return 0, err
		}
	}
	type runKey struct {
		repo string
		id   int64
	}
	var runs []runKey
	seen := map[runKey]bool{}
	for _, repo := range repos {
		for _, status := range []string{"queued", "in_progress"} {
			u := s.endpoint(url.Values{"status": {status}, "per_page": {"100"}}, "repos", s.meta.Owner, repo, "actions", "runs")
			err := s.list(ctx, u, used, func(body []byte) (int, error) {
				var page struct {
					WorkflowRuns []githubRun `json:"workflow_runs"`
				}
				if err := json.Unmarshal(body, &page); err != nil {
					return 0, err
				}
				for _, r := range page.WorkflowRuns {
					if r.Status != "queued" && r.Status != "in_progress" {
						continue
					}
					// A run is listed under the repository that holds the workflow; its jobs
					// too, unless GitHub says otherwise.
					k := runKey{repo: cmp.Or(r.Repository.Name, repo), id: r.ID}
					if !seen[k] {
						seen[k] = true
						runs = append(runs, k)
					}
				}
				return len(page.WorkflowRuns), nil
			})
			var nf *githubNotFound
			if errors.As(err, &nf) {
				// A repository without Actions (or just deleted) has no runs, as KEDA counts it.
				continue
			}
			if err != nil {
				return 0, err
			}
		}
	}
	var n int64
	for _, r := range runs {
		u := s.endpoint(url.Values{"per_page": {"100"}}, "repos", s.meta.Owner, r.repo, "actions", "runs", strconv.FormatInt(r.id, 10), "jobs")
		err := s.list(ctx, u, used, func(body []byte) (int, error) {
			var page struct {
				Jobs []githubJob `json:"jobs"`
			}
			if err := json.Unmarshal(body, &page); err != nil {
				return 0, err
			}
			for _, j := range page.Jobs {
				if (j.Status == "queued" || j.Status == "in_progress") && s.runnerTakes(j.Labels) {
					n++
				}
			}
			return len(page.Jobs), nil
		})
		if err != nil {
			return 0, err
		}
	}
	// The cache keeps only what this poll asked: nothing stays for a run that ended.
	for k := range s.cache {
		if !used[k] {
			delete(s.cache, k)
		}
	}
	return n, nil
}

// repositories lists the owner's repositories: an organization's for runnerScope org and ent,
// a user's for repo.
func (s *githubRunnerScaler) repositories(ctx context.Context, used map[string]bool) ([]string, error) {
	kind := "orgs"
	if s.meta.RunnerScope == githubScopeRepo {
		kind = "users"
	}
	var names []string
	u := s.endpoint(url.Values{"per_page": {"100"}}, kind, s.meta.Owner, "repos")
	err := s.list(ctx, u, used, func(body []byte) (int, error) {
		var page []struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return 0, err
		}
		for _, r := range page {
			if r.Name != "" {
				names = append(names, r.Name)
			}
		}
		return len(page), nil
	})
	var nf *githubNotFound
	if errors.As(err, &nf) {
		return nil, s.fail(nf.url, fmt.Errorf("%w: check metadata.owner and metadata.runnerScope (org and ent list /orgs/{owner}/repos, repo lists /users/{owner}/repos), or name the repositories in metadata.repos", nf.status))
	}
	return names, err
}

// runnerTakes reports whether a runner with the trigger's labels can run a job with these.
func (s *githubRunnerScaler) runnerTakes(jobLabels []string) bool {
	if s.meta.MatchUnlabeledJobsWithUnlabeledRunners && len(jobLabels) == 0 {
		return len(s.meta.Labels) == 0
	}
	for _, l := range jobLabels {
		has := func(r string) bool { return strings.EqualFold(r, l) }
		if !slices.ContainsFunc(s.meta.Labels, has) && (s.meta.NoDefaultLabels || !slices.ContainsFunc(githubDefaultRunnerLabels, has)) {
			return false
		}
	}
	return true
}

// endpoint is githubApiURL joined with the path segments, each escaped, and the query.
func (s *githubRunnerScaler) endpoint(q url.Values, segments ...string) *url.URL {
	u := *s.meta.APIURL
	escaped := make([]string, len(segments))
	for i, seg := range segments {
		escaped[i] = url.PathEscape(seg)
	}
	u.Path = s.meta.APIURL.Path + "/" + strings.Join(segments, "/")
	u.RawPath = s.meta.APIURL.EscapedPath() + "/" + strings.Join(escaped, "/")
	u.RawQuery = q.Encode()
	return &u
}

// list reads every page of a listing, starting at u, handing each body to page (which returns
// how many items it held).
func (s *githubRunnerScaler) list(ctx context.Context, u *url.URL, used map[string]bool, page func([]byte) (int, error)) error {
	visited := map[string]bool{}
	for i := 0; u != nil; i++ {
		if i == githubMaxPages || visited[u.String()] {
			return s.fail(u, fmt.Errorf("the listing goes on beyond %d pages: name fewer repositories in metadata.repos", i))
		}
		visited[u.String()] = true
		used[u.String()] = true
		body, next, err := s.get(ctx, u)
		if err != nil {
			return err
		}
		items, err := page(body)
		if err != nil {
			return s.fail(u, fmt.Errorf("the answer is not GitHub's (%s): check metadata.githubApiURL", meta.Clip(err.Error(), 200)))
		}
		if items == 0 {
			return nil
		}
		u = next
	}
	return nil
}

// githubNotFound is a 404 answer: err says so in full, status alone.
type githubNotFound struct {
	err    error
	url    *url.URL
	status error
}

func (e *githubNotFound) Error() string { return e.err.Error() }
func (e *githubNotFound) Unwrap() error { return e.err }

// get requests one page and returns its body and the next page's URL (nil on the last).
func (s *githubRunnerScaler) get(ctx context.Context, u *url.URL) ([]byte, *url.URL, error) {
	ctx, cancel := context.WithTimeout(ctx, s.client.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, s.fail(u, fmt.Errorf("could not build the request: %w", err))
	}
	if err := s.authorize(ctx, req); err != nil {
		return nil, nil, err
	}
	cached := s.cache[u.String()]
	if s.meta.EnableEtags && cached != nil {
		req.Header.Set("If-None-Match", cached.etag)
	}
	resp, err := s.client.client.Do(req)
	if err != nil {
		return nil, nil, s.fail(u, s.client.transportError(ctx, err))
	}
	defer resp.Body.Close()
	s.readRateLimit(resp.Header)
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, nil, s.fail(u, s.client.transportError(ctx, err))
	}
	if len(body) > maxResponseBytes {
		return nil, nil, s.fail(u, fmt.Errorf("the answer is larger than %d MiB", maxResponseBytes>>20))
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && cached != nil:
		return cached.body, cached.next, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, nil, s.statusError(u, resp, body)
	}
	next := s.nextPage(resp.Header)
	if etag := resp.Header.Get("ETag"); s.meta.EnableEtags && etag != "" && (cached != nil || len(s.cache) < githubMaxCached) {
		s.cache[u.String()] = &githubCached{etag: etag, body: body, next: next}
	}
	return body, next, nil
}

// headers every request carries.
func githubHeaders(h http.Header) {
	h.Set("Accept", "application/vnd.github+json")
	h.Set("X-GitHub-Api-Version", githubAPIVersion)
	h.Set("User-Agent", "kedactl-github-runner")
}

// authorize sets the Authorization header: the installation token of the GitHub App (fetched
// when there is none or it is about to expire), else the bearer token.
func (s *githubRunnerScaler) authorize(ctx context.Context, req *http.Request) error {
	githubHeaders(req.Header)
	if s.meta.AppPrivateKey == nil {
		s.client.authorize(req)
		return nil
	}
	if s.appToken == "" || !s.now().Before(s.appTokenExpiry.Add(-time.Minute)) {
		if err := s.fetchAppToken(ctx); err != nil {
			return err
		}
	}
	req.Header.Set("Authorization", "token "+s.appToken)
	return nil
}

// fetchAppToken creates an installation access token with a JWT signed by the App's key.
func (s *githubRunnerScaler) fetchAppToken(ctx context.Context) error {
	u := s.endpoint(nil, "app", "installations", strconv.FormatInt(s.meta.InstallationID, 10), "access_tokens")
	jwt, err := githubAppJWT(s.meta.AppPrivateKey, s.meta.ApplicationID, s.now())
	if err != nil {
		return s.fail(u, fmt.Errorf("could not sign the GitHub App's token request: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return s.fail(u, fmt.Errorf("could not build the request: %w", err))
	}
	githubHeaders(req.Header)
	req.Header.Set("Authorization", "Bearer "+jwt)
	resp, err := s.client.client.Do(req)
	if err != nil {
		return s.fail(u, s.client.transportError(ctx, err))
	}
	defer resp.Body.Close()
	s.readRateLimit(resp.Header)
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return s.fail(u, s.client.transportError(ctx, err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return s.statusError(u, resp, body)
	}
	var tok struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.Token == "" {
		return s.fail(u, errors.New("the answer holds no installation token: check metadata.githubApiURL"))
	}
	s.appToken, s.appTokenExpiry = tok.Token, tok.ExpiresAt
	if s.appTokenExpiry.IsZero() {
		s.appTokenExpiry = s.now().Add(time.Hour)
	}
	return nil
}

// githubAppJWT is the RS256 JSON Web Token a GitHub App authenticates as itself with: issued a
// minute ago (clock drift), valid for nine minutes (GitHub accepts at most ten).
func githubAppJWT(key *rsa.PrivateKey, appID int64, now time.Time) (string, error) {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	claims, err := json.Marshal(map[string]any{"iat": now.Add(-time.Minute).Unix(), "exp": now.Add(9 * time.Minute).Unix(), "iss": strconv.FormatInt(appID, 10)})
	if err != nil {
		return "", err
	}
	signed := header + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signed + "." + enc.EncodeToString(sig), nil
}

// readRateLimit keeps what the rate-limit headers say: X-RateLimit-Remaining and -Reset (the
// primary limit), Retry-After (the secondary limits).
func (s *githubRunnerScaler) readRateLimit(h http.Header) {
	if v := h.Get("X-RateLimit-Remaining"); v != "" {
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			s.limit.remaining, s.limit.known = n, true
		}
		if r, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-RateLimit-Reset")), 10, 64); err == nil {
			s.limit.reset = time.Unix(r, 0)
		}
	}
	if v := h.Get("Retry-After"); v != "" {
		if secs, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && secs >= 0 {
			// At most a day: a server's nonsense must not stop the trigger for good.
			s.limit.retryAfter = s.now().Add(time.Duration(min(secs, 86400)) * time.Second)
		}
	}
}

// nextPage is the Link header's rel="next" target, when it is on githubApiURL's scheme and host:
// the credentials go nowhere else.
func (s *githubRunnerScaler) nextPage(h http.Header) *url.URL {
	for _, link := range h.Values("Link") {
		for _, part := range strings.Split(link, ",") {
			target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
			target = strings.TrimSpace(target)
			if !ok || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			isNext := false
			for _, p := range strings.Split(params, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(k, "rel") && slices.Contains(strings.Fields(strings.Trim(v, `"`)), "next") {
					isNext = true
				}
			}
			if !isNext {
				continue
			}
			u, err := s.meta.APIURL.Parse(target[1 : len(target)-1])
			if err != nil || u.Scheme != s.meta.APIURL.Scheme || u.Host != s.meta.APIURL.Host {
				return nil
			}
			return u
		}
	}
	return nil
}

// statusError words an answer outside 2xx with what to check, GitHub's message included.
func (s *githubRunnerScaler) statusError(u *url.URL, resp *http.Response, body []byte) error {
	var msg struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(body, &msg)
	said := ""
	if m := strings.Join(strings.Fields(msg.Message), " "); m != "" {
		said = " (GitHub: " + meta.Clip(m, 200) + ")"
	}
	e := fmt.Errorf("the server answered %d %s%s", resp.StatusCode, http.StatusText(resp.StatusCode), said)
	limited := !s.limit.until(s.now()).IsZero()
	if !limited && (resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests) &&
		strings.Contains(strings.ToLower(msg.Message), "rate limit") {
		// A rate limit without Retry-After or a spent X-RateLimit-Remaining: GitHub asks
		// clients to wait at least a minute.
		s.limit.retryAfter, limited = s.now().Add(time.Minute), true
	}
	switch {
	case (resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests) && limited:
		return s.fail(u, fmt.Errorf("%w: %w", errGitHubRateLimited, e))
	case resp.StatusCode == http.StatusUnauthorized:
		// A revoked installation token: the next request fetches a new one.
		s.appToken = ""
		e = fmt.Errorf("%w: GitHub refused the credentials: check personalAccessToken (or the GitHub App's applicationID, installationID and appKey) in the TriggerAuthentication", e)
	case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests:
		e = fmt.Errorf("%w: the token may not read this: it needs read access to the repositories' Actions (and metadata)", e)
	case resp.StatusCode == http.StatusNotFound:
		return &githubNotFound{err: s.fail(u, e), url: u, status: e}
	}
	return s.fail(u, e)
}

// fail names the trigger and the request and removes every credential from err's text.
func (s *githubRunnerScaler) fail(u *url.URL, err error) error {
	err = s.client.fail(u, err)
	return redact(err, []string{s.appToken, s.meta.PersonalAccessToken, s.meta.AppKey})
}
