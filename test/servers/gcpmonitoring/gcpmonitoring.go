// Package gcpmonitoring is a fake of the part of Google Cloud Monitoring that the gcp-* triggers
// read, and of Google's OAuth 2.0 token endpoint, for contract tests. On a free 127.0.0.1 port
// it answers:
//
//	POST /token   grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion={JWT}
//	GET  /v3/projects/{project}/timeSeries?filter=...&interval.startTime=...&interval.endTime=...
//	     [&aggregation.alignmentPeriod=...&aggregation.perSeriesAligner=...&aggregation.crossSeriesReducer=...]
//	     [&pageSize=...&pageToken=...]   with Authorization: Bearer {access token}
//	POST /v3/projects/{project}/timeSeries:query   {"query": "{MQL}", "pageSize": n, "pageToken": "..."}
//
// as Google documents them: the JWT bearer grant (RS256 assertion signed with the service
// account's key, iss the account's email, aud the token endpoint, a scope that allows reading
// monitoring data, exp at most an hour after iat), RFC 6749 error bodies for a refused grant;
// timeSeries.list with its required filter (naming a metric.type) and interval.endTime, RFC 3339
// times, series newest point first, int64 values as JSON strings, nextPageToken pagination, and
// Google's error JSON ({"error": {"code", "message", "status"}}) for 400, 401, 403 and 404.
//
// The filter language is served in part: terms key="value" joined by AND, on metric.type,
// resource.type, metric.labels.* and resource.labels.*; anything else is answered 400 saying so.
// Aggregation is served for the aligners MEAN, MIN, MAX, SUM, COUNT, NEXT_OLDER and the reducers
// NONE, SUM, MEAN, MIN, MAX, COUNT, over the newest alignment period; other values are valid
// in Cloud Monitoring and answered 400 here, saying so.
//
// timeSeries.query (the Monitoring Query Language, which gcp-pubsub uses) is served for the
// query forms KEDA builds for Pub/Sub only:
//
//	fetch pubsub_{subscription|topic} | metric '{type}' | filter (resource.project_id == '{p}' &&
//	resource.{subscription|topic}_id == '{id}') | within {duration}
//	[| align delta({d}) | every {d} | group_by [], {count|sum|mean}(value)]
//
// answered as timeSeriesData[].pointData[].values[] (newest first); other queries are answered
// 400 saying so.
//
// Service accounts are made by the fake (NewServiceAccount): their key file names this server
// as token_uri, as a real key names Google's. No Google code is used, only the documented wire
// formats.
package gcpmonitoring

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2/jws"
)

// Request is a timeSeries.list request the server answered.
type Request struct {
	Method, Path string
	Project      string
	// Account is the service account whose token authorized the request ("" when none did).
	Account                   string
	Filter                    string
	StartTime, EndTime        string
	AlignmentPeriod           string
	PerSeriesAligner, Reducer string
	PageToken                 string
	// Query is a timeSeries.query request's MQL.
	Query  string
	Status int
	// RemoteAddr is the client's end of the connection, to count connections.
	RemoteAddr string
}

// TokenRequest is a token request the server answered.
type TokenRequest struct {
	Account string
	Scope   string
	Status  int
}

// Point is one point of a series.
type Point struct {
	Time time.Time
	// Int is the value when Double is false; DoubleValue otherwise.
	Int    int64
	Double float64
	// IsDouble makes the point a doubleValue.
	IsDouble bool
}

// Series is one time series.
type Series struct {
	MetricType     string
	MetricLabels   map[string]string
	ResourceType   string
	ResourceLabels map[string]string
	// MetricKind is GAUGE unless set.
	MetricKind string
	Points     []Point
}

// Server is a running fake.
type Server struct {
	// URL is the base address, as Cloud Monitoring's https://monitoring.googleapis.com/ (ending
	// in a slash); TokenURI is the token endpoint.
	URL, TokenURI string
	// PageSize, when set, is the most series a page holds (the API's own default is larger than
	// any test needs).
	PageSize int

	srv *httptest.Server

	mu       sync.Mutex
	accounts map[string]*account // client email -> account
	tokens   map[string]string   // access token -> client email
	series   map[string][]*Series
	requests []Request
	tokenReq []TokenRequest
}

