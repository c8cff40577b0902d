package solr

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// get sends a GET to the fake, with basic credentials when user is set.
func get(t *testing.T, s *Server, path string, q url.Values, user, pass string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+path+"?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

// TestSolrConventions: the fake answers as Solr's reference guide documents: the select
// handler's JSON, rows, the error JSON, the Basic Authentication plugin's 401s and the
// container's 404 page.
func TestSolrConventions(t *testing.T) {
	s := Start(t, Options{Username: "solr", Password: "SolrRocks"})
	s.CreateCollection("orders", "status")
	s.SetCount("orders", "status:queued", 12)

	code, hdr, body := get(t, s, "/solr/orders/select", url.Values{"q": {"status:queued"}, "wt": {"json"}}, "", "")
	if code != 401 || hdr.Get("WWW-Authenticate") != `Basic realm="solr"` || !strings.Contains(body, "require authentication") {
		t.Errorf("no credentials: %d %v %s", code, hdr, body)
	}
	if code, _, body = get(t, s, "/solr/orders/select", url.Values{"q": {"*:*"}}, "solr", "wrong"); code != 401 || !strings.Contains(body, "Bad credentials") {
		t.Errorf("wrong password: %d %s", code, body)
	}

	code, hdr, body = get(t, s, "/solr/orders/select", url.Values{"q": {"status:queued"}, "wt": {"json"}}, "solr", "SolrRocks")
	var ok struct {
		ResponseHeader struct {
			Status int               `json:"status"`
			Params map[string]string `json:"params"`
		} `json:"responseHeader"`
		Response struct {
			NumFound      int64               `json:"numFound"`
			Start         int64               `json:"start"`
			NumFoundExact bool                `json:"numFoundExact"`
			Docs          []map[string]string `json:"docs"`
		} `json:"response"`
	}
	if err := json.Unmarshal([]byte(body), &ok); err != nil || code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
		t.Fatalf("select: %d %v %s", code, err, body)
	}
	if ok.ResponseHeader.Status != 0 || ok.ResponseHeader.Params["q"] != "status:queued" || ok.Response.NumFound != 12 || !ok.Response.NumFoundExact || len(ok.Response.Docs) != 10 {
		t.Errorf("select answered %+v", ok)
	}
	// *:* matches every document; rows bounds the documents, not numFound.
	if _, _, body = get(t, s, "/solr/orders/select", url.Values{"q": {"*:*"}, "rows": {"0"}}, "solr", "SolrRocks"); !strings.Contains(body, `"numFound":12`) || !strings.Contains(body, `"docs":[]`) {
		t.Errorf("*:* rows=0: %s", body)
	}

	var fail struct {
		Error struct {
			Metadata []string `json:"metadata"`
			Msg      string   `json:"msg"`
			Code     int      `json:"code"`
		} `json:"error"`
	}
	for _, tt := range []struct{ q, msg string }{
		{"status:(queued", "SyntaxError: Cannot parse 'status:(queued'"},
		{"colour:red", "undefined field colour"},
	} {
		code, _, body = get(t, s, "/solr/orders/select", url.Values{"q": {tt.q}}, "solr", "SolrRocks")
		if err := json.Unmarshal([]byte(body), &fail); err != nil || code != 400 || fail.Error.Code != 400 || !strings.Contains(fail.Error.Msg, tt.msg) || fail.Error.Metadata[0] != "error-class" {
			t.Errorf("q=%s: %d %s", tt.q, code, body)
		}
	}
	if code, hdr, body = get(t, s, "/solr/nope/select", url.Values{"q": {"*:*"}}, "solr", "SolrRocks"); code != 404 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") || !strings.Contains(body, "HTTP ERROR 404") {
		t.Errorf("unknown collection: %d %s", code, body)
	}
	reqs := s.Requests()
	if len(reqs) != 7 || reqs[0].User != "" || reqs[2].User != "solr" || reqs[2].Status != 200 || reqs[6].Status != 404 {
		t.Errorf("requests %+v", reqs)
	}
}
