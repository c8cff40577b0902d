// Package github is a fake of the part of GitHub's REST API that counts work for self-hosted
// runners, for contract tests: on a free 127.0.0.1 port it answers as GitHub's REST API reference
// documents (API version 2022-11-28)
//
//	GET  /orgs/{org}/repos                            an organization's repositories
//	GET  /users/{username}/repos                      a user's (or organization's) repositories
//	GET  /repos/{owner}/{repo}/actions/runs           workflow runs, filtered by ?status=
//	GET  /repos/{owner}/{repo}/actions/runs/{id}/jobs a run's jobs
//	POST /app/installations/{id}/access_tokens        a GitHub App's installation token, for an RS256 JWT
//
// with GitHub's conventions: credentials in the Authorization header as "Bearer TOKEN" or
// "token TOKEN" (401 {"message":"Bad credentials"} otherwise); pages of ?per_page= (30 by
// default, 100 at most) and ?page=, linked through the Link header (rel="next", "last", "first",
// "prev"); X-RateLimit-Limit, -Remaining, -Used, -Reset and -Resource on every answer, 403 (or
// 429) with GitHub's message once the primary limit is spent and with Retry-After under a
// secondary limit; ETags, with 304 Not Modified for a matching If-None-Match, which does not count
// against the limit.
package github

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kedactl/kedactl/test/servers/internal/answered"
)

// Options configures a server.
type Options struct {
	// Token is the personal access token the server accepts.
	Token string
	// App, when set, is a GitHub App whose installation tokens the server issues and accepts.
	App *App
	// RateLimit is the primary rate limit per hour (X-RateLimit-Limit); 5000 when zero.
	RateLimit int
	// RateLimitStatus is the status of an answer once the primary limit is spent: 403 (the
	// default) or 429, both of which GitHub documents.
	RateLimitStatus int
}

// App is a GitHub App registered with the server.
type App struct {
	ID             int64
	InstallationID int64
	// Key verifies the App's JWTs.
	Key *rsa.PublicKey
}

// Job is a workflow job as the test sets it.
type Job struct {
	// Status is queued, in_progress, completed, waiting, requested or pending.
	Status string
	Labels []string
}

// Request is a request the server answered.
type Request struct {
	Method, Path  string
	Query         url.Values
	Authorization string
	IfNoneMatch   string
	Accept        string
	APIVersion    string
	Status        int
}

// run is a workflow run.
type run struct {
	id     int64
	owner  string
	repo   string
	status string
	jobs   []Job
}

// Server is a running fake.
type Server struct {
	// URL is the API's base URL, what githubApiURL names.
	URL string

	opts Options
	srv  *httptest.Server

	mu        sync.Mutex
	orgs      map[string]bool     // owner -> is an organization
	repos     map[string][]string // owner -> repository names, in creation order
	runs      []*run
	nextID    int64
	appTokens map[string]time.Time
	remaining int
	reset     time.Time
	// secondary, when non-zero, is the status of every answer under a secondary rate limit.
	secondary  int
	retryAfter int
	requests   []Request
}

// Start starts a server on a free port of 127.0.0.1; it stops when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.RateLimit <= 0 {
		opts.RateLimit = 5000
	}
	if opts.RateLimitStatus == 0 {
		opts.RateLimitStatus = http.StatusForbidden
	}
	s := &Server{opts: opts, orgs: map[string]bool{}, repos: map[string][]string{}, nextID: 30433642,
		appTokens: map[string]time.Time{}, remaining: opts.RateLimit, reset: time.Now().Add(time.Hour)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orgs/{org}/repos", s.orgRepos)
	mux.HandleFunc("GET /users/{user}/repos", s.userRepos)
	mux.HandleFunc("GET /repos/{owner}/{repo}/actions/runs", s.listRuns)
	mux.HandleFunc("GET /repos/{owner}/{repo}/actions/runs/{id}/jobs", s.listJobs)
	mux.HandleFunc("POST /app/installations/{id}/access_tokens", s.accessToken)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { s.notFound(w) })
	s.srv = httptest.NewServer(s.record(mux)) // httptest listens on 127.0.0.1
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// AddOrg adds an organization with repositories.
func (s *Server) AddOrg(name string, repos ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orgs[name] = true
	s.repos[name] = append(s.repos[name], repos...)
}

