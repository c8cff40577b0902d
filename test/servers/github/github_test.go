package github

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// get requests path with the Authorization header auth (none when empty).
func get(t *testing.T, s *Server, path, auth string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// TestFakeSpeaksGitHub: the fake's answers follow GitHub's REST API reference: both
// Authorization forms, GitHub's 401 messages, pages linked through the Link header, rate-limit
// headers that count down (304s excepted) and GitHub's 403 body once spent.
func TestFakeSpeaksGitHub(t *testing.T) {
	s := Start(t, Options{Token: "ghp_t", RateLimit: 4})
	repos := make([]string, 65)
	for i := range repos {
		repos[i] = "r" + strconv.Itoa(i)
	}
	s.AddOrg("acme", repos...)

	for auth, want := range map[string]string{"": "Requires authentication", "Bearer nope": "Bad credentials", "Basic Z2hwX3Q=": "Bad credentials"} {
		resp, body := get(t, s, "/orgs/acme/repos", auth)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), want) {
			t.Errorf("Authorization %q: %d %s", auth, resp.StatusCode, body)
		}
	}

	resp, body := get(t, s, "/orgs/acme/repos?page=2", "token ghp_t")
	var page []map[string]any
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &page) != nil || len(page) != 30 || page[0]["name"] != "r30" {
		t.Fatalf("page 2 of 30: %d %s", resp.StatusCode, body)
	}
	wantLink := `<` + s.URL + `/orgs/acme/repos?page=1>; rel="prev", <` + s.URL + `/orgs/acme/repos?page=3>; rel="next", <` +
		s.URL + `/orgs/acme/repos?page=3>; rel="last", <` + s.URL + `/orgs/acme/repos?page=1>; rel="first"`
	if got := resp.Header.Get("Link"); got != wantLink {
		t.Errorf("Link %s\nwant %s", got, wantLink)
	}
	if resp.Header.Get("X-RateLimit-Limit") != "4" || resp.Header.Get("X-RateLimit-Remaining") != "3" || resp.Header.Get("X-RateLimit-Used") != "1" ||
		resp.Header.Get("X-RateLimit-Resource") != "core" || resp.Header.Get("X-RateLimit-Reset") == "" {
		t.Errorf("rate-limit headers %v", resp.Header)
	}

	resp, _ = get(t, s, "/orgs/acme/repos?per_page=100", "Bearer ghp_t")
	if resp.Header.Get("Link") != "" || resp.Header.Get("X-RateLimit-Remaining") != "2" {
		t.Errorf("one page of 100: Link %q, remaining %s", resp.Header.Get("Link"), resp.Header.Get("X-RateLimit-Remaining"))
	}
	etag := resp.Header.Get("ETag")
	resp, body = get(t, s, "/orgs/acme/repos?per_page=100", "Bearer ghp_t", "If-None-Match", etag)
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 || resp.Header.Get("X-RateLimit-Remaining") != "2" {
		t.Errorf("conditional request: %d, remaining %s, body %q", resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining"), body)
	}

	get(t, s, "/users/acme/repos", "Bearer ghp_t")
	get(t, s, "/repos/acme/r1/actions/runs?status=queued", "Bearer ghp_t")
	resp, body = get(t, s, "/repos/acme/r1/actions/runs?status=queued", "Bearer ghp_t")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "API rate limit exceeded") || resp.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("spent limit: %d %s %v", resp.StatusCode, body, resp.Header)
	}

	s.ExhaustRateLimit(time.Now().Add(-time.Second)) // a reset in the past starts a new window
	s.SetSecondaryLimit(http.StatusTooManyRequests, 30)
	resp, body = get(t, s, "/orgs/acme/repos", "Bearer ghp_t")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "30" || !strings.Contains(string(body), "secondary rate limit") {
		t.Errorf("secondary limit: %d %s %v", resp.StatusCode, body, resp.Header)
	}
	s.ClearSecondaryLimit()
	if resp, body = get(t, s, "/orgs/nobody/repos", "Bearer ghp_t"); resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), `"Not Found"`) {
		t.Errorf("unknown organization: %d %s", resp.StatusCode, body)
	}
}
