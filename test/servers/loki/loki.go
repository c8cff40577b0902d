// Package loki is a fake of the part of Grafana Loki's HTTP API that the loki trigger reads, for
// contract tests: on a free 127.0.0.1 port it answers as Loki's HTTP API reference documents
//
//	GET|POST /loki/api/v1/query   an instant LogQL query: query (required), time, limit, direction
//
// with Loki's conventions: the Prometheus-compatible envelope {"status":"success","data":
// {"resultType":...,"result":...,"stats":{...}}} with vector, scalar, matrix or streams results
// (sample values as strings, sample timestamps as seconds, log line timestamps as nanosecond
// strings); time as nanoseconds, seconds or RFC 3339, now when absent; plain-text error bodies
// (400 for a LogQL parse error or a bad parameter); with multi-tenancy on (auth_enabled), the
// tenant in X-Scope-OrgID, 401 "no org id" without it, each tenant seeing its own data. Loki
// leaves authentication to a gateway in front of it: the fake plays that gateway too, taking
// HTTP basic credentials or a bearer token when Options ask for them.
//
// The Loki Go module is AGPL: nothing of it is used here, only its documented wire format.
package loki

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kedactl/kedactl/test/servers/internal/answered"
)

// Options configures a server.
type Options struct {
	// MultiTenant turns on Loki's auth_enabled: every request needs X-Scope-OrgID.
	MultiTenant bool
	// Username and Password, when set, are the basic credentials the gateway takes.
	Username, Password string
	// BearerToken, when set, is the bearer token the gateway takes (either credential passes when
	// both are set).
	BearerToken string
}

// Result types of the query API.
const (
	Vector  = "vector"
	Scalar  = "scalar"
	Matrix  = "matrix"
	Streams = "streams"
)

// Series is one labelled series of a vector or matrix answer, or one stream of a streams answer.
type Series struct {
	Labels map[string]string
	// Values are the samples (one for a vector, several for a matrix), or log lines' numbers
	// for streams (each becomes a line "line N").
	Values []float64
}

// Answer is what the server answers a query with.
type Answer struct {
	// Type is Vector (the default), Scalar, Matrix or Streams.
	Type string
	// Series are the result's series; a Scalar takes Series[0].Values[0].
	Series []Series
	// ParseError, when set, makes the answer a 400 with Loki's LogQL parse error of that text.
	ParseError string
}

// Request is a request the server answered.
type Request struct {
	Method, Path  string
	Query         url.Values
	Tenant        string
	Authorization string
	Status        int
	// RemoteAddr is the client's end of the connection, to count the connections triggers open.
	RemoteAddr string
}

// Server is a running fake.
type Server struct {
	// URL is Loki's address, what serverAddress names.
	URL string

	opts Options
	srv  *httptest.Server

	mu       sync.Mutex
	answers  map[string]Answer // tenant + "\x00" + query -> answer
	requests []Request
}

// Start starts a server on a free port of 127.0.0.1; it stops when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{opts: opts, answers: map[string]Answer{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/loki/api/v1/query", s.query)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "404 page not found", http.StatusNotFound) })
	s.srv = httptest.NewServer(s.record(mux)) // httptest listens on 127.0.0.1
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// Set makes tenant's query (tenant "" without multi-tenancy) answer a. A query nobody set
// answers an empty vector, as Loki does when no log line matches.
func (s *Server) Set(tenant, query string, a Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers[tenant+"\x00"+query] = a
}

// SetValue makes tenant's query answer a vector of one unlabelled sample v.
func (s *Server) SetValue(tenant, query string, v float64) {
	s.Set(tenant, query, Answer{Series: []Series{{Labels: map[string]string{}, Values: []float64{v}}}})
}

// Requests returns the requests answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// record notes every request and its answer's status.
func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := answered.New(w)
		_ = r.ParseForm()
		next.ServeHTTP(sw, r)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.Form, Tenant: r.Header.Get("X-Scope-OrgID"),
			Authorization: r.Header.Get("Authorization"), Status: sw.Status, RemoteAddr: r.RemoteAddr})
	})
}