type account struct {
	key      *rsa.PrivateKey
	projects map[string]bool
	disabled bool
}

// Start starts a server on a free port of 127.0.0.1; it stops when the test ends. Outside a test
// (a TestMain), pass nil and call Close.
func Start(t testing.TB) *Server {
	s := &Server{accounts: map[string]*account{}, tokens: map[string]string{}, series: map[string][]*Series{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/token", s.token)
	mux.HandleFunc("/v3/projects/", s.list)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested URL "+r.URL.Path+" was not found on this server.")
	})
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL + "/"
	s.TokenURI = s.srv.URL + "/token"
	if t != nil {
		t.Cleanup(s.srv.Close)
	}
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// NewServiceAccount makes a service account of project that may read the projects given (and
// its own) and returns its key file's JSON, naming this server as token_uri.
func (s *Server) NewServiceAccount(project, name string, reads ...string) string {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic(err)
	}
	email := fmt.Sprintf("%s@%s.iam.gserviceaccount.com", name, project)
	a := &account{key: key, projects: map[string]bool{project: true}}
	for _, p := range reads {
		a.projects[p] = true
	}
	s.mu.Lock()
	s.accounts[email] = a
	s.mu.Unlock()
	id := make([]byte, 20)
	_, _ = rand.Read(id)
	file, _ := json.MarshalIndent(map[string]string{
		"type":                        "service_account",
		"project_id":                  project,
		"private_key_id":              hex.EncodeToString(id),
		"private_key":                 string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":                email,
		"client_id":                   "1" + strings.Repeat("0", 20),
		"auth_uri":                    "https://accounts.google.com/o/oauth2/auth",
		"token_uri":                   s.TokenURI,
		"auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
		"client_x509_cert_url":        "https://www.googleapis.com/robot/v1/metadata/x509/" + email,
		"universe_domain":             "googleapis.com",
	}, "", "  ")
	return string(file)
}

// DisableServiceAccount makes the token endpoint refuse the account's key, as Google refuses a
// deleted key, and its tokens stop working.
func (s *Server) DisableServiceAccount(email string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.accounts[email]; a != nil {
		a.disabled = true
	}
	for tok, e := range s.tokens {
		if e == email {
			delete(s.tokens, tok)
		}
	}
}

// SetSeries replaces project's series of se.MetricType and se.ResourceLabels with se.
func (s *Server) SetSeries(project string, se Series) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.series[project]
	list = slices.DeleteFunc(list, func(o *Series) bool {
		return o.MetricType == se.MetricType && equalLabels(o.ResourceLabels, se.ResourceLabels) && equalLabels(o.MetricLabels, se.MetricLabels)
	})
	c := se
	c.Points = append([]Point(nil), se.Points...)
	sort.Slice(c.Points, func(i, j int) bool { return c.Points[i].Time.After(c.Points[j].Time) })
	s.series[project] = append(list, &c)
}

// SetGauge makes a GAUGE series of metricType on resource (type and labels) with one int64
// point a few seconds old, as an ingested sample is.
func (s *Server) SetGauge(project, metricType, resourceType string, resourceLabels map[string]string, v int64) {
	labels := map[string]string{"project_id": project}
	for k, val := range resourceLabels {
		labels[k] = val
	}
	s.SetSeries(project, Series{MetricType: metricType, ResourceType: resourceType, ResourceLabels: labels,
		Points: []Point{{Time: time.Now().Add(-5 * time.Second).Truncate(time.Second), Int: v}}})
}

// RemoveSeries removes project's series of metricType.
func (s *Server) RemoveSeries(project, metricType string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.series[project] = slices.DeleteFunc(s.series[project], func(o *Series) bool { return o.MetricType == metricType })
}

// Requests returns the timeSeries.list requests answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// TokenRequests returns the token requests answered so far.
func (s *Server) TokenRequests() []TokenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]TokenRequest(nil), s.tokenReq...)
}

