// Package dynatrace is a fake of the part of a Dynatrace environment's API that the dynatrace
// trigger reads, for contract tests. On a free 127.0.0.1 port it answers as Dynatrace's API
// reference documents:
//
//	GET  /api/v2/metrics/query                     Metrics API v2 data points: metricSelector
//	                                               (required), from, to, resolution
//	POST /platform/storage/query/v1/query:execute  start a DQL query ({"query", ...}), 202
//	GET  /platform/storage/query/v1/query:poll     its state and, once SUCCEEDED, its records
//
// with Dynatrace's conventions: the environment API takes "Authorization: Api-Token <token>"
// and needs the metrics.read scope, the platform API takes "Authorization: Bearer <token>" and
// needs storage read scopes; errors are {"error":{"code":N,"message":"..."}} (400 with
// constraintViolations for a bad parameter, 401 for a missing or unknown token, 403 for a
// missing scope, 404 for an unknown metric key, 410 for an unknown or expired request token).
// Data points come as {"totalCount","nextPageKey","resolution","result":[{"metricId","data":
// [{"dimensions","dimensionMap","timestamps","values"}]}]}, null values for slots without data.
package dynatrace

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kedactl/kedactl/test/servers/internal/answered"
)

// Token scopes the fake checks.
const (
	ScopeMetricsRead = "metrics.read"
	ScopeStorageRead = "storage:buckets:read"
)

// Options configures a server.
type Options struct {
	// Tokens maps each valid token to its scopes.
	Tokens map[string][]string
	// PollsUntilDone is how many polls of a DQL query answer RUNNING before it SUCCEEDS.
	PollsUntilDone int
}

// Series is one series of a metric's answer.
type Series struct {
	Dimensions map[string]string
	// Values are the series' data points, oldest first; a nil entry is a slot without data.
	Values []*float64
}

// Request is a request the server answered.
type Request struct {
	Method, Path  string
	Query         url.Values
	Authorization string
	Body          string
	Status        int
	RemoteAddr    string
}

// Server is a running fake.
type Server struct {
	// URL is the environment's address, what host names.
	URL string

	opts Options
	srv  *httptest.Server

	mu       sync.Mutex
	metrics  map[string][]Series // metric selector -> series
	dql      map[string][]float64
	queries  map[string]*dqlRun // request token -> run
	nextID   int
	requests []Request
}

type dqlRun struct {
	query string
	polls int
}

// Start starts a server on a free port of 127.0.0.1; it stops when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{opts: opts, metrics: map[string][]Series{}, dql: map[string][]float64{}, queries: map[string]*dqlRun{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v2/metrics/query", s.metricsQuery)
	mux.HandleFunc("/platform/storage/query/v1/query:execute", s.execute)
	mux.HandleFunc("/platform/storage/query/v1/query:poll", s.poll)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "The requested resource was not found", nil)
	})
	s.srv = httptest.NewServer(s.record(mux))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// SetMetric makes selector answer series.
func (s *Server) SetMetric(selector string, series ...Series) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.metrics[selector] = series
}

// SetValue makes selector answer one series without dimensions holding the single value v.
func (s *Server) SetValue(selector string, v float64) {
	s.SetMetric(selector, Series{Dimensions: map[string]string{}, Values: []*float64{&v}})
}

// SetDQL makes query's records {"r": v} for each v.
func (s *Server) SetDQL(query string, rs ...float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dql[query] = rs
}

// Requests returns the requests answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		if r.Body != nil {
			body, _ = readAll(r)
		}
		sw := answered.New(w)
		next.ServeHTTP(sw, r)
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Authorization: r.Header.Get("Authorization"),
			Body: string(body), Status: sw.Status, RemoteAddr: r.RemoteAddr})
		s.mu.Unlock()
	})
}