// AddUser adds a user with repositories.
func (s *Server) AddUser(name string, repos ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orgs[name] = false
	s.repos[name] = append(s.repos[name], repos...)
}

// AddRun adds a workflow run of owner/repo with status (queued, in_progress, completed, ...) and
// jobs, and returns its ID.
func (s *Server) AddRun(owner, repo, status string, jobs ...Job) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	s.runs = append(s.runs, &run{id: s.nextID, owner: owner, repo: repo, status: status, jobs: slices.Clone(jobs)})
	return s.nextID
}

// CompleteRuns marks every run of owner/repo and its jobs completed.
func (s *Server) CompleteRuns(owner, repo string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.runs {
		if r.owner == owner && r.repo == repo {
			r.status = "completed"
			for i := range r.jobs {
				r.jobs[i].Status = "completed"
			}
		}
	}
}

// SetRunStatus sets a run's status.
func (s *Server) SetRunStatus(id int64, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.runs {
		if r.id == id {
			r.status = status
		}
	}
}

// ExhaustRateLimit spends the primary rate limit until reset.
func (s *Server) ExhaustRateLimit(reset time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remaining, s.reset = 0, reset
}

// SetSecondaryLimit answers every request with status (403 or 429) and Retry-After seconds until
// ClearSecondaryLimit.
func (s *Server) SetSecondaryLimit(status, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secondary, s.retryAfter = status, retryAfter
}

// ClearSecondaryLimit ends a secondary limit.
func (s *Server) ClearSecondaryLimit() {
	s.SetSecondaryLimit(0, 0)
}

// Requests returns the requests answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// ResetRequests forgets the requests answered so far.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// record logs every request with the status it was answered with.
func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := answered.New(w)
		next.ServeHTTP(sw, r)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(),
			Authorization: r.Header.Get("Authorization"), IfNoneMatch: r.Header.Get("If-None-Match"),
			Accept: r.Header.Get("Accept"), APIVersion: r.Header.Get("X-GitHub-Api-Version"), Status: sw.Status})
	})
}

// message answers GitHub's error body.
func message(w http.ResponseWriter, status int, msg, doc string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest" + doc, "status": strconv.Itoa(status)})
}

func (s *Server) notFound(w http.ResponseWriter) {
	message(w, http.StatusNotFound, "Not Found", "")
}

// authenticate checks the Authorization header and the rate limits, setting the rate-limit
// headers; it answers the request itself and returns false when it may not go on. Call it
// with s.mu held.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		message(w, http.StatusUnauthorized, "Requires authentication", "")
		return false
	}
	scheme, token, _ := strings.Cut(auth, " ")
	ok := strings.EqualFold(scheme, "bearer") || strings.EqualFold(scheme, "token")
	token = strings.TrimSpace(token)
	switch {
	case ok && s.opts.Token != "" && token == s.opts.Token:
	case ok && time.Now().Before(s.appTokens[token]):
	default:
		message(w, http.StatusUnauthorized, "Bad credentials", "")
		return false
	}
	now := time.Now()
	if !now.Before(s.reset) {
		s.remaining, s.reset = s.opts.RateLimit, now.Add(time.Hour)
	}
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.opts.RateLimit))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(s.reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
	if s.secondary != 0 {
		h.Set("X-RateLimit-Remaining", strconv.Itoa(s.remaining))
		h.Set("X-RateLimit-Used", strconv.Itoa(s.opts.RateLimit-s.remaining))
		h.Set("Retry-After", strconv.Itoa(s.retryAfter))
		message(w, s.secondary, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
			"/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits")
		return false
	}
	if s.remaining <= 0 {
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Used", strconv.Itoa(s.opts.RateLimit))
		message(w, s.opts.RateLimitStatus, "API rate limit exceeded for user ID 1.", "/overview/rate-limits-for-the-rest-api")
		return false
	}
	return true
}

