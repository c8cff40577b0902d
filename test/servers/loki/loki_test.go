package loki

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestConventions: the fake answers as Loki's HTTP API reference documents.
func TestConventions(t *testing.T) {
	s := Start(t, Options{MultiTenant: true})
	s.SetValue("a", "sum(x)", 4)
	s.Set("a", "lines", Answer{Type: Streams, Series: []Series{{Labels: map[string]string{"app": "w"}, Values: []float64{1, 2}}}})
	get := func(tenant, method string, params url.Values) (int, string) {
		t.Helper()
		var body io.Reader
		u := s.URL + "/loki/api/v1/query"
		if method == http.MethodPost {
			body = strings.NewReader(params.Encode())
		} else {
			u += "?" + params.Encode()
		}
		req, _ := http.NewRequest(method, u, body)
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if tenant != "" {
			req.Header.Set("X-Scope-OrgID", tenant)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tt := range []struct {
		name, tenant, method string
		params               url.Values
		status               int
		contains             string
	}{
		{"vector", "a", "GET", url.Values{"query": {"sum(x)"}}, 200, `"resultType":"vector","result":[{"metric":{},"value":[`},
		{"value is a string", "a", "GET", url.Values{"query": {"sum(x)"}, "time": {"1700000000"}}, 200, `"value":[1700000000,"4"]`},
		{"time in nanoseconds", "a", "GET", url.Values{"query": {"sum(x)"}, "time": {"1700000000500000000"}}, 200, `[1700000000.5,"4"]`},
		{"time in RFC 3339", "a", "GET", url.Values{"query": {"sum(x)"}, "time": {"2023-11-14T22:13:20Z"}}, 200, `[1700000000,"4"]`},
		{"POST form", "a", "POST", url.Values{"query": {"sum(x)"}}, 200, `"4"]`},
		{"streams", "a", "GET", url.Values{"query": {"lines"}}, 200, `"resultType":"streams","result":[{"stream":{"app":"w"},"values":[["`},
		{"another tenant sees nothing", "b", "GET", url.Values{"query": {"sum(x)"}}, 200, `"result":[]`},
		{"no tenant", "", "GET", url.Values{"query": {"sum(x)"}}, 401, "no org id"},
		{"no query", "a", "GET", url.Values{}, 400, "parse error"},
		{"bad time", "a", "GET", url.Values{"query": {"sum(x)"}, "time": {"soon"}}, 400, `invalid parameter "time"`},
		{"method", "a", "DELETE", url.Values{"query": {"sum(x)"}}, 405, "method not allowed"},
	} {
		status, body := get(tt.tenant, tt.method, tt.params)
		if status != tt.status || !strings.Contains(body, tt.contains) {
			t.Errorf("%s: %d %s, want %d with %s", tt.name, status, body, tt.status, tt.contains)
		}
		if status == 200 {
			var env struct {
				Status string `json:"status"`
				Data   struct {
					Stats map[string]any `json:"stats"`
				} `json:"data"`
			}
			if err := json.Unmarshal([]byte(body), &env); err != nil || env.Status != "success" || env.Data.Stats == nil {
				t.Errorf("%s: envelope %s (%v)", tt.name, body, err)
			}
		}
	}
	if n := len(s.Requests()); n != 11 {
		t.Errorf("%d requests recorded, want 11", n)
	}
}

// TestGatewayCredentials: with credentials set, the gateway in front takes either basic or bearer.
func TestGatewayCredentials(t *testing.T) {
	s := Start(t, Options{Username: "u", Password: "p", BearerToken: "tok"})
	for _, tt := range []struct {
		set    func(r *http.Request)
		status int
	}{
		{func(r *http.Request) {}, 401},
		{func(r *http.Request) { r.SetBasicAuth("u", "p") }, 200},
		{func(r *http.Request) { r.SetBasicAuth("u", "x") }, 401},
		{func(r *http.Request) { r.Header.Set("Authorization", "Bearer tok") }, 200},
		{func(r *http.Request) { r.Header.Set("Authorization", "Bearer nope") }, 401},
	} {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/loki/api/v1/query?query=x", nil)
		tt.set(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("Authorization %q: %d, want %d", req.Header.Get("Authorization"), resp.StatusCode, tt.status)
		}
	}
}