func equalLabels(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// writeError writes Google's error JSON.
func writeError(w http.ResponseWriter, code int, status, message string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": message, "status": status}})
}

// writeOAuthError writes RFC 6749's error body, as Google's token endpoint does.
func writeOAuthError(w http.ResponseWriter, code int, errCode, description string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": errCode, "error_description": description})
}

// readScopes are the scopes that allow timeSeries.list.
var readScopes = []string{
	"https://www.googleapis.com/auth/monitoring.read",
	"https://www.googleapis.com/auth/monitoring",
	"https://www.googleapis.com/auth/cloud-platform",
}

const jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	tr := TokenRequest{}
	defer func() {
		s.mu.Lock()
		s.tokenReq = append(s.tokenReq, tr)
		s.mu.Unlock()
	}()
	fail := func(code int, errCode, desc string) {
		tr.Status = code
		writeOAuthError(w, code, errCode, desc)
	}
	if r.Method != http.MethodPost {
		fail(http.StatusMethodNotAllowed, "invalid_request", "Token requests use POST")
		return
	}
	if err := r.ParseForm(); err != nil {
		fail(http.StatusBadRequest, "invalid_request", "Could not parse the form body")
		return
	}
	if g := r.PostForm.Get("grant_type"); g != jwtBearerGrant {
		fail(http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "+g)
		return
	}
	assertion := r.PostForm.Get("assertion")
	claims, err := jws.Decode(assertion)
	if err != nil {
		fail(http.StatusBadRequest, "invalid_grant", "Invalid JWT: could not decode the assertion")
		return
	}
	tr.Account, tr.Scope = claims.Iss, claims.Scope
	s.mu.Lock()
	a := s.accounts[claims.Iss]
	s.mu.Unlock()
	if a == nil || a.disabled {
		fail(http.StatusBadRequest, "invalid_grant", "Invalid grant: account not found")
		return
	}
	if err := jws.Verify(assertion, &a.key.PublicKey); err != nil {
		fail(http.StatusBadRequest, "invalid_grant", "Invalid JWT Signature.")
		return
	}
	now := time.Now().Unix()
	switch {
	case claims.Aud != s.TokenURI:
		fail(http.StatusBadRequest, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.")
		return
	case claims.Exp < now || claims.Iat > now+300 || claims.Exp-claims.Iat > 3600:
		fail(http.StatusBadRequest, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.")
		return
	case claims.Scope == "":
		fail(http.StatusBadRequest, "invalid_scope", "Invalid OAuth scope or ID token audience provided.")
		return
	}
	tok := make([]byte, 24)
	_, _ = rand.Read(tok)
	access := "ya29.fake-" + hex.EncodeToString(tok)
	s.mu.Lock()
	s.tokens[access] = claims.Iss + "\x00" + claims.Scope
	s.mu.Unlock()
	tr.Status = http.StatusOK
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": access, "expires_in": 3599, "token_type": "Bearer"})
}

var listPath = regexp.MustCompile(`^/v3/projects/([^/]+)/timeSeries$`)

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/timeSeries:query") {
		s.query(w, r)
		return
	}
	q := r.URL.Query()
	req := Request{Method: r.Method, Path: r.URL.Path, Filter: q.Get("filter"), StartTime: q.Get("interval.startTime"), EndTime: q.Get("interval.endTime"),
		AlignmentPeriod: q.Get("aggregation.alignmentPeriod"), PerSeriesAligner: q.Get("aggregation.perSeriesAligner"),
		Reducer: q.Get("aggregation.crossSeriesReducer"), PageToken: q.Get("pageToken"), RemoteAddr: r.RemoteAddr}
	code, body := s.answerList(r, &req)
	s.finish(w, req, code, body)
}

// finish records req and writes the answer.
func (s *Server) finish(w http.ResponseWriter, req Request, code int, body any) {
	req.Status = code
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.mu.Unlock()
	if code != http.StatusOK {
		e := body.(apiError)
		writeError(w, code, e.status, e.message)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_ = json.NewEncoder(w).Encode(body)
}

type apiError struct{ status, message string }

func (s *Server) answerList(r *http.Request, req *Request) (int, any) {
	m := listPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		return http.StatusNotFound, apiError{"NOT_FOUND", "The requested URL " + r.URL.Path + " was not found on this server."}
	}
	req.Project = m[1]
	if r.Method != http.MethodGet {
		return http.StatusMethodNotAllowed, apiError{"INVALID_ARGUMENT", "timeSeries.list is a GET"}
	}
	if code, e := s.authorize(r, req); code != 0 {
		return code, e
	}
	return s.listSeries(r, req)
}

// authorize checks the request's token, its scope and the account's access to req.Project;
// code is 0 when it may proceed.
func (s *Server) authorize(r *http.Request, req *Request) (int, apiError) {
	auth := r.Header.Get("Authorization")
	s.mu.Lock()
	who, ok := s.tokens[strings.TrimPrefix(auth, "Bearer ")]
	s.mu.Unlock()
	if !strings.HasPrefix(auth, "Bearer ") || !ok {
		return http.StatusUnauthorized, apiError{"UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."}
	}
	email, scope, _ := strings.Cut(who, "\x00")
	req.Account = email
	if !slices.ContainsFunc(strings.Fields(scope), func(sc string) bool { return slices.Contains(readScopes, sc) }) {
		return http.StatusForbidden, apiError{"PERMISSION_DENIED", "Request had insufficient authentication scopes."}
	}
	s.mu.Lock()
	a := s.accounts[email]
	allowed := a != nil && a.projects[req.Project]
	s.mu.Unlock()
	if !allowed {
		return http.StatusForbidden, apiError{"PERMISSION_DENIED", fmt.Sprintf("Permission monitoring.timeSeries.list denied (or the resource may not exist) on projects/%s.", req.Project)}
	}
	return 0, apiError{}
}

func (s *Server) listSeries(r *http.Request, req *Request) (int, any) {
	if req.Filter == "" {
		return http.StatusBadRequest, apiError{"INVALID_ARGUMENT", "Field filter had an invalid value: A filter must be specified."}
	}
	terms, err := parseFilter(req.Filter)
	if err != nil {
		return http.StatusBadRequest, apiError{"INVALID_ARGUMENT", "Field filter had an invalid value of \"" + req.Filter + "\": " + err.Error()}
	}
	if _, ok := terms["metric.type"]; !ok {
		return http.StatusBadRequest, apiError{"INVALID_ARGUMENT", "Field filter had an invalid value of \"" + req.Filter + "\": A filter must specify a metric type."}
	}
	if req.EndTime == "" {
		return http.StatusBadRequest, apiError{"INVALID_ARGUMENT", "Field interval.endTime had an invalid value: An end time must be specified."}
	}
	end, err := time.Parse(time.RFC3339Nano, req.EndTime)
	if err != nil {
		return http.StatusBadRequest, apiError{"INVALID_ARGUMENT", "Invalid value at 'interval.end_time' (type.googleapis.com/google.protobuf.Timestamp), Field 'endTime', Illegal timestamp format; timestamps must end with 'Z' or have a valid timezone offset."}
	}
	start := end
	if req.StartTime != "" {
		if start, err = time.Parse(time.RFC3339Nano, req.StartTime); err != nil {
			return http.StatusBadRequest, apiError{"INVALID_ARGUMENT", "Invalid value at 'interval.start_time' (type.googleapis.com/google.protobuf.Timestamp), Illegal timestamp format."}
		}
		if start.After(end) {
			return http.StatusBadRequest, apiError{"INVALID_ARGUMENT", "Field interval.startTime had an invalid value: The start time must be before the end time."}
		}
	}
	agg, errMsg := parseAggregation(req)
	if errMsg != "" {
		return http.StatusBadRequest, apiError{"INVALID_ARGUMENT", errMsg}
	}

	s.mu.Lock()
	var matched []Series
	for _, se := range s.series[req.Project] {
		if !matches(se, terms) {
			continue
		}
		c := *se
		c.Points = nil
		for _, p := range se.Points {
			if !p.Time.Before(start) && !p.Time.After(end) {
				c.Points = append(c.Points, p)
			}
		}
		// A series without points in the interval is not returned.
		if len(c.Points) > 0 {
			matched = append(matched, c)
		}
	}
	pageSize := s.PageSize
	s.mu.Unlock()
	matched = agg.apply(matched, end)

	first := 0
	if req.PageToken != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(req.PageToken, "page-"))
		if err != nil || n < 0 || n > len(matched) {
			return http.StatusBadRequest, apiError{"INVALID_ARGUMENT", "Field pageToken had an invalid value."}
		}
		first = n
	}
	if ps, err := strconv.Atoi(r.URL.Query().Get("pageSize")); err == nil && ps > 0 && (pageSize == 0 || ps < pageSize) {
		pageSize = ps
	}
	last := len(matched)
	if pageSize > 0 && first+pageSize < last {
		last = first + pageSize
	}
	out := map[string]any{}
	var ts []any
	for _, se := range matched[first:last] {
		ts = append(ts, seriesJSON(se, agg))
	}
	if len(ts) > 0 {
		out["timeSeries"] = ts
	}
	if last < len(matched) {
		out["nextPageToken"] = fmt.Sprintf("page-%d", last)
	}
	// The API always adds unit (empty for most metrics); an empty result is {"unit": ""}.
	out["unit"] = ""
	return http.StatusOK, out
}

