// Package azuredevops is a fake of the part of the Azure DevOps REST API that the
// azure-pipelines trigger reads, for contract tests (Azure DevOps Services is a SaaS: there is no
// server to run). On a free 127.0.0.1 port it answers, for one organization, as Microsoft's
// REST reference documents (Distributed Task: Pools, Agents' TaskAgentJobRequest)
//
//	GET /{org}/_apis/distributedtask/pools?poolName=<name>       Pools - Get Agent Pools: {"count","value":[TaskAgentPool]}
//	GET /{org}/_apis/distributedtask/pools/{poolId}              Pools - Get Agent Pool: TaskAgentPool
//	GET /{org}/_apis/distributedtask/pools/{poolId}/jobrequests  the pool's job requests: {"count","value":[TaskAgentJobRequest]}
//
// with Azure DevOps' conventions: a personal access token as the password of basic auth (any
// user name), 401 with WWW-Authenticate and a plain-text "Access Denied" without it or with
// another token; errors as {"$id","innerException","message","typeName","typeKey","errorCode",
// "eventId"} (TaskAgentPoolNotFoundException for an unknown pool); null fields left out (an
// unfinished request has no result, a waiting one no receiveTime); pool names compared without
// case. The job request list takes $top (the newest N, in the compact form without
// matchedAgents) and completedRequestCount (0: the unfinished requests only). Neither list is
// paged (no x-ms-continuationtoken), as documented. Throttling follows Azure DevOps' rate-limit
// documentation: a delayed identity's answers carry X-RateLimit-Resource, -Delay, -Limit,
// -Remaining and -Reset; a blocked one gets 429 with Retry-After.
//
// No Microsoft code is used, only the documented wire format.
package azuredevops

import (
	"encoding/base64"
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
	// Org is the organization's name, the first segment of every path.
	Org string
	// Token is the personal access token the server takes.
	Token string
}

// Job is a job request to queue.
type Job struct {
	// Demands are the capabilities the job asks for, such as "maven" or "Agent.Version -gtVersion 2.163.1".
	Demands []string
	// MatchedAgents are the names of the agents whose capabilities meet the demands.
	MatchedAgents []string
}

// Request is a request the server answered.
type Request struct {
	Method, Path string
	Query        url.Values
	// User and Token are what the basic auth header carried; Basic tells whether there was one.
	User, Token string
	Basic       bool
	Status      int
}

// Server is a running fake.
type Server struct {
	// URL is the server's root; OrgURL the organization's URL, what organizationURL names.
	URL, OrgURL string

	opts Options
	srv  *httptest.Server

	mu       sync.Mutex
	pools    []*pool
	nextReq  int
	requests []Request
	// delay and retryAfter throttle the token's identity (SetThrottle).
	delay, retryAfter time.Duration
}

type pool struct {
	id   int
	name string
	jobs []*jobRequest
}

type jobRequest struct {
	id                 int
	queued             time.Time
	received, finished time.Time
	result             string
	agent              string
	job                Job
}

// Start starts a server on a free port of 127.0.0.1; it stops when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Org == "" {
		opts.Org = "acme"
	}
	s := &Server{opts: opts, nextReq: 1000}
	s.srv = httptest.NewServer(s.record(http.HandlerFunc(s.serve))) // httptest listens on 127.0.0.1
	s.URL = s.srv.URL
	s.OrgURL = s.URL + "/" + opts.Org
	t.Cleanup(s.srv.Close)
	return s
}

// AddPool adds an agent pool and returns its ID.
func (s *Server) AddPool(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &pool{id: 10 + len(s.pools), name: name}
	s.pools = append(s.pools, p)
	return p.id
}

// Queue queues jobs in the pool and returns their request IDs.
func (s *Server) Queue(poolID int, jobs ...Job) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pool(poolID)
	var ids []int
	for _, j := range jobs {
		s.nextReq++
		p.jobs = append(p.jobs, &jobRequest{id: s.nextReq, queued: time.Now().UTC(), job: j})
		ids = append(ids, s.nextReq)
	}
	return ids
}

// Take gives a waiting request to an agent: it gets a receiveTime and a reservedAgent.
func (s *Server) Take(requestID int, agent string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.request(requestID); r != nil {
		r.received, r.agent = time.Now().UTC(), agent
	}
}

// FinishAll finishes every unfinished request of the pool with result.
func (s *Server) FinishAll(poolID int, result string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.pool(poolID).jobs {
		if r.result == "" {
			r.finished, r.result = time.Now().UTC(), result
		}
	}
}

