// Package newrelic is a fake of the part of New Relic's NerdGraph API that the new-relic trigger
// reads, for contract tests: on a free 127.0.0.1 port it answers
//
//	POST /graphql   {"query": "...", "variables": {...}}, user key in the Api-Key header
//
// the NRQL query of actor.account(id).nrql(query).results, as NerdGraph's documentation shows
// it: GraphQL's envelope {"data": ..., "errors": [...]}, result rows as JSON objects whose
// fields are in the order the query selects them, a refused key answered 401 with a GraphQL
// error body, an account the key's user may not read answered with data.actor.account null and
// an error, NRQL syntax errors as GraphQL errors with HTTP 200. It plays one region: the scaler
// picks the region's address, and the tests replace that address with this server's (the
// NEW_RELIC_NERDGRAPH_BASE_URL variable New Relic's Go client also reads).
//
// No New Relic code is used here, only the documented wire format.
package newrelic

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// Request is a request the server answered.
type Request struct {
	Method, Path string
	APIKey       string
	ContentType  string
	AccountID    int64
	NRQL         string
	Status       int
	// RemoteAddr is the client's end of the connection, to count the connections triggers open.
	RemoteAddr string
}

// Server is a running fake.
type Server struct {
	// URL is NerdGraph's address (ending in /graphql).
	URL string

	srv *httptest.Server

	mu       sync.Mutex
	keys     map[string]map[int64]bool // user key -> accounts it may read
	answers  map[string]answer         // account + "\x00" + NRQL -> answer
	requests []Request
}

type answer struct {
	rows        []json.RawMessage
	syntaxError string
}

