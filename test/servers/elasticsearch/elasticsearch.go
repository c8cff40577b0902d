// Package elasticsearch is a fake of the part of Elasticsearch's (and OpenSearch's) REST API the
// elasticsearch and opensearch triggers use, for contract tests: on a free 127.0.0.1 port it
// answers as Elastic's REST API reference documents
//
//	GET       /                                   the cluster's name and version
//	PUT, POST /_scripts/{id}                      store a search template ({"script":{"lang":"mustache","source":...}})
//	GET, POST /{target}/_search                   search (target: indices, comma-separated, * wildcards)
//	GET, POST /{target}/_search/template          search with a stored template ("id") or an inline one ("source"), and "params"
//
// with the documented answers: hits.total as {"value":N,"relation":"eq"} (at most 10,000 unless
// track_total_hits says otherwise), 404 index_not_found_exception for a missing index and
// resource_not_found_exception for a missing stored template, 400 parsing_exception for a query
// it cannot read, and credentials as Elasticsearch's security takes them: "Authorization: Basic"
// (a user), "Authorization: ApiKey <base64 of id:key>", or a client certificate of the server's
// CA; 401 security_exception with WWW-Authenticate otherwise. As OpenSearch (Options.OpenSearch)
// it answers 401 with its security plugin's plain "Unauthorized" and sends no X-Elastic-Product.
//
// Queries: match_all, term, terms, match, range (gt, gte, lt, lte), exists and bool (must,
// filter, should, must_not) on the documents' top-level fields; Mustache templates replace
// {{var}} and {{{var}}} with params.
package elasticsearch

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kedactl/kedactl/test/servers/internal/testca"
)

// Options configures a server.
type Options struct {
	// OpenSearch makes the server answer as OpenSearch.
	OpenSearch bool
	// Users are the users (name -> password) basic authentication accepts.
	Users map[string]string
	// APIKeys are the API keys (id -> key) ApiKey authentication accepts.
	APIKeys map[string]string
	// TLS serves HTTPS with a certificate of a CA made for the server (CAPEM); a client
	// certificate of that CA (ClientCertPEM, ClientKeyPEM) authenticates as its subject.
	TLS bool
	// CloudHost, with TLS, also makes the server an Elastic Cloud deployment: a CONNECT proxy at
	// ProxyURL takes requests for https://<CloudESID>.<CloudHost>:443 to the server, so that a
	// process whose HTTPS_PROXY is ProxyURL reaches it through a cloud ID (CloudID).
	CloudHost string
}

// Request is a request the server answered.
type Request struct {
	Method, Path  string
	Query         string
	ContentType   string
	Authorization string
	ClientCert    string // the client certificate's subject, when one was shown
	Body          string
	Status        int
}

// Server is a running fake.
type Server struct {
	// URL is the cluster's address, what metadata.addresses names.
	URL string
	// CAPEM, ClientCertPEM and ClientKeyPEM are set with Options.TLS.
	CAPEM, ClientCertPEM, ClientKeyPEM string
	// ProxyURL and CloudID are set with Options.CloudHost.
	ProxyURL, CloudID string

	opts Options
	srv  *httptest.Server

	mu        sync.Mutex
	indices   map[string][]map[string]any
	templates map[string]json.RawMessage
	requests  []Request
	connects  []string
}

// CloudESID is the Elasticsearch id in the cloud ID of a server with Options.CloudHost.
const CloudESID = "4fa8821e75634032bed1cf22110e2f97"