// term is one key="value" of a filter.
var term = regexp.MustCompile(`^\s*([a-z_]+(?:\.[a-zA-Z0-9_]+)*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*$`)

// parseFilter reads terms key="value" joined by AND.
func parseFilter(filter string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range regexp.MustCompile(`\s+AND\s+`).Split(filter, -1) {
		m := term.FindStringSubmatch(part)
		if m == nil {
			return nil, fmt.Errorf("this fake serves only key=\"value\" terms joined by AND, not %q", strings.TrimSpace(part))
		}
		v := strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(m[2])
		if prev, dup := out[m[1]]; dup && prev != v {
			// Two different values for one key match nothing; keep the impossible pair.
			out[m[1]] = "\x00never"
			continue
		}
		out[m[1]] = v
	}
	return out, nil
}

func matches(se *Series, terms map[string]string) bool {
	for k, v := range terms {
		var got string
		var ok bool
		switch {
		case k == "metric.type":
			got, ok = se.MetricType, true
		case k == "resource.type":
			got, ok = se.ResourceType, se.ResourceType != ""
		case strings.HasPrefix(k, "resource.labels."):
			got, ok = se.ResourceLabels[strings.TrimPrefix(k, "resource.labels.")]
		case strings.HasPrefix(k, "metric.labels."):
			got, ok = se.MetricLabels[strings.TrimPrefix(k, "metric.labels.")]
		}
		if !ok || got != v {
			return false
		}
	}
	return true
}

