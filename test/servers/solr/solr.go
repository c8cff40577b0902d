// Package solr is a fake of the part of Apache Solr's HTTP API that the solr trigger reads, for
// contract tests: on a free 127.0.0.1 port it answers as the Solr Reference Guide documents
//
//	GET|POST /solr/<collection>/select   the standard request handler: q, rows, start, wt=json
//
// with Solr's conventions: the JSON response writer's {"responseHeader":{"status":0,"QTime":..,
// "params":{..}},"response":{"numFound":N,"start":S,"numFoundExact":true,"docs":[..]}}, rows
// defaulting to 10 documents; the error JSON {"responseHeader":{"status":C},"error":{"metadata":
// [..],"msg":..,"code":C}} for a query the standard parser cannot parse (400, SyntaxError) and
// for a field the schema lacks (400, undefined field); the servlet container's HTML 404 page
// for a collection that does not exist; and, with the Basic Authentication plugin on
// (Options.Username), 401 with WWW-Authenticate: Basic realm="solr" and "require
// authentication" without credentials or "Bad credentials" with wrong ones.
//
// Counts are what the test sets per collection and query; the fake parses no query beyond
// what its errors need.
package solr

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/kedactl/kedactl/test/servers/internal/answered"
)

// Options configures a server.
type Options struct {
	// Username and Password, when set, turn on the Basic Authentication plugin with that user.
	Username, Password string
}

// Request is a request the server answered.
type Request struct {
	Method, Path string
	Query        url.Values
	// User is the basic-auth user name sent, "" for none.
	User   string
	Status int
}

// Server is a running fake.
type Server struct {
	// URL is Solr's address, what host names.
	URL string

	opts Options
	srv  *httptest.Server

	mu          sync.Mutex
	collections map[string]*collection
	requests    []Request
}

type collection struct {
	fields map[string]bool
	counts map[string]int64 // query -> numFound
}

// Start starts a server on a free port of 127.0.0.1; it stops when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{opts: opts, collections: map[string]*collection{}}
	s.srv = httptest.NewServer(s.record(http.HandlerFunc(s.serve))) // httptest listens on 127.0.0.1
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// CreateCollection makes a collection whose schema has fields (besides id), empty.
func (s *Server) CreateCollection(name string, fields ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &collection{fields: map[string]bool{"id": true}, counts: map[string]int64{}}
	for _, f := range fields {
		c.fields[f] = true
	}
	s.collections[name] = c
}

// SetCount makes query on collection match n documents. A query nobody set matches none,
// except *:*, which matches the largest count set.
func (s *Server) SetCount(collectionName, query string, n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.collections[collectionName].counts[query] = n
}

// Requests returns the requests answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := answered.New(w)
		_ = r.ParseForm()
		next.ServeHTTP(sw, r)
		user, _, _ := r.BasicAuth()
		s.mu.Lock()
		defer s.mu.Unlock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.Form, User: user, Status: sw.Status})
	})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	// The authentication plugin runs before any handler: an unknown path is a 401 too.
	if s.opts.Username != "" {
		user, pass, ok := r.BasicAuth()
		switch {
		case !ok:
			authFailure(w, r, "require authentication")
			return
		case user != s.opts.Username || pass != s.opts.Password:
			authFailure(w, r, "Bad credentials")
			return
		}
	}
	name, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/solr/"), "/")
	s.mu.Lock()
	c := s.collections[name]
	s.mu.Unlock()
	if !strings.HasPrefix(r.URL.Path, "/solr/") || c == nil || rest != "select" {
		notFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		solrError(w, http.StatusMethodNotAllowed, "org.apache.solr.common.SolrException", "Unsupported method: "+r.Method)
		return
	}
	if wt := r.Form.Get("wt"); wt != "" && wt != "json" {
		// Only the JSON writer is faked; Solr would answer in the writer asked for.
		solrError(w, http.StatusBadRequest, "org.apache.solr.common.SolrException", "Unknown response writer in this fake: "+wt)
		return
	}
	q := r.Form.Get("q")
	rows, start, err := paging(r.Form)
	if err != nil {
		solrError(w, http.StatusBadRequest, "org.apache.solr.common.SolrException", err.Error())
		return
	}
	s.mu.Lock()
	n, err := c.numFound(q)
	s.mu.Unlock()
	if err != nil {
		solrError(w, http.StatusBadRequest, "org.apache.solr.search.SyntaxError", err.Error())
		return
	}
	docs := []map[string]string{}
	for i := start; i < n && i < start+rows; i++ {
		docs = append(docs, map[string]string{"id": "doc-" + strconv.FormatInt(i, 10)})
	}
	params := map[string]string{}
	for k, v := range r.Form {
		params[k] = v[0]
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"responseHeader": map[string]any{"zkConnected": nil, "status": 0, "QTime": 0, "params": params},
		"response":       map[string]any{"numFound": n, "start": start, "numFoundExact": true, "docs": docs},
	})
}