// Start starts a server on a free port of 127.0.0.1; it stops when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{opts: opts, indices: map[string][]map[string]any{}, templates: map[string]json.RawMessage{}}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	if opts.TLS {
		ca, err := testca.New("elasticsearch fake CA")
		if err != nil {
			t.Fatal(err)
		}
		cfg := ca.ServerConfig()
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
		s.srv.TLS = cfg
		s.srv.StartTLS()
		s.CAPEM, s.ClientCertPEM, s.ClientKeyPEM = string(ca.CAPEM), string(ca.CertPEM), string(ca.KeyPEM)
	} else {
		s.srv.Start()
	}
	t.Cleanup(s.srv.Close)
	s.URL = s.srv.URL
	if opts.CloudHost != "" {
		proxy := httptest.NewServer(http.HandlerFunc(s.connect))
		t.Cleanup(proxy.Close)
		s.ProxyURL = proxy.URL
		s.CloudID = "kedactl-test:" + base64.StdEncoding.EncodeToString([]byte(opts.CloudHost+":443$"+CloudESID+"$0f2e1a5d6c7b8a9e"))
	}
	return s
}

// connect is the CONNECT proxy of a cloud deployment: only the deployment's host is reached.
func (s *Server) connect(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.connects = append(s.connects, r.Host)
	s.mu.Unlock()
	if r.Method != http.MethodConnect || r.Host != CloudESID+"."+s.opts.CloudHost+":443" {
		http.Error(w, "this proxy reaches only the cloud deployment", http.StatusForbidden)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "no hijacking", http.StatusInternalServerError)
		return
	}
	upstream, err := net.Dial("tcp", s.srv.Listener.Addr().String())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		upstream.Close()
		return
	}
	_, _ = conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	go func() { _, _ = io.Copy(upstream, buf); upstream.Close() }()
	go func() { _, _ = io.Copy(conn, bufio.NewReader(upstream)); conn.Close() }()
}

// Connects are the hosts the cloud proxy was asked for, in order.
func (s *Server) Connects() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.connects)
}

// PutTemplate stores a search template (Mustache source, JSON) as PUT _scripts/{id} would.
func (s *Server) PutTemplate(id, source string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.templates[id] = json.RawMessage(source)
}

// Index adds documents to an index, creating it.
func (s *Server) Index(index string, docs ...map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.indices[index] = append(s.indices[index], docs...)
}

// Delete removes an index's documents for which match is true; the index stays.
func (s *Server) Delete(index string, match func(map[string]any) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.indices[index] = slices.DeleteFunc(s.indices[index], match)
}

// Requests are the requests answered so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// answer is one reply.
type answer struct {
	status int
	body   any
	header http.Header
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, ContentType: r.Header.Get("Content-Type"),
		Authorization: r.Header.Get("Authorization"), Body: string(body)}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		rec.ClientCert = r.TLS.PeerCertificates[0].Subject.CommonName
	}
	s.mu.Lock()
	a := s.route(r, body, rec.ClientCert != "")
	rec.Status = a.status
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
	for k, v := range a.header {
		w.Header()[k] = v
	}
	if !s.opts.OpenSearch {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
	}
	if text, ok := a.body.(string); ok {
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, text)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	_ = json.NewEncoder(w).Encode(a.body)
}

// esError is Elasticsearch's error body: {"error":{"root_cause":[...],"type","reason",...},"status"}.
func esError(status int, typ, reason string, extra map[string]any) answer {
	cause := map[string]any{"type": typ, "reason": reason}
	for k, v := range extra {
		cause[k] = v
	}
	e := map[string]any{"root_cause": []any{cause}}
	for k, v := range cause {
		e[k] = v
	}
	return answer{status: status, body: map[string]any{"error": e, "status": status}}
}

