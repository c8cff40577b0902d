package pulsar

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func get(t *testing.T, c *http.Client, u string, hdr map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestPulsarAdminConventions: stats and partitioned stats with msgBacklog per subscription, the
// {"reason"} 404s, the auth providers and the header that picks one, and the 307 to the owner.
func TestPulsarAdminConventions(t *testing.T) {
	s := Start(t, Options{Tokens: []string{"tok"}, Username: "admin", Password: "pw", Redirect: true})
	s.CreateTopic("public/default/orders", 0, "workers")
	s.CreateTopic("public/default/events", 3, "workers", "audit")
	s.SetBacklog("public/default/orders", "workers", 12)
	s.SetBacklog("public/default/events", "workers", 10)
	c := http.DefaultClient
	tok := map[string]string{"Authorization": "Bearer tok", "X-Pulsar-Auth-Method-Name": "token"}

	code, body := get(t, c, s.URL+"/admin/v2/persistent/public/default/orders/stats", tok)
	var st struct {
		Subscriptions map[string]struct {
			MsgBacklog int64 `json:"msgBacklog"`
		} `json:"subscriptions"`
		Metadata struct {
			Partitions int `json:"partitions"`
		} `json:"metadata"`
		Partitions map[string]json.RawMessage `json:"partitions"`
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil || code != 200 || st.Subscriptions["workers"].MsgBacklog != 12 {
		t.Fatalf("stats: %d %s", code, body)
	}
	code, body = get(t, c, s.URL+"/admin/v2/persistent/public/default/events/partitioned-stats", tok)
	if err := json.Unmarshal([]byte(body), &st); err != nil || code != 200 || st.Subscriptions["workers"].MsgBacklog != 10 || st.Metadata.Partitions != 3 ||
		len(st.Partitions) != 3 || st.Partitions["persistent://public/default/events-partition-0"] == nil {
		t.Fatalf("partitioned stats: %d %s", code, body)
	}
	for _, tt := range []struct {
		path, want string
	}{
		{"/admin/v2/persistent/public/default/events/stats", `{"reason":"Topic not found"}`},
		{"/admin/v2/persistent/public/default/orders/partitioned-stats", "has zero partitions"},
		{"/admin/v2/persistent/public/default/nope/stats", "Topic not found"},
	} {
		if code, body = get(t, c, s.URL+tt.path, tok); code != 404 || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %d %s", tt.path, code, body)
		}
	}
	for _, tt := range []struct {
		name string
		hdr  map[string]string
		code int
	}{
		{"no credentials", nil, 401},
		{"wrong token", map[string]string{"Authorization": "Bearer nope"}, 401},
		{"basic without the header", map[string]string{"Authorization": "Basic YWRtaW46cHc="}, 200},
		{"token credentials named basic", map[string]string{"Authorization": "Bearer tok", "X-Pulsar-Auth-Method-Name": "basic"}, 401},
	} {
		code, body = get(t, c, s.URL+"/admin/v2/persistent/public/default/orders/stats", tt.hdr)
		if code != tt.code || code == 401 && !strings.Contains(body, "HTTP ERROR 401") {
			t.Errorf("%s: %d %s", tt.name, code, body)
		}
	}
	// Every stats request went through the 307 first.
	reqs := s.Requests()
	if reqs[0].Status != http.StatusTemporaryRedirect || reqs[1].Query.Get("authoritative") != "false" || reqs[1].Provider != "token" || reqs[1].AuthMethod != "token" {
		t.Errorf("requests %+v", reqs[:2])
	}
}