// authorized plays the gateway: it checks the credentials Options ask for.
func (s *Server) authorized(r *http.Request) bool {
	if s.opts.Username == "" && s.opts.BearerToken == "" {
		return true
	}
	if s.opts.Username != "" {
		if u, p, ok := r.BasicAuth(); ok && u == s.opts.Username && p == s.opts.Password {
			return true
		}
	}
	return s.opts.BearerToken != "" && r.Header.Get("Authorization") == "Bearer "+s.opts.BearerToken
}

func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="loki"`)
		http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
		return
	}
	tenant := r.Header.Get("X-Scope-OrgID")
	if s.opts.MultiTenant && tenant == "" {
		http.Error(w, "no org id", http.StatusUnauthorized)
		return
	}
	if !s.opts.MultiTenant {
		// Without auth_enabled Loki serves the one tenant "fake" whatever the header says.
		tenant = ""
	}
	q := r.Form.Get("query")
	if strings.TrimSpace(q) == "" {
		http.Error(w, "parse error : syntax error: unexpected $end", http.StatusBadRequest)
		return
	}
	at, err := parseTime(r.Form.Get("time"))
	if err != nil {
		http.Error(w, fmt.Sprintf("invalid parameter \"time\": %v", err), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	a, ok := s.answers[tenant+"\x00"+q]
	s.mu.Unlock()
	if !ok {
		a = Answer{Type: Vector}
	}
	if a.ParseError != "" {
		http.Error(w, "parse error at line 1, col 1: "+a.ParseError, http.StatusBadRequest)
		return
	}
	result := render(a, at)
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_ = json.NewEncoder(w).Encode(envelope{Status: "success", Data: data{ResultType: result.typ, Result: result.value,
		Stats: map[string]any{"summary": map[string]any{"bytesProcessedPerSecond": 0, "linesProcessedPerSecond": 0, "execTime": 0.0001}}}})
}

// envelope and data keep the fields in the order Loki writes them.
type envelope struct {
	Status string `json:"status"`
	Data   data   `json:"data"`
}

type data struct {
	ResultType string         `json:"resultType"`
	Result     any            `json:"result"`
	Stats      map[string]any `json:"stats"`
}

// parseTime reads Loki's time parameter: nanoseconds or seconds since the epoch, or RFC 3339.
func parseTime(v string) (time.Time, error) {
	if v == "" {
		return time.Now(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		// A whole number is nanoseconds, unless too small to be (then seconds), as Loki reads it.
		if n < 1e12 {
			return time.Unix(n, 0), nil
		}
		return time.Unix(0, n), nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", v)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}

type rendered struct {
	typ   string
	value any
}

// render shapes an answer as Loki's query API does.
func render(a Answer, at time.Time) rendered {
	ts := float64(at.UnixMilli()) / 1000
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	typ := a.Type
	if typ == "" {
		typ = Vector
	}
	switch typ {
	case Scalar:
		v := 0.0
		if len(a.Series) > 0 && len(a.Series[0].Values) > 0 {
			v = a.Series[0].Values[0]
		}
		return rendered{typ, []any{ts, num(v)}}
	case Matrix:
		out := []any{}
		for _, sr := range a.Series {
			values := []any{}
			for i, v := range sr.Values {
				values = append(values, []any{ts - float64(len(sr.Values)-1-i)*15, num(v)})
			}
			out = append(out, map[string]any{"metric": labels(sr.Labels), "values": values})
		}
		return rendered{typ, out}
	case Streams:
		out := []any{}
		for _, sr := range a.Series {
			values := []any{}
			for i, v := range sr.Values {
				values = append(values, []string{strconv.FormatInt(at.UnixNano()-int64(i), 10), "line " + num(v)})
			}
			out = append(out, map[string]any{"stream": labels(sr.Labels), "values": values})
		}
		return rendered{typ, out}
	default:
		out := []any{}
		for _, sr := range a.Series {
			v := 0.0
			if len(sr.Values) > 0 {
				v = sr.Values[0]
			}
			out = append(out, map[string]any{"metric": labels(sr.Labels), "value": []any{ts, num(v)}})
		}
		return rendered{typ, out}
	}
}

// labels is never null in Loki's answers.
func labels(l map[string]string) map[string]string {
	if l == nil {
		return map[string]string{}
	}
	return l
}
