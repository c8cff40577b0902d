package azuredevops

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// get requests path with basic auth user:token ("" token: no auth) and decodes a JSON answer.
func get(t *testing.T, s *Server, path, user, token string) (int, http.Header, map[string]any, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.SetBasicAuth(user, token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var v map[string]any
	_ = json.Unmarshal(body, &v)
	return resp.StatusCode, resp.Header, v, string(body)
}

// TestAzureDevOpsConventions: the fake answers as Microsoft's REST reference documents.
func TestAzureDevOpsConventions(t *testing.T) {
	s := Start(t, Options{Org: "acme", Token: "pat"})
	linux := s.AddPool("Linux")
	s.AddPool("windows")
	ids := s.Queue(linux, Job{Demands: []string{"maven"}, MatchedAgents: []string{"tmpl"}}, Job{}, Job{Demands: []string{"java"}})
	s.Take(ids[1], "agent-1")

	// A PAT is the basic auth password, with any user name; nothing else gets in.
	for _, tt := range []struct{ user, token string }{{"", ""}, {"", "wrong"}, {"pat", ""}} {
		status, h, _, body := get(t, s, "/acme/_apis/distributedtask/pools", tt.user, tt.token)
		if status != 401 || !strings.Contains(h.Get("WWW-Authenticate"), "Basic") || !strings.HasPrefix(body, "Access Denied") {
			t.Errorf("%q:%q: %d %q %q", tt.user, tt.token, status, h.Get("WWW-Authenticate"), body)
		}
	}
	// Pools by name, without case; by ID; an unknown one.
	if status, _, v, _ := get(t, s, "/acme/_apis/distributedtask/pools?poolName=linux", "", "pat"); status != 200 || v["count"] != 1.0 ||
		v["value"].([]any)[0].(map[string]any)["id"] != float64(linux) {
		t.Errorf("by name: %d %v", status, v)
	}
	if _, _, v, _ := get(t, s, "/acme/_apis/distributedtask/pools?poolName=mac", "someone", "pat"); v["count"] != 0.0 || len(v["value"].([]any)) != 0 {
		t.Errorf("unknown name: %v", v)
	}
	if _, _, v, _ := get(t, s, "/acme/_apis/distributedtask/pools", "", "pat"); v["count"] != 2.0 {
		t.Errorf("all pools: %v", v)
	}
	if status, _, v, _ := get(t, s, "/acme/_apis/distributedtask/pools/10", "", "pat"); status != 200 || v["name"] != "Linux" {
		t.Errorf("by ID: %d %v", status, v)
	}
	if status, _, v, _ := get(t, s, "/acme/_apis/distributedtask/pools/99/jobrequests", "", "pat"); status != 404 || v["typeKey"] != "TaskAgentPoolNotFoundException" ||
		v["message"] != "Agent pool 99 could not be found." || v["$id"] != "1" {
		t.Errorf("unknown pool: %d %v", status, v)
	}
	if status, _, v, _ := get(t, s, "/other/_apis/distributedtask/pools", "", "pat"); status != 404 || v["typeKey"] == nil {
		t.Errorf("another organization: %d %v", status, v)
	}

	// Job requests: all of them with matchedAgents; null fields left out.
	_, _, v, _ := get(t, s, "/acme/_apis/distributedtask/pools/10/jobrequests", "", "pat")
	jobs := v["value"].([]any)
	if v["count"] != 3.0 || len(jobs) != 3 {
		t.Fatalf("all requests: %v", v)
	}
	first, second := jobs[0].(map[string]any), jobs[1].(map[string]any)
	if _, ok := first["result"]; ok || first["receiveTime"] != nil || first["matchedAgents"].([]any)[0].(map[string]any)["name"] != "tmpl" {
		t.Errorf("a waiting request: %v", first)
	}
	if second["receiveTime"] == nil || second["reservedAgent"].(map[string]any)["name"] != "agent-1" {
		t.Errorf("a taken request: %v", second)
	}
	// $top: the newest N, without matchedAgents.
	_, _, v, _ = get(t, s, "/acme/_apis/distributedtask/pools/10/jobrequests?$top=2", "", "pat")
	jobs = v["value"].([]any)
	if len(jobs) != 2 || jobs[0].(map[string]any)["requestId"] != float64(ids[2]) || jobs[0].(map[string]any)["matchedAgents"] != nil {
		t.Errorf("$top=2: %v", v)
	}
	// completedRequestCount=0: the unfinished ones only.
	s.FinishAll(linux, "succeeded")
	s.Queue(linux, Job{})
	_, _, v, _ = get(t, s, "/acme/_apis/distributedtask/pools/10/jobrequests?completedRequestCount=0", "", "pat")
	if v["count"] != 1.0 {
		t.Errorf("completedRequestCount=0: %v", v)
	}
	_, _, v, _ = get(t, s, "/acme/_apis/distributedtask/pools/10/jobrequests", "", "pat")
	if jobs := v["value"].([]any); len(jobs) != 4 || jobs[0].(map[string]any)["result"] != "succeeded" || jobs[0].(map[string]any)["finishTime"] == nil {
		t.Errorf("finished requests: %v", v)
	}
	if status, _, v, _ := get(t, s, "/acme/_apis/distributedtask/pools/10/jobrequests?$top=x", "", "pat"); status != 400 || v["message"] == nil {
		t.Errorf("$top=x: %d %v", status, v)
	}

	// Throttling: delayed answers carry the headers, blocked ones get 429 and Retry-After.
	s.SetThrottle(2*time.Second, 0)
	if status, h, _, _ := get(t, s, "/acme/_apis/distributedtask/pools", "", "pat"); status != 200 || h.Get("X-RateLimit-Delay") != "2.000" ||
		h.Get("X-RateLimit-Resource") != "Core" || h.Get("X-RateLimit-Remaining") == "" || h.Get("X-RateLimit-Reset") == "" {
		t.Errorf("delayed: %d %v", status, h)
	}
	s.SetThrottle(0, 30*time.Second)
	if status, h, v, _ := get(t, s, "/acme/_apis/distributedtask/pools", "", "pat"); status != 429 || h.Get("Retry-After") != "30" || v["typeKey"] != "RequestBlockedException" {
		t.Errorf("blocked: %d %v %v", status, h, v)
	}

	// The log keeps what each request carried.
	reqs := s.Requests()
	if last := reqs[len(reqs)-1]; !last.Basic || last.Token != "pat" || last.Status != 429 || last.Path != "/acme/_apis/distributedtask/pools" {
		t.Errorf("last request: %+v", last)
	}
}
