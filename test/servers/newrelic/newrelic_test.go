package newrelic

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestNerdGraphConventions: the fake answers as NerdGraph does: keys in Api-Key, GraphQL's
// envelope with errors, rows with their fields in the query's order.
func TestNerdGraphConventions(t *testing.T) {
	srv := Start(t)
	srv.AddKey("NRAK-good", 1)
	srv.SetRows(1, "SELECT max(a), count(*) FROM T", `{"max.a": 7, "count": 2}`)
	srv.SetSyntaxError(1, "SELEC", "bad")
	const q = `query($accountId: Int!, $query: Nrql!) { actor { account(id: $accountId) { nrql(query: $query) { results } } } }`
	body := func(account any, nrql string) string {
		b, _ := json.Marshal(map[string]any{"query": q, "variables": map[string]any{"accountId": account, "query": nrql}})
		return string(b)
	}
	for _, tt := range []struct {
		name, method, key, contentType, body string
		status                               int
		want                                 string
	}{
		{"rows in the query's order", "POST", "NRAK-good", "application/json", body(1, "SELECT max(a), count(*) FROM T"), 200, `"results":[{"max.a":7,"count":2}]`},
		{"a query nobody set has no row", "POST", "NRAK-good", "application/json", body(1, "SELECT 1"), 200, `"results":[]`},
		{"no key", "POST", "", "application/json", body(1, "SELECT 1"), 401, `"errorClass":"UNAUTHORIZED"`},
		{"wrong key", "POST", "NRAK-bad", "application/json", body(1, "SELECT 1"), 401, "Invalid API key"},
		{"GET", "GET", "NRAK-good", "", "", 405, "POST"},
		{"not JSON", "POST", "NRAK-good", "text/plain", "SELECT 1", 400, "application/json"},
		{"account not given", "POST", "NRAK-good", "application/json", `{"query":"` + strings.ReplaceAll(q, `"`, `\"`) + `","variables":{"query":"SELECT 1"}}`, 200, "$accountId of required type Int!"},
		{"account of another user", "POST", "NRAK-good", "application/json", body(2, "SELECT 1"), 200, `"account":null`},
		{"syntax error", "POST", "NRAK-good", "application/json", body(1, "SELEC"), 200, "NRQL Syntax Error: bad"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL, strings.NewReader(tt.body))
			if tt.key != "" {
				req.Header.Set("Api-Key", tt.key)
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || !strings.Contains(string(got), tt.want) || resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("%d %s (%s), want %d with %s", resp.StatusCode, got, resp.Header.Get("Content-Type"), tt.status, tt.want)
			}
		})
	}
}
