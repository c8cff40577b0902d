package datadog

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// get queries /api/v1/query with the keys (none when empty).
func get(t *testing.T, s *Server, params url.Values, apiKey, appKey string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+"/api/v1/query?"+params.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if apiKey != "" {
		req.Header.Set("DD-API-KEY", apiKey)
	}
	if appKey != "" {
		req.Header.Set("DD-APPLICATION-KEY", appKey)
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

// TestFakeSpeaksDatadog: the fake's answers follow Datadog's API reference: 403 Forbidden
// without both keys, 400 {"errors"} for bad parameters, the MetricsQueryResponse envelope with
// millisecond points inside the window and null for no data, status "error" for a query that
// fails, and rate-limit headers that end in a 429.
func TestFakeSpeaksDatadog(t *testing.T) {
	s := Start(t, Options{APIKey: "api", AppKey: "app", RateLimit: 6})
	const q = "sum:jobs.queued{env:prod}"
	s.SetValue(q, 4)
	params := url.Values{"from": {"1700000000"}, "to": {"1700000090"}, "query": {q}}

	for _, keys := range [][2]string{{"", ""}, {"api", ""}, {"", "app"}, {"api", "wrong"}} {
		resp, body := get(t, s, params, keys[0], keys[1])
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), `"Forbidden"`) {
			t.Errorf("keys %q: %d %s", keys, resp.StatusCode, body)
		}
	}

	resp, body := get(t, s, params, "api", "app")
	var answer struct {
		Status   string `json:"status"`
		FromDate int64  `json:"from_date"`
		ToDate   int64  `json:"to_date"`
		Series   []struct {
			Metric    string       `json:"metric"`
			Scope     string       `json:"scope"`
			Pointlist [][]*float64 `json:"pointlist"`
		} `json:"series"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &answer) != nil || answer.Status != "ok" || len(answer.Series) != 1 {
		t.Fatalf("query: %d %s", resp.StatusCode, body)
	}
	se := answer.Series[0]
	if se.Metric != "jobs.queued" || se.Scope != "env:prod" || len(se.Pointlist) != 4 || *se.Pointlist[2][1] != 4 || se.Pointlist[3][1] != nil {
		t.Errorf("series %s", body)
	}
	if answer.FromDate != 1700000000000 || answer.ToDate != 1700000090000 || *se.Pointlist[3][0] != 1700000090000 || *se.Pointlist[0][0] < 1700000000000 {
		t.Errorf("window %s", body)
	}
	if resp.Header.Get("X-RateLimit-Limit") != "6" || resp.Header.Get("X-RateLimit-Period") != "60" || resp.Header.Get("X-RateLimit-Remaining") != "5" {
		t.Errorf("rate-limit headers %v", resp.Header)
	}

	for _, bad := range []url.Values{
		{"to": {"1"}, "query": {q}},
		{"from": {"soon"}, "to": {"1"}, "query": {q}},
		{"from": {"1"}, "to": {"2"}},
		{"from": {"1"}, "to": {"2"}, "query": {"avg:jobs.queued"}},
	} {
		resp, body := get(t, s, bad, "api", "app")
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"errors"`) {
			t.Errorf("%v: %d %s", bad, resp.StatusCode, body)
		}
	}

	s.SetError(q, "Error executing query")
	if resp, body := get(t, s, params, "api", "app"); resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"status":"error"`) {
		t.Errorf("failing query: %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, s, params, "api", "app")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("X-RateLimit-Remaining") != "0" || resp.Header.Get("X-RateLimit-Reset") == "" ||
		!strings.Contains(string(body), "Rate limit of 6 requests in 60 seconds reached") {
		t.Errorf("past the limit: %d %v %s", resp.StatusCode, resp.Header, body)
	}
}