// aggregation is a request's aggregation, as far as this fake serves it.
type aggregation struct {
	period           time.Duration
	aligner, reducer string
}

var (
	knownAligners = []string{"ALIGN_NONE", "ALIGN_DELTA", "ALIGN_RATE", "ALIGN_INTERPOLATE", "ALIGN_NEXT_OLDER", "ALIGN_MIN", "ALIGN_MAX", "ALIGN_MEAN",
		"ALIGN_COUNT", "ALIGN_SUM", "ALIGN_STDDEV", "ALIGN_COUNT_TRUE", "ALIGN_COUNT_FALSE", "ALIGN_FRACTION_TRUE", "ALIGN_PERCENTILE_99",
		"ALIGN_PERCENTILE_95", "ALIGN_PERCENTILE_50", "ALIGN_PERCENTILE_05", "ALIGN_PERCENT_CHANGE"}
	knownReducers = []string{"REDUCE_NONE", "REDUCE_MEAN", "REDUCE_MIN", "REDUCE_MAX", "REDUCE_SUM", "REDUCE_STDDEV", "REDUCE_COUNT",
		"REDUCE_COUNT_TRUE", "REDUCE_COUNT_FALSE", "REDUCE_FRACTION_TRUE", "REDUCE_PERCENTILE_99", "REDUCE_PERCENTILE_95",
		"REDUCE_PERCENTILE_50", "REDUCE_PERCENTILE_05"}
	servedAligners = []string{"", "ALIGN_NONE", "ALIGN_MEAN", "ALIGN_MIN", "ALIGN_MAX", "ALIGN_SUM", "ALIGN_COUNT", "ALIGN_NEXT_OLDER"}
	servedReducers = []string{"", "REDUCE_NONE", "REDUCE_SUM", "REDUCE_MEAN", "REDUCE_MIN", "REDUCE_MAX", "REDUCE_COUNT"}
)