// readAll reads a request body of at most 1 MiB and puts it back for the handler.
func readAll(r *http.Request) ([]byte, error) {
	var b strings.Builder
	buf := make([]byte, 4096)
	for b.Len() < 1<<20 {
		n, err := r.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	r.Body = readCloser{strings.NewReader(b.String())}
	return []byte(b.String()), nil
}

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

// violation is one entry of a 400's constraintViolations.
type violation struct {
	Path              string  `json:"path"`
	Message           string  `json:"message"`
	ParameterLocation string  `json:"parameterLocation"`
	Location          *string `json:"location"`
}

func writeError(w http.ResponseWriter, code int, message string, violations []violation) {
	e := map[string]any{"code": code, "message": message}
	if violations != nil {
		e["constraintViolations"] = violations
	}
	writeJSON(w, code, map[string]any{"error": e})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// authorize checks the Authorization header's scheme, token and scope, answering the
// refusal itself; it reports whether the request may go on.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, scheme, scope string) bool {
	h := r.Header.Get("Authorization")
	if h == "" {
		writeError(w, http.StatusUnauthorized, "Missing authorization parameter.", nil)
		return false
	}
	token, ok := strings.CutPrefix(h, scheme+" ")
	scopes, known := s.opts.Tokens[token]
	if !ok || !known {
		writeError(w, http.StatusUnauthorized, "Token Authentication failed", nil)
		return false
	}
	for _, sc := range scopes {
		if sc == scope {
			return true
		}
	}
	writeError(w, http.StatusForbidden, "Token is missing required scope. Use one of: "+scope, nil)
	return false
}

// relativeFrom is Dynatrace's relative timeframe syntax: now, now-2h, now-15m, now-1d/d...
var relativeFrom = regexp.MustCompile(`^now(-\d+(s|m|h|d|w|M|y))?(/(s|m|h|d|w|M|y))?$`)

// parseTimeframe reads from/to: relative (now-2h), epoch milliseconds or ISO 8601.
func parseTimeframe(v string, now time.Time) (time.Time, bool) {
	if m := relativeFrom.FindStringSubmatch(v); m != nil {
		if m[1] == "" {
			return now, true
		}
		n, _ := strconv.Atoi(m[1][1 : len(m[1])-1])
		unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour,
			"M": 30 * 24 * time.Hour, "y": 365 * 24 * time.Hour}[m[2]]
		return now.Add(-time.Duration(n) * unit), true
	}
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.UnixMilli(ms), true
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

var resolutionSyntax = regexp.MustCompile(`^(Inf|\d+(m|h|d|w|M|q|y))$`)

func (s *Server) metricsQuery(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "HTTP 405 Method Not Allowed", nil)
		return
	}
	if !s.authorize(w, r, "Api-Token", ScopeMetricsRead) {
		return
	}
	q := r.URL.Query()
	now := time.Now()
	selector := q.Get("metricSelector")
	if selector == "" {
		writeError(w, http.StatusBadRequest, "Constraints violated.", []violation{{Path: "metricSelector", Message: "must not be empty", ParameterLocation: "QUERY"}})
		return
	}
	from := now.Add(-2 * time.Hour) // Dynatrace's default timeframe
	if v := q.Get("from"); v != "" {
		t, ok := parseTimeframe(v, now)
		if !ok {
			writeError(w, http.StatusBadRequest, "Constraints violated.", []violation{{Path: "from", Message: "The timeframe " + strconv.Quote(v) + " could not be parsed", ParameterLocation: "QUERY"}})
			return
		}
		from = t
	}
	if v := q.Get("resolution"); v != "" && !resolutionSyntax.MatchString(v) {
		writeError(w, http.StatusBadRequest, "Constraints violated.", []violation{{Path: "resolution", Message: "Invalid resolution " + strconv.Quote(v), ParameterLocation: "QUERY"}})
		return
	}
	if !from.Before(now) {
		writeError(w, http.StatusBadRequest, "The start of the timeframe must be before its end", nil)
		return
	}
	s.mu.Lock()
	series, ok := s.metrics[selector]
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("The metric selector '%s' references a metric key that was not found", selector), nil)
		return
	}
	resolution := q.Get("resolution")
	if resolution == "" {
		resolution = "1m"
	}
	data := make([]map[string]any, 0, len(series))
	for _, sr := range series {
		dims := []string{}
		for _, v := range sr.Dimensions {
			dims = append(dims, v)
		}
		ts := make([]int64, len(sr.Values))
		for i := range sr.Values {
			ts[i] = now.Add(-time.Duration(len(sr.Values)-1-i) * time.Minute).Truncate(time.Minute).UnixMilli()
		}
		data = append(data, map[string]any{"dimensions": dims, "dimensionMap": sr.Dimensions, "timestamps": ts, "values": sr.Values})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"totalCount":  1,
		"nextPageKey": nil,
		"resolution":  resolution,
		"result":      []map[string]any{{"metricId": selector, "dataPointCountRatio": 1.0e-6, "dimensionCountRatio": 1.0e-5, "data": data}},
	})
}

func (s *Server) execute(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "Method not allowed", nil)
		return
	}
	if !s.authorize(w, r, "Bearer", ScopeStorageRead) {
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, "Content type "+strconv.Quote(ct)+" is not supported", nil)
		return
	}
	var req struct {
		Query               string `json:"query"`
		FetchTimeoutSeconds *int   `json:"fetchTimeoutSeconds"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || strings.TrimSpace(req.Query) == "" {
		writeError(w, http.StatusBadRequest, "The query is missing", nil)
		return
	}
	if req.FetchTimeoutSeconds != nil && *req.FetchTimeoutSeconds <= 0 {
		writeError(w, http.StatusBadRequest, "fetchTimeoutSeconds must be positive", nil)
		return
	}
	s.mu.Lock()
	_, known := s.dql[req.Query]
	var token string
	if known {
		s.nextID++
		token = fmt.Sprintf("dt-req/%d+%d==", s.nextID, time.Now().UnixNano())
		s.queries[token] = &dqlRun{query: req.Query}
	}
	s.mu.Unlock()
	if !known {
		writeError(w, http.StatusBadRequest, "PARSE_ERROR_UNEXPECTED_TOKEN: the query could not be parsed", nil)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"state": "RUNNING", "requestToken": token, "ttlSeconds": 600})
}

func (s *Server) poll(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "Method not allowed", nil)
		return
	}
	if !s.authorize(w, r, "Bearer", ScopeStorageRead) {
		return
	}
	token := r.URL.Query().Get("request-token")
	if token == "" {
		writeError(w, http.StatusBadRequest, "request-token must not be empty", nil)
		return
	}
	s.mu.Lock()
	run, ok := s.queries[token]
	var rs []float64
	done := false
	if ok {
		run.polls++
		done = run.polls > s.opts.PollsUntilDone
		rs = s.dql[run.query]
		if done {
			delete(s.queries, token)
		}
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusGone, "The result of the query is no longer available", nil)
		return
	}
	if !done {
		writeJSON(w, http.StatusOK, map[string]any{"state": "RUNNING", "progress": 50})
		return
	}
	records := make([]map[string]any, len(rs))
	for i, v := range rs {
		records[i] = map[string]any{"r": v}
	}
	writeJSON(w, http.StatusOK, map[string]any{"state": "SUCCEEDED", "progress": 100, "result": map[string]any{
		"records": records,
		"types":   []map[string]any{{"indexRange": []int{0, len(rs)}, "mappings": map[string]any{"r": map[string]string{"type": "double"}}}},
	}})
}
