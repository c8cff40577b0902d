// Package datadog is a fake of the part of Datadog's public API that the datadog trigger reads,
// for contract tests (Datadog is a SaaS: there is no server to run). On a free 127.0.0.1 port it
// answers as Datadog's API reference documents
//
//	GET /api/v1/query?from=<unix s>&to=<unix s>&query=<metric query>   (Metrics: query timeseries points)
//
// with Datadog's conventions: the API key in DD-API-KEY and the application key in
// DD-APPLICATION-KEY, 403 {"errors":["Forbidden"]} when either is missing or wrong; 400
// {"errors":[...]} for a missing or malformed parameter or a query without a scope (or with
// unbalanced parentheses); the MetricsQueryResponse envelope {"status":"ok","res_type":
// "time_series","series":[{"metric","pointlist":[[ms, value|null], ...], "scope", ...}], "from_date", "to_date", ...} with point
// timestamps in milliseconds inside [from, to] and null where a series has no data; an empty
// series list for a query without data; {"status":"error","error":...} for a query Datadog
// parses but cannot evaluate; and, when a rate limit is set, the X-RateLimit-Limit, -Period,
// -Remaining, -Reset and -Name headers on every answer, 429 {"errors":["Rate limit of N requests
// in P seconds reached. Please try again later."]} past the limit.
//
// No Datadog code is used, only the documented wire format.
package datadog

import (
	"encoding/json"
	"fmt"
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
	// APIKey and AppKey are the keys the server takes.
	APIKey, AppKey string
	// RateLimit, when above 0, is how many queries the server answers per RatePeriod (60 seconds
	// when zero) before it answers 429.
	RateLimit  int
	RatePeriod time.Duration
}

// Series is one series of a query's answer.
type Series struct {
	// Scope is the series' scope (its tags), such as "env:prod,service:web".
	Scope string
	// Points are the series' values, oldest first, spread evenly over the query's window and
	// ending at its end; nil stands for a point without data (Datadog's null).
	Points []*float64
}

// Value is a point with v, for Series.Points.
func Value(v float64) *float64 { return &v }

// Request is a request the server answered.
type Request struct {
	Method, Path   string
	Query          url.Values
	APIKey, AppKey string
	Status         int
	// RemoteAddr is the client's end of the connection, to count the connections triggers open.
	RemoteAddr string
}

// Server is a running fake.
type Server struct {
	// URL is the API's address: what a test's datadogSite names in place of a Datadog site.
	URL string

	opts Options
	srv  *httptest.Server
	now  func() time.Time

	mu          sync.Mutex
	series      map[string][]Series
	errors      map[string]string
	requests    []Request
	windowStart time.Time
	used        int
}

// Start starts a server on a free port of 127.0.0.1; it stops when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.RatePeriod <= 0 {
		opts.RatePeriod = time.Minute
	}
	s := &Server{opts: opts, now: time.Now, series: map[string][]Series{}, errors: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/query", s.query)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]any{"errors": []string{"Not found"}})
	})
	s.srv = httptest.NewServer(s.record(mux)) // httptest listens on 127.0.0.1
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// Set makes query answer series. A query nobody set answers no series, as Datadog does for a
// metric without data in the window.
func (s *Server) Set(query string, series ...Series) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.series[query] = series
	delete(s.errors, query)
}

// SetValue makes query answer one series whose points are all v, the last one without data
// (as a series still being filled in often ends).
func (s *Server) SetValue(query string, v float64) {
	s.Set(query, Series{Points: []*float64{Value(v), Value(v), Value(v), nil}})
}

// SetError makes query answer {"status":"error"} with msg.
func (s *Server) SetError(query, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errors[query] = msg
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
		next.ServeHTTP(sw, r)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), APIKey: r.Header.Get("DD-API-KEY"),
			AppKey: r.Header.Get("DD-APPLICATION-KEY"), Status: sw.Status, RemoteAddr: r.RemoteAddr})
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErrors(w http.ResponseWriter, status int, msgs ...string) {
	writeJSON(w, status, map[string]any{"errors": msgs})
}