// parseAggregation checks the aggregation as Cloud Monitoring documents it; the message is
// empty when it is valid.
func parseAggregation(req *Request) (aggregation, string) {
	a := aggregation{aligner: req.PerSeriesAligner, reducer: req.Reducer}
	if req.AlignmentPeriod != "" {
		d, err := time.ParseDuration(req.AlignmentPeriod)
		if err != nil || !strings.HasSuffix(req.AlignmentPeriod, "s") {
			return a, "Invalid value at 'aggregation.alignment_period' (type.googleapis.com/google.protobuf.Duration), Field 'alignmentPeriod', Illegal duration format; duration must end with 's'"
		}
		a.period = d
	}
	switch {
	case a.aligner != "" && !slices.Contains(knownAligners, a.aligner):
		return a, fmt.Sprintf("Invalid value at 'aggregation.per_series_aligner' (type.googleapis.com/google.monitoring.v3.Aggregation.Aligner), %q", a.aligner)
	case a.reducer != "" && !slices.Contains(knownReducers, a.reducer):
		return a, fmt.Sprintf("Invalid value at 'aggregation.cross_series_reducer' (type.googleapis.com/google.monitoring.v3.Aggregation.Reducer), %q", a.reducer)
	case a.aligner != "" && a.aligner != "ALIGN_NONE" && a.period == 0:
		return a, "Field aggregation.alignmentPeriod had an invalid value: The alignment period must be specified when a per-series aligner is specified."
	case a.period != 0 && a.period < 60*time.Second:
		return a, "Field aggregation.alignmentPeriod had an invalid value: The alignment period must be at least 60 seconds."
	case a.reducer != "" && a.reducer != "REDUCE_NONE" && (a.aligner == "" || a.aligner == "ALIGN_NONE"):
		return a, "Field aggregation.perSeriesAligner had an invalid value: When a cross-series reducer is specified, the per-series aligner must not be ALIGN_NONE."
	case !slices.Contains(servedAligners, a.aligner) || !slices.Contains(servedReducers, a.reducer):
		return a, fmt.Sprintf("this fake serves the aligners %v and the reducers %v only", servedAligners[1:], servedReducers[1:])
	}
	return a, ""
}

// apply aligns each series over the newest period ending at end (one point at end), then
// reduces across series into one.
func (a aggregation) apply(series []Series, end time.Time) []Series {
	if a.aligner == "" || a.aligner == "ALIGN_NONE" {
		return series
	}
	var out []Series
	for _, se := range series {
		var vals []float64
		for _, p := range se.Points {
			if p.Time.After(end.Add(-a.period)) {
				vals = append(vals, p.value())
			}
		}
		if len(vals) == 0 {
			continue
		}
		v := combine(strings.TrimPrefix(a.aligner, "ALIGN_"), vals)
		c := se
		c.Points = []Point{{Time: end, Double: v, IsDouble: true}}
		if a.aligner == "ALIGN_COUNT" || (a.aligner == "ALIGN_NEXT_OLDER" && !se.Points[0].IsDouble) {
			c.Points[0] = Point{Time: end, Int: int64(v)}
		}
		out = append(out, c)
	}
	if a.reducer == "" || a.reducer == "REDUCE_NONE" || len(out) == 0 {
		return out
	}
	vals := make([]float64, len(out))
	allInt := true
	for i, se := range out {
		vals[i] = se.Points[0].value()
		allInt = allInt && !se.Points[0].IsDouble
	}
	v := combine(strings.TrimPrefix(a.reducer, "REDUCE_"), vals)
	// A reduced series keeps only the labels the request groups by: none here.
	r := Series{MetricType: out[0].MetricType, ResourceType: out[0].ResourceType, ResourceLabels: map[string]string{"project_id": out[0].ResourceLabels["project_id"]}}
	p := Point{Time: end, Double: v, IsDouble: true}
	if a.reducer == "REDUCE_COUNT" || allInt && (a.reducer == "REDUCE_SUM" || a.reducer == "REDUCE_MIN" || a.reducer == "REDUCE_MAX") {
		p = Point{Time: end, Int: int64(v)}
	}
	r.Points = []Point{p}
	return []Series{r}
}