// SetThrottle delays the token's identity (answers carry the rate-limit headers) or, with
// retryAfter above 0, blocks it (429); zero both to lift it.
func (s *Server) SetThrottle(delay, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay, s.retryAfter = delay, retryAfter
}

// Requests returns the requests answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) pool(id int) *pool {
	for _, p := range s.pools {
		if p.id == id {
			return p
		}
	}
	panic(fmt.Sprintf("azuredevops: no pool %d", id))
}

func (s *Server) request(id int) *jobRequest {
	for _, p := range s.pools {
		for _, r := range p.jobs {
			if r.id == id {
				return r
			}
		}
	}
	return nil
}

// record notes every request and its answer's status.
func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := answered.New(w)
		next.ServeHTTP(sw, r)
		user, token, basic := r.BasicAuth()
		s.mu.Lock()
		defer s.mu.Unlock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), User: user, Token: token, Basic: basic, Status: sw.Status})
	})
}

// vssError writes Azure DevOps' error body.
func vssError(w http.ResponseWriter, status int, typeKey, msg string) {
	writeJSON(w, status, map[string]any{"$id": "1", "innerException": nil, "message": msg,
		"typeName": "Microsoft.TeamFoundation.DistributedTask.WebApi." + typeKey + ", Microsoft.TeamFoundation.DistributedTask.WebApi",
		"typeKey":  typeKey, "errorCode": 0, "eventId": 3000})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8; api-version=7.1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// authorized checks the basic auth's password against the token.
func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	if !strings.HasPrefix(h, "Basic ") {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(h, "Basic "))
	if err != nil {
		return false
	}
	_, token, ok := strings.Cut(string(raw), ":")
	return ok && token == s.opts.Token
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer authorization_uri=https://login.microsoftonline.com/common, Basic realm="https://dev.azure.com/"`)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte("Access Denied: The Personal Access Token used is not valid or has expired."))
		return
	}
	if s.throttled(w) {
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/"+s.opts.Org+"/_apis/distributedtask/pools")
	if !ok {
		vssError(w, http.StatusNotFound, "ResourceNotFoundException", "The resource "+r.URL.Path+" could not be found.")
		return
	}
	if r.Method != http.MethodGet {
		vssError(w, http.StatusMethodNotAllowed, "HttpMethodNotAllowedException", "The requested resource does not support http method '"+r.Method+"'.")
		return
	}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	if rest == "" || rest == "/" {
		s.listPools(w, r)
		return
	}
	id, err := strconv.Atoi(parts[0])
	if err != nil || len(parts) > 2 || len(parts) == 2 && parts[1] != "jobrequests" {
		vssError(w, http.StatusNotFound, "ResourceNotFoundException", "The resource "+r.URL.Path+" could not be found.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var p *pool
	for _, c := range s.pools {
		if c.id == id {
			p = c
		}
	}
	if p == nil {
		vssError(w, http.StatusNotFound, "TaskAgentPoolNotFoundException", fmt.Sprintf("Agent pool %d could not be found.", id))
		return
	}
	if len(parts) == 1 {
		writeJSON(w, http.StatusOK, poolJSON(p))
		return
	}
	s.jobRequests(w, r, p)
}

// throttled sets the rate-limit headers of a delayed identity and answers 429 to a blocked one.
func (s *Server) throttled(w http.ResponseWriter) bool {
	s.mu.Lock()
	delay, retry := s.delay, s.retryAfter
	s.mu.Unlock()
	if delay == 0 && retry == 0 {
		return false
	}
	h := w.Header()
	h.Set("X-RateLimit-Resource", "Core")
	h.Set("X-RateLimit-Delay", strconv.FormatFloat(delay.Seconds(), 'f', 3, 64))
	h.Set("X-RateLimit-Limit", "200")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(5*time.Minute).Unix(), 10))
	if retry == 0 {
		return false
	}
	h.Set("Retry-After", strconv.Itoa(int(retry.Seconds())))
	vssError(w, http.StatusTooManyRequests, "RequestBlockedException", "Request was blocked due to exceeding usage of resource 'Core' in namespace 'User'.")
	return true
}

func poolJSON(p *pool) map[string]any {
	return map[string]any{"id": p.id, "name": p.name, "isHosted": false, "poolType": "automation", "size": 0,
		"isLegacy": false, "autoProvision": false, "autoUpdate": true, "scope": "0a7b5c8a-0000-4000-8000-00000000000" + strconv.Itoa(p.id%10),
		"createdOn": "2026-01-01T00:00:00.000Z", "options": "none"}
}