// rateLimited counts a query against the limit, sets the rate-limit headers and reports whether
// the query is over the limit.
func (s *Server) rateLimited(w http.ResponseWriter) bool {
	if s.opts.RateLimit <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if now.Sub(s.windowStart) >= s.opts.RatePeriod {
		s.windowStart, s.used = now, 0
	}
	s.used++
	remaining := max(s.opts.RateLimit-s.used, 0)
	reset := s.windowStart.Add(s.opts.RatePeriod).Sub(now)
	period := int(s.opts.RatePeriod / time.Second)
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.opts.RateLimit))
	h.Set("X-RateLimit-Period", strconv.Itoa(period))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.Itoa(int(reset.Round(time.Second)/time.Second)))
	h.Set("X-RateLimit-Name", "query")
	if s.used > s.opts.RateLimit {
		writeErrors(w, http.StatusTooManyRequests, fmt.Sprintf("Rate limit of %d requests in %d seconds reached. Please try again later.", s.opts.RateLimit, period))
		return true
	}
	return false
}

// query answers GET /api/v1/query.
func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeErrors(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	if r.Header.Get("DD-API-KEY") != s.opts.APIKey || r.Header.Get("DD-APPLICATION-KEY") != s.opts.AppKey {
		writeErrors(w, http.StatusForbidden, "Forbidden")
		return
	}
	if s.rateLimited(w) {
		return
	}
	q := r.URL.Query()
	var bounds [2]int64
	for i, name := range []string{"from", "to"} {
		raw := q.Get(name)
		if raw == "" {
			writeErrors(w, http.StatusBadRequest, fmt.Sprintf("The parameter '%s' is required", name))
			return
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			writeErrors(w, http.StatusBadRequest, fmt.Sprintf("The parameter '%s' must be an integer (seconds since the epoch)", name))
			return
		}
		bounds[i] = n
	}
	from, to := bounds[0], bounds[1]
	query := q.Get("query")
	switch {
	case query == "":
		writeErrors(w, http.StatusBadRequest, "The parameter 'query' is required")
		return
	case from > to:
		writeErrors(w, http.StatusBadRequest, "The parameter 'from' must be before 'to'")
		return
	case !strings.Contains(query, "{") || !strings.Contains(query[strings.Index(query, "{"):], "}") || strings.Count(query, "(") != strings.Count(query, ")"):
		writeErrors(w, http.StatusBadRequest, fmt.Sprintf("Error parsing query: unable to parse %s: Rule 'scope_expr' didn't match", query))
		return
	}
	s.mu.Lock()
	series, msg, failed := s.series[query], s.errors[query], false
	if _, ok := s.errors[query]; ok {
		failed = true
	}
	s.mu.Unlock()
	if failed {
		writeJSON(w, http.StatusOK, map[string]any{"status": "error", "error": msg, "res_type": "time_series", "series": []any{}, "query": query})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"status": "ok", "res_type": "time_series", "resp_version": 1, "query": query, "message": "",
		"from_date": from * 1000, "to_date": to * 1000, "group_by": []string{}, "series": seriesJSON(query, series, from, to),
	})
}

// seriesJSON renders series over [from, to]: each series' points evenly spaced, the last at to.
func seriesJSON(query string, series []Series, from, to int64) []map[string]any {
	metric := query[:strings.Index(query, "{")]
	if i := strings.LastIndex(metric, ":"); i >= 0 {
		metric = metric[i+1:]
	}
	out := make([]map[string]any, 0, len(series))
	for _, se := range series {
		n := int64(len(se.Points))
		interval := int64(1)
		if n > 1 && to > from {
			interval = max((to-from)/(n-1), 1)
		}
		points := make([][]any, 0, n)
		for i, p := range se.Points {
			ts := (to - (n-1-int64(i))*interval) * 1000
			var v any
			if p != nil {
				v = *p
			}
			points = append(points, []any{float64(ts), v})
		}
		scope := se.Scope
		if scope == "" {
			scope = query[strings.Index(query, "{")+1 : strings.Index(query, "}")]
		}
		item := map[string]any{
			"metric": metric, "display_name": metric, "expression": query, "scope": scope, "tag_set": strings.Split(scope, ","),
			"pointlist": points, "length": n, "interval": interval, "aggr": nil, "unit": nil,
		}
		if n > 0 {
			item["start"], item["end"] = points[0][0], points[n-1][0]
		}
		out = append(out, item)
	}
	return out
}
