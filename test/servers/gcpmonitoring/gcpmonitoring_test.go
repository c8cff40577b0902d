package gcpmonitoring

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2/jwt"
)

// The fake's own test of Google's conventions: the JWT bearer grant, Google's error JSON, the
// required filter and interval, int64 values as strings, and pagination.
func TestFakeFollowsGoogle(t *testing.T) {
	s := Start(t)
	var key struct {
		PrivateKey  string `json:"private_key"`
		ClientEmail string `json:"client_email"`
		TokenURI    string `json:"token_uri"`
	}
	if err := json.Unmarshal([]byte(s.NewServiceAccount("p1", "reader")), &key); err != nil {
		t.Fatal(err)
	}
	if key.TokenURI != s.TokenURI || key.ClientEmail != "reader@p1.iam.gserviceaccount.com" {
		t.Fatalf("key %+v", key)
	}
	conf := &jwt.Config{Email: key.ClientEmail, PrivateKey: []byte(key.PrivateKey), TokenURL: key.TokenURI,
		Scopes: []string{"https://www.googleapis.com/auth/monitoring.read"}}
	tok, err := conf.TokenSource(context.Background()).Token()
	if err != nil || !strings.HasPrefix(tok.AccessToken, "ya29.") {
		t.Fatalf("token %+v, %v", tok, err)
	}
	// A grant signed by another key is refused as Google refuses it.
	forged := *conf
	forged.PrivateKey = []byte(mustKey(t, s))
	if _, err := forged.TokenSource(context.Background()).Token(); err == nil || !strings.Contains(err.Error(), "Invalid JWT Signature") {
		t.Errorf("forged grant: %v", err)
	}

	s.PageSize = 1
	now := time.Now().Truncate(time.Second)
	for _, q := range []string{"a", "b"} {
		s.SetSeries("p1", Series{MetricType: "custom.googleapis.com/depth", ResourceType: "global",
			ResourceLabels: map[string]string{"project_id": "p1", "queue": q}, Points: []Point{{Time: now.Add(-time.Minute), Int: 1}, {Time: now.Add(-5 * time.Second), Int: 7}}})
	}
	get := func(project, token string, q url.Values) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, s.URL+"v3/projects/"+project+"/timeSeries?"+q.Encode(), nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var out map[string]any
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		return resp.StatusCode, out
	}
	q := url.Values{"filter": {`metric.type="custom.googleapis.com/depth"`}, "interval.startTime": {now.Add(-2 * time.Minute).UTC().Format(time.RFC3339)},
		"interval.endTime": {now.UTC().Format(time.RFC3339)}}
	status, body := get("p1", tok.AccessToken, q)
	if status != 200 || body["nextPageToken"] != "page-1" {
		t.Fatalf("first page %d %v", status, body)
	}
	points := body["timeSeries"].([]any)[0].(map[string]any)["points"].([]any)
	if v := points[0].(map[string]any)["value"].(map[string]any)["int64Value"]; v != "7" || len(points) != 2 {
		t.Errorf("newest point %v of %d, want the string 7 of 2", v, len(points))
	}
	q.Set("pageToken", "page-1")
	if status, body = get("p1", tok.AccessToken, q); status != 200 || body["nextPageToken"] != nil || len(body["timeSeries"].([]any)) != 1 {
		t.Errorf("last page %d %v", status, body)
	}
	q.Del("pageToken")

	errorOf := func(body map[string]any) (float64, string) {
		e, _ := body["error"].(map[string]any)
		code, _ := e["code"].(float64)
		st, _ := e["status"].(string)
		return code, st
	}
	for _, tt := range []struct {
		name, project, token string
		change               func(url.Values)
		code                 int
		status               string
	}{
		{name: "no token", project: "p1", code: 401, status: "UNAUTHENTICATED"},
		{name: "another project", project: "p2", token: tok.AccessToken, code: 403, status: "PERMISSION_DENIED"},
		{name: "no filter", project: "p1", token: tok.AccessToken, change: func(v url.Values) { v.Del("filter") }, code: 400, status: "INVALID_ARGUMENT"},
		{name: "no metric type", project: "p1", token: tok.AccessToken, change: func(v url.Values) { v.Set("filter", `resource.type="global"`) }, code: 400, status: "INVALID_ARGUMENT"},
		{name: "no end time", project: "p1", token: tok.AccessToken, change: func(v url.Values) { v.Del("interval.endTime") }, code: 400, status: "INVALID_ARGUMENT"},
		{name: "aligner without period", project: "p1", token: tok.AccessToken, change: func(v url.Values) { v.Set("aggregation.perSeriesAligner", "ALIGN_MEAN") }, code: 400, status: "INVALID_ARGUMENT"},
	} {
		v := url.Values{}
		for k, vals := range q {
			v[k] = vals
		}
		if tt.change != nil {
			tt.change(v)
		}
		status, body := get(tt.project, tt.token, v)
		if code, st := errorOf(body); status != tt.code || int(code) != tt.code || st != tt.status {
			t.Errorf("%s: %d %v, want %d %s", tt.name, status, body, tt.code, tt.status)
		}
	}
}

// mustKey is the private key of a fresh account of s, to sign with a key the account does not own.
func mustKey(t *testing.T, s *Server) string {
	t.Helper()
	var key struct {
		PrivateKey string `json:"private_key"`
	}
	if err := json.Unmarshal([]byte(s.NewServiceAccount("p9", "other")), &key); err != nil {
		t.Fatal(err)
	}
	return key.PrivateKey
}