// listPools answers Pools - Get Agent Pools, filtered by poolName without case.
func (s *Server) listPools(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("poolName")
	s.mu.Lock()
	defer s.mu.Unlock()
	value := []any{}
	for _, p := range s.pools {
		if name == "" || strings.EqualFold(name, p.name) {
			value = append(value, poolJSON(p))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(value), "value": value})
}

// jobRequests answers the pool's job request list.
func (s *Server) jobRequests(w http.ResponseWriter, r *http.Request, p *pool) {
	q := r.URL.Query()
	top, completed := -1, -1
	for name, v := range map[string]*int{"$top": &top, "completedRequestCount": &completed} {
		if raw := q.Get(name); raw != "" {
			n, err := strconv.Atoi(raw)
			if err != nil || n < 0 {
				vssError(w, http.StatusBadRequest, "InvalidQueryParameterException", fmt.Sprintf("The value '%s' is not valid for %s.", raw, name))
				return
			}
			*v = n
		}
	}
	reqs := slices.Clone(p.jobs)
	if completed >= 0 {
		// The unfinished requests, and at most completed finished ones (the newest).
		var kept []*jobRequest
		done := 0
		for i := len(reqs) - 1; i >= 0; i-- {
			if reqs[i].result == "" || done < completed {
				if reqs[i].result != "" {
					done++
				}
				kept = append([]*jobRequest{reqs[i]}, kept...)
			}
		}
		reqs = kept
	}
	compact := false
	if top >= 0 {
		// The newest first, in the compact form.
		slices.Reverse(reqs)
		reqs, compact = reqs[:min(top, len(reqs))], true
	}
	value := make([]any, 0, len(reqs))
	for _, jr := range reqs {
		value = append(value, jobJSON(p, jr, compact))
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(value), "value": value})
}

func agentJSON(id int, name string) map[string]any {
	return map[string]any{"_links": map[string]any{"self": map[string]string{"href": "https://dev.azure.com/_apis/distributedtask/agents/" + strconv.Itoa(id)}},
		"id": id, "name": name, "version": "4.248.0", "enabled": true, "status": "online", "provisioningState": "Provisioned"}
}

// jobJSON is a TaskAgentJobRequest, null fields left out.
func jobJSON(p *pool, jr *jobRequest, compact bool) map[string]any {
	demands := jr.job.Demands
	if demands == nil {
		demands = []string{}
	}
	j := map[string]any{"requestId": jr.id, "queueTime": jr.queued.Format(time.RFC3339Nano), "serviceOwner": "00025394-6065-48ca-87d9-7f5672854ef7",
		"hostId": "8e3d8b7c-0000-4000-8000-000000000001", "scopeId": "5d7b5c8a-0000-4000-8000-000000000001", "planType": "Build",
		"planId": fmt.Sprintf("7b1f4d2e-0000-4000-8000-%012d", jr.id), "jobId": fmt.Sprintf("3c2e1a0b-0000-4000-8000-%012d", jr.id),
		"demands": demands, "poolId": p.id, "orchestrationId": fmt.Sprintf("orch-%d.job", jr.id), "priority": 0,
		"definition": map[string]any{"id": 1, "name": "ci"}, "owner": map[string]any{"id": jr.id, "name": "ci-" + strconv.Itoa(jr.id)},
		"data": map[string]string{"ParallelismTag": "Private", "IsScheduledKey": "False"}}
	if !jr.received.IsZero() {
		j["assignTime"] = jr.received.Format(time.RFC3339Nano)
		j["receiveTime"] = jr.received.Format(time.RFC3339Nano)
		j["reservedAgent"] = agentJSON(1, jr.agent)
	}
	if jr.result != "" {
		j["finishTime"] = jr.finished.Format(time.RFC3339Nano)
		j["result"] = jr.result
	} else {
		j["lockedUntil"] = jr.queued.Add(5 * time.Minute).Format(time.RFC3339Nano)
	}
	if !compact {
		agents := make([]any, 0, len(jr.job.MatchedAgents))
		for i, name := range jr.job.MatchedAgents {
			agents = append(agents, agentJSON(i+1, name))
		}
		j["matchedAgents"] = agents
	}
	return j
}

// Close stops the server before the test ends, for tests of an unreachable organization.
func (s *Server) Close() { s.srv.Close() }