// answer writes a JSON body with an ETag, or 304 when If-None-Match matches it; only a full
// answer counts against the rate limit. Call it with s.mu held.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		message(w, http.StatusInternalServerError, err.Error(), "")
		return
	}
	sum := sha256.Sum256(body)
	etag := `W/"` + hex.EncodeToString(sum[:16]) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	if slices.Contains(strings.Split(strings.ReplaceAll(r.Header.Get("If-None-Match"), " ", ""), ","), etag) {
		h.Set("X-RateLimit-Remaining", strconv.Itoa(s.remaining))
		h.Set("X-RateLimit-Used", strconv.Itoa(s.opts.RateLimit-s.remaining))
		w.WriteHeader(http.StatusNotModified)
		return
	}
	s.remaining--
	h.Set("X-RateLimit-Remaining", strconv.Itoa(s.remaining))
	h.Set("X-RateLimit-Used", strconv.Itoa(s.opts.RateLimit-s.remaining))
	h.Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(body)
}

// page cuts items to the page the query asks for and sets the Link header.
func page[T any](w http.ResponseWriter, r *http.Request, items []T) ([]T, bool) {
	q := r.URL.Query()
	perPage, pageNo := 30, 1
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			message(w, http.StatusUnprocessableEntity, "Invalid request. per_page is not a positive number.", "")
			return nil, false
		}
		perPage = min(n, 100)
	}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			message(w, http.StatusUnprocessableEntity, "Invalid request. page is not a positive number.", "")
			return nil, false
		}
		pageNo = n
	}
	last := max(1, (len(items)+perPage-1)/perPage)
	link := func(n int, rel string) string {
		lq := r.URL.Query()
		lq.Set("page", strconv.Itoa(n))
		u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawQuery: lq.Encode()}
		return "<" + u.String() + `>; rel="` + rel + `"`
	}
	var links []string
	if pageNo > 1 {
		links = append(links, link(pageNo-1, "prev"))
	}
	if pageNo < last {
		links = append(links, link(pageNo+1, "next"), link(last, "last"))
	}
	if pageNo > 1 {
		links = append(links, link(1, "first"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	start := min((pageNo-1)*perPage, len(items))
	return items[start:min(start+perPage, len(items))], true
}

// repository is a repository as GitHub lists it (the fields the listings share).
func (s *Server) repository(r *http.Request, owner, name string) map[string]any {
	kind := "User"
	if s.orgs[owner] {
		kind = "Organization"
	}
	base := "http://" + r.Host
	return map[string]any{
		"id": 1296269, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", "name": name, "full_name": owner + "/" + name,
		"owner":   map[string]any{"login": owner, "type": kind, "url": base + "/users/" + owner},
		"private": false, "url": base + "/repos/" + owner + "/" + name, "default_branch": "main", "visibility": "public",
	}
}

func (s *Server) orgRepos(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.authenticate(w, r) {
		return
	}
	org := r.PathValue("org")
	if !s.orgs[org] {
		s.notFound(w)
		return
	}
	s.listRepos(w, r, org)
}

func (s *Server) userRepos(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.authenticate(w, r) {
		return
	}
	user := r.PathValue("user")
	if _, ok := s.orgs[user]; !ok {
		s.notFound(w)
		return
	}
	s.listRepos(w, r, user)
}

func (s *Server) listRepos(w http.ResponseWriter, r *http.Request, owner string) {
	var all []map[string]any
	for _, name := range s.repos[owner] {
		all = append(all, s.repository(r, owner, name))
	}
	items, ok := page(w, r, all)
	if !ok {
		return
	}
	if items == nil {
		items = []map[string]any{}
	}
	s.answer(w, r, items)
}

// findRepo reports whether owner/repo exists.
func (s *Server) findRepo(owner, repo string) bool {
	return slices.Contains(s.repos[owner], repo)
}

func (s *Server) listRuns(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.authenticate(w, r) {
		return
	}
	owner, repo := r.PathValue("owner"), r.PathValue("repo")
	if !s.findRepo(owner, repo) {
		s.notFound(w)
		return
	}
	status := r.URL.Query().Get("status")
	all := []map[string]any{}
	// Newest first, as GitHub lists them.
	for i := len(s.runs) - 1; i >= 0; i-- {
		run := s.runs[i]
		if run.owner != owner || run.repo != repo || (status != "" && run.status != status && conclusion(run) != status) {
			continue
		}
		base := fmt.Sprintf("http://%s/repos/%s/%s/actions/runs/%d", r.Host, owner, repo, run.id)
		var concl any
		if c := conclusion(run); c != "" {
			concl = c
		}
		all = append(all, map[string]any{
			"id": run.id, "name": "CI", "run_number": run.id % 1000, "event": "push", "status": run.status, "conclusion": concl,
			"workflow_id": 159038, "url": base, "jobs_url": base + "/jobs", "head_branch": "main",
			"repository":      s.repository(r, owner, repo),
			"head_repository": s.repository(r, owner, repo),
		})
	}
	total := len(all)
	items, ok := page(w, r, all)
	if !ok {
		return
	}
	s.answer(w, r, map[string]any{"total_count": total, "workflow_runs": items})
}

// conclusion is a run's conclusion: success once completed.
func conclusion(r *run) string {
	if r.status == "completed" {
		return "success"
	}
	return ""
}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.authenticate(w, r) {
		return
	}
	owner, repo := r.PathValue("owner"), r.PathValue("repo")
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var found *run
	for _, run := range s.runs {
		if err == nil && run.id == id && run.owner == owner && run.repo == repo {
			found = run
		}
	}
	if found == nil {
		s.notFound(w)
		return
	}
	all := []map[string]any{}
	for i, j := range found.jobs {
		labels := j.Labels
		if labels == nil {
			labels = []string{}
		}
		var concl any
		if j.Status == "completed" {
			concl = "success"
		}
		all = append(all, map[string]any{
			"id": found.id*100 + int64(i), "run_id": found.id, "name": fmt.Sprintf("job-%d", i), "status": j.Status,
			"conclusion": concl, "labels": labels, "runner_id": nil, "runner_name": nil, "workflow_name": "CI", "head_branch": "main",
			"url": fmt.Sprintf("http://%s/repos/%s/%s/actions/jobs/%d", r.Host, owner, repo, found.id*100+int64(i)),
		})
	}
	total := len(all)
	items, ok := page(w, r, all)
	if !ok {
		return
	}
	s.answer(w, r, map[string]any{"total_count": total, "jobs": items})
}

// accessToken issues an installation token for a valid JWT of the App.
func (s *Server) accessToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	app := s.opts.App
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if app == nil || id != app.InstallationID {
		s.notFound(w)
		return
	}
	scheme, jwt, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "bearer") {
		message(w, http.StatusUnauthorized, "A JSON web token could not be decoded", "")
		return
	}
	if problem := verifyJWT(jwt, app, time.Now()); problem != "" {
		message(w, http.StatusUnauthorized, problem, "")
		return
	}
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	tok := "ghs_" + hex.EncodeToString(b)
	exp := time.Now().Add(time.Hour)
	s.appTokens[tok] = exp
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{"token": tok, "expires_at": exp.UTC().Format(time.RFC3339),
		"permissions": map[string]string{"actions": "read", "metadata": "read"}, "repository_selection": "all"})
}