// Start starts a server on a free port of 127.0.0.1; it stops when the test ends. Outside a test
// (a TestMain), pass nil and call Close.
func Start(t testing.TB) *Server {
	s := &Server{keys: map[string]map[int64]bool{}, answers: map[string]answer{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/graphql", s.graphql)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "Not Found", http.StatusNotFound) })
	s.srv = httptest.NewServer(mux) // httptest listens on 127.0.0.1
	s.URL = s.srv.URL + "/graphql"
	if t != nil {
		t.Cleanup(s.srv.Close)
	}
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// AddKey makes key a user key that may read accounts.
func (s *Server) AddKey(key string, accounts ...int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys[key] == nil {
		s.keys[key] = map[int64]bool{}
	}
	for _, a := range accounts {
		s.keys[key][a] = true
	}
}

// SetRows makes account's nrql answer rows, each a JSON object such as {"count": 3}. A query
// nobody set answers no row.
func (s *Server) SetRows(account int64, nrql string, rows ...string) {
	raw := make([]json.RawMessage, len(rows))
	for i, r := range rows {
		raw[i] = json.RawMessage(r)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers[fmt.Sprintf("%d\x00%s", account, nrql)] = answer{rows: raw}
}

// SetCount makes account's nrql answer one row {"count": n}, as SELECT count(*) does.
func (s *Server) SetCount(account int64, nrql string, n float64) {
	s.SetRows(account, nrql, fmt.Sprintf(`{"count": %v}`, n))
}

// SetSyntaxError makes account's nrql fail as a query NRDB cannot parse.
func (s *Server) SetSyntaxError(account int64, nrql, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers[fmt.Sprintf("%d\x00%s", account, nrql)] = answer{syntaxError: message}
}

// Requests returns the requests answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// gqlError is one error of GraphQL's envelope.
type gqlError struct {
	Message    string   `json:"message"`
	Path       []string `json:"path,omitempty"`
	Extensions struct {
		ErrorClass string `json:"errorClass,omitempty"`
	} `json:"extensions"`
}

func newError(class, message string, path ...string) gqlError {
	e := gqlError{Message: message, Path: path}
	e.Extensions.ErrorClass = class
	return e
}

// nrqlField finds the NRQL selection the scaler (or any client) makes: account(id: $var or
// literal) { nrql(query: $var) { ... results ... } }.
var (
	accountArg = regexp.MustCompile(`account\s*\(\s*id\s*:\s*(\$\w+|\d+)\s*\)`)
	nrqlArg    = regexp.MustCompile(`nrql\s*\(\s*query\s*:\s*(\$\w+)`)
)

func (s *Server) graphql(w http.ResponseWriter, r *http.Request) {
	req := Request{Method: r.Method, Path: r.URL.Path, APIKey: r.Header.Get("Api-Key"), ContentType: r.Header.Get("Content-Type"), RemoteAddr: r.RemoteAddr}
	status, body := s.answer(r, &req)
	req.Status = status
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// answer decides the status and the GraphQL envelope of one request.
func (s *Server) answer(r *http.Request, req *Request) (int, map[string]any) {
	errs := func(e ...gqlError) map[string]any { return map[string]any{"errors": e} }
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, errs(newError("BAD_REQUEST", "NerdGraph takes queries by POST"))
	}
	s.mu.Lock()
	accounts, known := s.keys[req.APIKey]
	s.mu.Unlock()
	if req.APIKey == "" || !known {
		return http.StatusUnauthorized, errs(newError("UNAUTHORIZED", "Invalid API key"))
	}
	if !strings.HasPrefix(req.ContentType, "application/json") {
		return http.StatusBadRequest, errs(newError("BAD_REQUEST", "Content-Type must be application/json"))
	}
	var body struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil || strings.TrimSpace(body.Query) == "" {
		return http.StatusBadRequest, errs(newError("BAD_REQUEST", "The request body is not a GraphQL query"))
	}
	am := accountArg.FindStringSubmatch(body.Query)
	nm := nrqlArg.FindStringSubmatch(body.Query)
	if am == nil || nm == nil || !strings.Contains(body.Query, "results") {
		return http.StatusOK, errs(newError("", "This fake serves only actor { account(id: $accountId) { nrql(query: $query) { results } } }"))
	}
	var account int64
	if strings.HasPrefix(am[1], "$") {
		n, ok := body.Variables[am[1][1:]].(json.Number)
		if !ok {
			return http.StatusOK, errs(newError("", fmt.Sprintf("Variable %s of required type Int! was not provided.", am[1])))
		}
		v, err := n.Int64()
		if err != nil {
			return http.StatusOK, errs(newError("", fmt.Sprintf("Variable %s got invalid value %s; Expected type Int.", am[1], n)))
		}
		account = v
	} else {
		_, _ = fmt.Sscan(am[1], &account)
	}
	nrql, ok := body.Variables[nm[1][1:]].(string)
	if !ok {
		return http.StatusOK, errs(newError("", fmt.Sprintf("Variable %s of required type Nrql! was not provided.", nm[1])))
	}
	req.AccountID, req.NRQL = account, nrql
	if !accounts[account] {
		return http.StatusOK, map[string]any{
			"data":   map[string]any{"actor": map[string]any{"account": nil}},
			"errors": []gqlError{newError("FORBIDDEN", "Access denied to account", "actor", "account")},
		}
	}
	s.mu.Lock()
	a := s.answers[fmt.Sprintf("%d\x00%s", account, nrql)]
	s.mu.Unlock()
	if a.syntaxError != "" {
		return http.StatusOK, map[string]any{
			"data":   map[string]any{"actor": map[string]any{"account": map[string]any{"nrql": nil}}},
			"errors": []gqlError{newError("INVALID_INPUT", "NRQL Syntax Error: "+a.syntaxError, "actor", "account", "nrql")},
		}
	}
	rows := a.rows
	if rows == nil {
		rows = []json.RawMessage{}
	}
	return http.StatusOK, map[string]any{"data": map[string]any{"actor": map[string]any{"account": map[string]any{"nrql": map[string]any{"results": rows}}}}}
}