func (p Point) value() float64 {
	if p.IsDouble {
		return p.Double
	}
	return float64(p.Int)
}

// combine folds vals (newest first) with fn: MEAN, MIN, MAX, SUM, COUNT or NEXT_OLDER.
func combine(fn string, vals []float64) float64 {
	switch fn {
	case "NEXT_OLDER":
		return vals[0]
	case "COUNT":
		return float64(len(vals))
	case "MIN":
		return slices.Min(vals)
	case "MAX":
		return slices.Max(vals)
	}
	sum := 0.0
	for _, v := range vals {
		sum += v
	}
	if fn == "MEAN" {
		return sum / float64(len(vals))
	}
	return sum
}

// seriesJSON is a series as the REST API writes it.
func seriesJSON(se Series, agg aggregation) map[string]any {
	kind := se.MetricKind
	if kind == "" {
		kind = "GAUGE"
	}
	valueType := "INT64"
	var points []any
	for _, p := range se.Points {
		v := map[string]any{}
		if p.IsDouble {
			valueType = "DOUBLE"
			if math.IsNaN(p.Double) || math.IsInf(p.Double, 0) {
				// proto3's JSON form of the values JSON numbers cannot hold.
				v["doubleValue"] = map[bool]string{true: "Infinity", false: "-Infinity"}[p.Double > 0]
				if math.IsNaN(p.Double) {
					v["doubleValue"] = "NaN"
				}
			} else {
				v["doubleValue"] = p.Double
			}
		} else {
			v["int64Value"] = strconv.FormatInt(p.Int, 10)
		}
		t := p.Time.UTC().Format(time.RFC3339Nano)
		start := t
		if agg.period > 0 && agg.aligner != "" && agg.aligner != "ALIGN_NONE" {
			start = p.Time.Add(-agg.period).UTC().Format(time.RFC3339Nano)
		}
		points = append(points, map[string]any{"interval": map[string]string{"startTime": start, "endTime": t}, "value": v})
	}
	out := map[string]any{
		"metric":     map[string]any{"type": se.MetricType, "labels": orEmpty(se.MetricLabels)},
		"resource":   map[string]any{"type": se.ResourceType, "labels": orEmpty(se.ResourceLabels)},
		"metricKind": kind,
		"valueType":  valueType,
		"points":     points,
	}
	return out
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

var (
	queryPath = regexp.MustCompile(`^/v3/projects/([^/]+)/timeSeries:query$`)
	// mqlForm is the query KEDA builds for Pub/Sub, the one MQL form this fake serves.
	mqlForm = regexp.MustCompile(`^fetch pubsub_(subscription|topic) \| metric '([^']+)' \| filter \(resource\.project_id == '([^']*)' && resource\.(subscription|topic)_id == '([^']*)'\) \| within (\S+?)(?: \| align delta\((\S+?)\) \| every (\S+?) \| group_by \[\], (\w+)\(value\))?$`)
)

func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	req := Request{Method: r.Method, Path: r.URL.Path, RemoteAddr: r.RemoteAddr}
	code, body := s.answerQuery(r, &req)
	s.finish(w, req, code, body)
}