// verifyJWT checks an App's JWT as GitHub documents it: RS256, iss the App's ID, iat and exp
// around now, at most ten minutes apart. It returns GitHub's message for a refused one.
func verifyJWT(jwt string, app *App, now time.Time) string {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return "A JSON web token could not be decoded"
	}
	enc := base64.RawURLEncoding
	var header struct {
		Alg string `json:"alg"`
	}
	var claims struct {
		Iat int64           `json:"iat"`
		Exp int64           `json:"exp"`
		Iss json.RawMessage `json:"iss"`
	}
	hb, err1 := enc.DecodeString(parts[0])
	cb, err2 := enc.DecodeString(parts[1])
	sig, err3 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &header) != nil || json.Unmarshal(cb, &claims) != nil {
		return "A JSON web token could not be decoded"
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if header.Alg != "RS256" || rsa.VerifyPKCS1v15(app.Key, crypto.SHA256, sum[:], sig) != nil {
		return "A JSON web token could not be decoded"
	}
	iss := strings.Trim(string(claims.Iss), `"`)
	if iss != strconv.FormatInt(app.ID, 10) {
		return "Integration not found"
	}
	if claims.Exp-claims.Iat > 600 || now.Unix() >= claims.Exp || claims.Iat > now.Unix()+60 {
		return "'Expiration time' claim ('exp') is too far in the future"
	}
	return ""
}