// route answers r; s.mu is held.
func (s *Server) route(r *http.Request, body []byte, certified bool) answer {
	if a, ok := s.authenticate(r, certified); !ok {
		return a
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.URL.Path == "/" && r.Method == http.MethodGet:
		dist := map[string]any{"number": "8.19.7", "build_flavor": "default", "lucene_version": "9.12.2"}
		tagline := "You Know, for Search"
		if s.opts.OpenSearch {
			dist = map[string]any{"distribution": "opensearch", "number": "2.19.1", "lucene_version": "9.12.1"}
			tagline = "The OpenSearch Project: https://opensearch.org/"
		}
		return answer{status: 200, body: map[string]any{"name": "node-1", "cluster_name": "kedactl-test", "version": dist, "tagline": tagline}}
	case len(parts) == 2 && parts[0] == "_scripts" && (r.Method == http.MethodPut || r.Method == http.MethodPost):
		var req struct {
			Script struct {
				Lang   string          `json:"lang"`
				Source json.RawMessage `json:"source"`
			} `json:"script"`
		}
		if err := json.Unmarshal(body, &req); err != nil || len(req.Script.Source) == 0 {
			return esError(400, "parsing_exception", "failed to parse the stored script", nil)
		}
		if req.Script.Lang != "mustache" {
			return esError(400, "illegal_argument_exception", "unable to put stored script with unsupported lang ["+req.Script.Lang+"]", nil)
		}
		s.templates[parts[1]] = req.Script.Source
		return answer{status: 200, body: map[string]any{"acknowledged": true}}
	}
	// [target/]_search[/template]
	target := "_all"
	if len(parts) > 0 && !strings.HasPrefix(parts[0], "_") {
		target, parts = parts[0], parts[1:]
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return esError(405, "method_not_allowed", "Incorrect HTTP method for uri ["+r.URL.Path+"] and method ["+r.Method+"]", nil)
	}
	switch {
	case len(parts) == 1 && parts[0] == "_search":
		return s.search(target, body)
	case len(parts) == 2 && parts[0] == "_search" && parts[1] == "template":
		rendered, a, ok := s.render(body)
		if !ok {
			return a
		}
		return s.search(target, rendered)
	}
	return esError(400, "illegal_argument_exception", "request ["+r.URL.Path+"] contains unrecognized parameters or path", nil)
}

// authenticate checks the credentials when the server has any; s.mu is held.
func (s *Server) authenticate(r *http.Request, certified bool) (answer, bool) {
	if len(s.opts.Users) == 0 && len(s.opts.APIKeys) == 0 && !s.opts.TLS {
		return answer{}, true
	}
	if certified {
		return answer{}, true
	}
	auth := r.Header.Get("Authorization")
	scheme, cred, _ := strings.Cut(auth, " ")
	reason := "missing authentication credentials for REST request [" + r.URL.RequestURI() + "]"
	switch {
	case strings.EqualFold(scheme, "Basic"):
		if u, p, ok := r.BasicAuth(); ok {
			if want, known := s.opts.Users[u]; known && want == p {
				return answer{}, true
			}
			reason = "unable to authenticate user [" + u + "] for REST request [" + r.URL.RequestURI() + "]"
		}
	case strings.EqualFold(scheme, "ApiKey"):
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
		id, key, ok := strings.Cut(string(raw), ":")
		if err == nil && ok {
			if want, known := s.opts.APIKeys[id]; known && want == key {
				return answer{}, true
			}
		}
		reason = "unable to authenticate with provided credentials and anonymous access is not allowed for this request"
	}
	if s.opts.OpenSearch {
		return answer{status: 401, body: "Unauthorized", header: http.Header{"Www-Authenticate": {`Basic realm="OpenSearch Security"`}}}, false
	}
	challenge := []string{`Basic realm="security", charset="UTF-8"`, "ApiKey"}
	a := esError(401, "security_exception", reason, map[string]any{"header": map[string]any{"WWW-Authenticate": challenge}})
	a.header = http.Header{"Www-Authenticate": challenge}
	return a, false
}

var mustacheVar = regexp.MustCompile(`\{\{\{?\s*([A-Za-z0-9_.-]+)\s*\}?\}\}`)