// numFound is the count of q. An empty q is Solr's default, which the standard parser reads as
// matching nothing; unbalanced parentheses are a syntax error; a field: prefix must be in the
// schema.
func (c *collection) numFound(q string) (int64, error) {
	if q == "" {
		return 0, nil
	}
	if strings.Count(q, "(") != strings.Count(q, ")") {
		return 0, fmt.Errorf("org.apache.solr.search.SyntaxError: Cannot parse '%s': Encountered \"<EOF>\" at line 1, column %d.", q, len(q))
	}
	if n, ok := c.counts[q]; ok {
		return n, nil
	}
	if q == "*:*" {
		var most int64
		for _, n := range c.counts {
			most = max(most, n)
		}
		return most, nil
	}
	for _, term := range strings.Fields(strings.NewReplacer("(", " ", ")", " ").Replace(q)) {
		field, _, ok := strings.Cut(term, ":")
		if ok && field != "*" && !c.fields[strings.TrimLeft(field, "+-")] {
			return 0, fmt.Errorf("undefined field %s", field)
		}
	}
	return 0, nil
}

// paging reads rows (10 by default) and start (0).
func paging(form url.Values) (rows, start int64, err error) {
	rows, start = 10, 0
	for _, p := range []struct {
		name string
		to   *int64
	}{{"rows", &rows}, {"start", &start}} {
		if v := form.Get(p.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 32)
			if err != nil {
				return 0, 0, fmt.Errorf("For input string: \"%s\"", v)
			}
			*p.to = n
		}
	}
	return rows, start, nil
}

// solrError writes Solr's error JSON.
func solrError(w http.ResponseWriter, code int, class, msg string) {
	writeJSON(w, code, map[string]any{
		"responseHeader": map[string]any{"status": code, "QTime": 0},
		"error":          map[string]any{"metadata": []string{"error-class", "org.apache.solr.common.SolrException", "root-error-class", class}, "msg": msg, "code": code},
	})
}

// authFailure is the Basic Authentication plugin's refusal: the servlet container's error page.
func authFailure(w http.ResponseWriter, r *http.Request, msg string) {
	w.Header().Set("WWW-Authenticate", `Basic realm="solr"`)
	containerError(w, r, http.StatusUnauthorized, msg)
}

// notFound is the servlet container's page for a path no core or collection serves.
func notFound(w http.ResponseWriter, r *http.Request) {
	containerError(w, r, http.StatusNotFound, "Not Found")
}

func containerError(w http.ResponseWriter, r *http.Request, code int, msg string) {
	w.Header().Set("Content-Type", "text/html;charset=iso-8859-1")
	w.Header().Set("Cache-Control", "must-revalidate,no-cache,no-store")
	w.WriteHeader(code)
	m := html.EscapeString(msg)
	fmt.Fprintf(w, "<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html;charset=utf-8\"/>\n<title>Error %d %s</title>\n</head>\n"+
		"<body>\n<h2>HTTP ERROR %d %s</h2>\n<table>\n<tr><th>URI:</th><td>%s</td></tr>\n<tr><th>STATUS:</th><td>%d</td></tr>\n"+
		"<tr><th>MESSAGE:</th><td>%s</td></tr>\n</table>\n</body>\n</html>\n", code, m, code, m, html.EscapeString(r.URL.Path), code, m)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// Close stops the server before the test ends (to test an address nothing answers on).
func (s *Server) Close() { s.srv.Close() }
