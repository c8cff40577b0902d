package dynatrace

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestConventions: the fake's own check of the Dynatrace conventions the contract tests rely on.
func TestConventions(t *testing.T) {
	s := Start(t, Options{Tokens: map[string][]string{"dt0c01.OK": {ScopeMetricsRead}, "dt0s16.P": {ScopeStorageRead}}})
	s.SetValue("m:fold", 7)
	do := func(method, path, auth, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, s.URL+path, strings.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var v map[string]any
		_ = json.Unmarshal(b, &v)
		return resp.StatusCode, v
	}
	message := func(v map[string]any) string {
		e, _ := v["error"].(map[string]any)
		m, _ := e["message"].(string)
		return m
	}
	for _, tt := range []struct {
		name, method, path, auth, body string
		status                         int
		message                        string
	}{
		{"no token", "GET", "/api/v2/metrics/query?metricSelector=m:fold", "", "", 401, "Missing authorization parameter."},
		{"bearer on the environment API", "GET", "/api/v2/metrics/query?metricSelector=m:fold", "Bearer dt0c01.OK", "", 401, "Token Authentication failed"},
		{"no scope", "GET", "/api/v2/metrics/query?metricSelector=m:fold", "Api-Token dt0s16.P", "", 403, "metrics.read"},
		{"no selector", "GET", "/api/v2/metrics/query", "Api-Token dt0c01.OK", "", 400, "Constraints violated."},
		{"bad resolution", "GET", "/api/v2/metrics/query?metricSelector=m:fold&resolution=7x", "Api-Token dt0c01.OK", "", 400, "Constraints violated."},
		{"unknown metric", "GET", "/api/v2/metrics/query?metricSelector=x", "Api-Token dt0c01.OK", "", 404, "not found"},
		{"data points", "GET", "/api/v2/metrics/query?metricSelector=m:fold&from=now-5m&resolution=Inf", "Api-Token dt0c01.OK", "", 200, ""},
		{"unknown request token", "GET", "/platform/storage/query/v1/query:poll?request-token=nope", "Bearer dt0s16.P", "", 410, "no longer available"},
		{"empty query", "POST", "/platform/storage/query/v1/query:execute", "Bearer dt0s16.P", `{"query":""}`, 400, "missing"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, v := do(tt.method, tt.path, tt.auth, tt.body)
			if status != tt.status || !strings.Contains(message(v), tt.message) {
				t.Fatalf("%d %v, want %d %q", status, v, tt.status, tt.message)
			}
			if status == 200 {
				r := v["result"].([]any)[0].(map[string]any)
				vals := r["data"].([]any)[0].(map[string]any)["values"].([]any)
				if r["metricId"] != "m:fold" || len(vals) != 1 || vals[0] != 7.0 || v["resolution"] != "Inf" {
					t.Fatalf("answer %v", v)
				}
			}
		})
	}
}