// render turns a search template request into a search body; s.mu is held.
func (s *Server) render(body []byte) ([]byte, answer, bool) {
	var req struct {
		ID     string          `json:"id"`
		Source json.RawMessage `json:"source"`
		Params map[string]any  `json:"params"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, esError(400, "x_content_parse_exception", "[1:1] [search_template] failed to parse the request body", nil), false
	}
	src := req.Source
	if req.ID != "" {
		stored, ok := s.templates[req.ID]
		if !ok {
			return nil, esError(404, "resource_not_found_exception", "unable to find script ["+req.ID+"] in cluster state", nil), false
		}
		src = stored
	}
	if len(src) == 0 {
		return nil, esError(400, "action_request_validation_exception", "Validation Failed: 1: template id or source is missing;", nil), false
	}
	// A template is an object, or a string holding one (so that it may place a variable outside
	// quotes).
	text := string(src)
	var str string
	if json.Unmarshal(src, &str) == nil {
		text = str
	}
	rendered := mustacheVar.ReplaceAllStringFunc(text, func(m string) string {
		name := mustacheVar.FindStringSubmatch(m)[1]
		v, ok := req.Params[name]
		if !ok {
			return ""
		}
		if sv, isStr := v.(string); isStr {
			enc, _ := json.Marshal(sv)
			return string(enc[1 : len(enc)-1])
		}
		enc, _ := json.Marshal(v)
		return string(enc)
	})
	return []byte(rendered), answer{}, true
}

// search runs a search body over target; s.mu is held.
func (s *Server) search(target string, body []byte) answer {
	var req struct {
		Query          map[string]json.RawMessage `json:"query"`
		Size           *int                       `json:"size"`
		TrackTotalHits json.RawMessage            `json:"track_total_hits"`
		Aggs           json.RawMessage            `json:"aggs"`
	}
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return esError(400, "parsing_exception", "Unknown key for a VALUE_STRING or malformed search body: "+err.Error(), map[string]any{"line": 1, "col": 1})
		}
	}
	if len(req.Aggs) > 0 {
		return esError(400, "parsing_exception", "the fake evaluates no aggregations", nil)
	}
	var docs []map[string]any
	for _, name := range strings.Split(target, ",") {
		if name == "_all" || strings.ContainsAny(name, "*?") {
			for idx, d := range s.indices {
				if name == "_all" || matchName(name, idx) {
					docs = append(docs, d...)
				}
			}
			continue
		}
		d, ok := s.indices[name]
		if !ok {
			return esError(404, "index_not_found_exception", "no such index ["+name+"]",
				map[string]any{"resource.type": "index_or_alias", "resource.id": name, "index_uuid": "_na_", "index": name})
		}
		docs = append(docs, d...)
	}
	var hits []any
	total := 0
	for _, d := range docs {
		ok, err := matches(req.Query, d)
		if err != nil {
			return esError(400, "parsing_exception", err.Error(), map[string]any{"line": 1, "col": 1})
		}
		if ok {
			total++
			if size := 10; req.Size == nil && len(hits) < size || req.Size != nil && len(hits) < *req.Size {
				hits = append(hits, map[string]any{"_index": target, "_score": 1.0, "_source": d})
			}
		}
	}
	limit, relation := 10000, "eq"
	switch t := strings.TrimSpace(string(req.TrackTotalHits)); t {
	case "", "null":
	case "true":
		limit = -1
	case "false":
		limit = 0
	default:
		_, _ = fmt.Sscan(t, &limit)
	}
	totalField := any(map[string]any{"value": total, "relation": relation})
	switch {
	case limit == 0:
		totalField = nil
	case limit > 0 && total > limit:
		totalField = map[string]any{"value": limit, "relation": "gte"}
	}
	if hits == nil {
		hits = []any{}
	}
	h := map[string]any{"max_score": nil, "hits": hits}
	if totalField != nil {
		h["total"] = totalField
	}
	return answer{status: 200, body: map[string]any{
		"took": 1, "timed_out": false,
		"_shards": map[string]any{"total": 1, "successful": 1, "skipped": 0, "failed": 0},
		"hits":    h,
	}}
}

func matchName(pattern, name string) bool {
	ok, _ := path.Match(pattern, name)
	return ok
}

// matches evaluates a query (one clause object) against a document.
func matches(q map[string]json.RawMessage, doc map[string]any) (bool, error) {
	if len(q) == 0 {
		return true, nil
	}
	if len(q) != 1 {
		return false, fmt.Errorf("[_na] query malformed, must start with start_object")
	}
	for kind, raw := range q {
		switch kind {
		case "match_all":
			return true, nil
		case "term", "match":
			field, want, err := fieldValue(raw, map[string]string{"term": "value", "match": "query"}[kind])
			if err != nil {
				return false, err
			}
			return equal(doc[field], want), nil
		case "terms":
			var m map[string][]any
			if err := json.Unmarshal(raw, &m); err != nil || len(m) != 1 {
				return false, fmt.Errorf("[terms] query malformed")
			}
			for field, values := range m {
				return slices.ContainsFunc(values, func(v any) bool { return equal(doc[field], v) }), nil
			}
		case "exists":
			var m struct {
				Field string `json:"field"`
			}
			if err := json.Unmarshal(raw, &m); err != nil || m.Field == "" {
				return false, fmt.Errorf("[exists] must be provided with a [field]")
			}
			_, ok := doc[m.Field]
			return ok, nil
		case "range":
			var m map[string]map[string]any
			if err := json.Unmarshal(raw, &m); err != nil || len(m) != 1 {
				return false, fmt.Errorf("[range] query malformed")
			}
			for field, bounds := range m {
				return inRange(doc[field], bounds), nil
			}
		case "bool":
			var b struct {
				Must, Filter, Should, MustNot json.RawMessage
			}
			var raws map[string]json.RawMessage
			if err := json.Unmarshal(raw, &raws); err != nil {
				return false, fmt.Errorf("[bool] query malformed")
			}
			b.Must, b.Filter, b.Should, b.MustNot = raws["must"], raws["filter"], raws["should"], raws["must_not"]
			all := func(r json.RawMessage, want bool) (bool, error) {
				for _, c := range clauses(r) {
					ok, err := matches(c, doc)
					if err != nil || ok != want {
						return false, err
					}
				}
				return true, nil
			}
			for _, r := range []json.RawMessage{b.Must, b.Filter} {
				if ok, err := all(r, true); !ok || err != nil {
					return false, err
				}
			}
			if ok, err := all(b.MustNot, false); !ok || err != nil {
				return false, err
			}
			should := clauses(b.Should)
			if len(should) == 0 || len(b.Must)+len(b.Filter) > 0 {
				return true, nil
			}
			for _, c := range should {
				if ok, err := matches(c, doc); ok || err != nil {
					return ok, err
				}
			}
			return false, nil
		default:
			return false, fmt.Errorf("unknown query [%s]", kind)
		}
	}
	return false, nil
}

// clauses reads a bool query's clause or array of clauses.
func clauses(raw json.RawMessage) []map[string]json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	var list []map[string]json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	var one map[string]json.RawMessage
	if json.Unmarshal(raw, &one) == nil {
		return []map[string]json.RawMessage{one}
	}
	return nil
}

// fieldValue reads {"field": value} or {"field": {"<key>": value}}.
func fieldValue(raw json.RawMessage, key string) (string, any, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil || len(m) != 1 {
		return "", nil, fmt.Errorf("query malformed, expected one field")
	}
	for field, v := range m {
		if obj, ok := v.(map[string]any); ok {
			return field, obj[key], nil
		}
		return field, v, nil
	}
	return "", nil, nil
}

// equal compares a document's value with a query's, as strings (Elasticsearch coerces "3" to 3
// for a numeric field).
func equal(a, b any) bool {
	return a != nil && fmt.Sprint(a) == fmt.Sprint(b)
}

func inRange(v any, bounds map[string]any) bool {
	x, ok := number(v)
	if !ok {
		return false
	}
	for op, b := range bounds {
		y, ok := number(b)
		if !ok {
			return false
		}
		switch op {
		case "gt":
			ok = x > y
		case "gte":
			ok = x >= y
		case "lt":
			ok = x < y
		case "lte":
			ok = x <= y
		}
		if !ok {
			return false
		}
	}
	return true
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case string:
		var f float64
		_, err := fmt.Sscan(n, &f)
		return f, err == nil
	}
	return 0, false
}