func (s *Server) answerQuery(r *http.Request, req *Request) (int, any) {
	m := queryPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		return http.StatusNotFound, apiError{"NOT_FOUND", "The requested URL " + r.URL.Path + " was not found on this server."}
	}
	req.Project = m[1]
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, apiError{"INVALID_ARGUMENT", "timeSeries.query is a POST"}
	}
	if code, e := s.authorize(r, req); code != 0 {
		return code, e
	}
	var body struct {
		Query     string `json:"query"`
		PageSize  int    `json:"pageSize"`
		PageToken string `json:"pageToken"`
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return http.StatusBadRequest, apiError{"INVALID_ARGUMENT", "Invalid JSON payload received: the Content-Type must be application/json."}
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		return http.StatusBadRequest, apiError{"INVALID_ARGUMENT", "Invalid JSON payload received."}
	}
	req.Query, req.PageToken = body.Query, body.PageToken
	if body.Query == "" {
		return http.StatusBadRequest, apiError{"INVALID_ARGUMENT", "Field query had an invalid value: A query must be specified."}
	}
	q := mqlForm.FindStringSubmatch(body.Query)
	if q == nil {
		return http.StatusBadRequest, apiError{"INVALID_ARGUMENT", "this fake serves only the MQL form KEDA builds for Pub/Sub, not: " + body.Query}
	}
	kind, metric, project, idKind, id := q[1], q[2], q[3], q[4], q[5]
	if kind != idKind {
		return http.StatusBadRequest, apiError{"INVALID_ARGUMENT", fmt.Sprintf("Line 1, column 1: resource.%s_id is not a column of pubsub_%s.", idKind, kind)}
	}
	within, err := time.ParseDuration(q[6])
	if err != nil || within <= 0 {
		return http.StatusBadRequest, apiError{"INVALID_ARGUMENT", "Invalid duration in 'within': " + q[6]}
	}
	fn := q[9]
	if fn != "" && fn != "count" && fn != "sum" && fn != "mean" {
		return http.StatusBadRequest, apiError{"INVALID_ARGUMENT", "this fake serves the aggregations count, sum and mean only, not " + fn}
	}
	now := time.Now()
	var matched []Series
	s.mu.Lock()
	for _, se := range s.series[req.Project] {
		if se.MetricType != metric || se.ResourceLabels["project_id"] != project || se.ResourceLabels[kind+"_id"] != id {
			continue
		}
		c := *se
		c.Points = nil
		for _, p := range se.Points {
			if !p.Time.Before(now.Add(-within)) && !p.Time.After(now) {
				c.Points = append(c.Points, p)
			}
		}
		if len(c.Points) > 0 {
			matched = append(matched, c)
		}
	}
	s.mu.Unlock()
	if fn != "" && len(matched) > 0 {
		period, err := time.ParseDuration(q[7])
		if err != nil || q[7] != q[8] {
			return http.StatusBadRequest, apiError{"INVALID_ARGUMENT", "this fake serves align delta(d) | every d with one duration d"}
		}
		var vals []float64
		for _, se := range matched {
			for _, p := range se.Points {
				if p.Time.After(now.Add(-period)) {
					vals = append(vals, p.value())
				}
			}
		}
		matched = matched[:0]
		if len(vals) > 0 {
			v := combine(strings.ToUpper(fn), vals)
			p := Point{Time: now.Truncate(time.Second), Double: v, IsDouble: true}
			if fn == "count" {
				p = Point{Time: p.Time, Int: int64(v)}
			}
			matched = append(matched, Series{MetricType: metric, Points: []Point{p}})
		}
	}
	first := 0
	if body.PageToken != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(body.PageToken, "page-"))
		if err != nil || n < 0 || n > len(matched) {
			return http.StatusBadRequest, apiError{"INVALID_ARGUMENT", "Field pageToken had an invalid value."}
		}
		first = n
	}
	last := len(matched)
	if body.PageSize > 0 && first+body.PageSize < last {
		last = first + body.PageSize
	}
	valueType := "INT64"
	var data []any
	for _, se := range matched[first:last] {
		var points []any
		for _, p := range se.Points {
			v := map[string]any{"int64Value": strconv.FormatInt(p.Int, 10)}
			if p.IsDouble {
				valueType = "DOUBLE"
				v = map[string]any{"doubleValue": p.Double}
			}
			t := p.Time.UTC().Format(time.RFC3339Nano)
			points = append(points, map[string]any{"values": []any{v}, "timeInterval": map[string]string{"startTime": t, "endTime": t}})
		}
		data = append(data, map[string]any{"labelValues": []any{map[string]string{"stringValue": project}, map[string]string{"stringValue": id}}, "pointData": points})
	}
	out := map[string]any{"timeSeriesDescriptor": map[string]any{
		"labelDescriptors": []any{map[string]string{"key": "resource.project_id"}, map[string]string{"key": "resource." + kind + "_id"}},
		"pointDescriptors": []any{map[string]string{"key": "value." + metric[strings.LastIndex(metric, "/")+1:], "valueType": valueType, "metricKind": "GAUGE"}},
	}}
	if len(data) > 0 {
		out["timeSeriesData"] = data
	}
	if last < len(matched) {
		out["nextPageToken"] = fmt.Sprintf("page-%d", last)
	}
	return http.StatusOK, out
}
