// Package cloudwatch is a fake of Amazon CloudWatch's GetMetricData for the aws-cloudwatch
// scaler's contract tests. It speaks the AWS JSON 1.1 protocol CloudWatch documents beside
// awsQuery and Smithy RPC v2 CBOR:
//
//	POST /  X-Amz-Target: GraniteServiceVersion20100801.GetMetricData  Content-Type: application/x-amz-json-1.1
//	        {"StartTime": 1700000000, "EndTime": 1700000300, "ScanBy": "TimestampDescending",
//	         "MetricDataQueries": [{"Id": "c1", "MetricStat": {"Metric": {"Namespace": ..., "MetricName": ...,
//	         "Dimensions": [{"Name": ..., "Value": ...}]}, "Period": 60, "Stat": "Average"}, "ReturnData": true}]}
//	-> 200  {"MetricDataResults": [{"Id": "c1", "Timestamps": [...], "Values": [...], "StatusCode": "Complete"}]}
//
// timestamps as epoch seconds; requests signed with Signature Version 4 for the service
// "monitoring", which the fake verifies; CloudWatch's errors in the JSON form of a
// query-compatible service (400 {"__type": "InvalidParameterValueException"} with the
// x-amzn-query-error header "InvalidParameterValue;Sender"; 403 InvalidClientTokenId and
// SignatureDoesNotMatch). A metric's data points are put by the test; each query's values are its
// statistic over each period of [StartTime, EndTime), the periods with no point left out (as
// CloudWatch does), newest first with ScanBy TimestampDescending. A metric math or Metrics
// Insights expression is answered with the values the test set for that exact expression.
package cloudwatch

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kedactl/kedactl/test/servers/internal/sigv4"
)

// Options configures a server.
type Options struct {
	// Region is the region requests must be signed for; us-east-1 when empty.
	Region string
	// AccessKeyID, SecretAccessKey and SessionToken are the credentials the server accepts.
	AccessKeyID, SecretAccessKey, SessionToken string
}

// Request is a request the server answered.
type Request struct {
	Target, AccessKeyID, Region string
	Input                       GetMetricDataInput
	Status                      int
}

// GetMetricDataInput is the request's body as the fake reads it.
type GetMetricDataInput struct {
	StartTime, EndTime float64
	ScanBy             string
	NextToken          string
	MaxDatapoints      int
	MetricDataQueries  []Query
}

// Query is one of MetricDataQueries.
type Query struct {
	Id, Expression, AccountId, Label string
	Period                           int
	ReturnData                       *bool
	MetricStat                       *MetricStat
}

// MetricStat names a metric and its statistic.
type MetricStat struct {
	Metric struct {
		Namespace, MetricName string
		Dimensions            []Dimension
	}
	Period int
	Stat   string
	Unit   string
}

// Dimension is a metric's dimension.
type Dimension struct{ Name, Value string }

type point struct {
	t time.Time
	v float64
}

// Server is a running fake.
type Server struct {
	// URL is the endpoint (http://127.0.0.1:port), what awsEndpoint names.
	URL string

	opts Options
	srv  *httptest.Server

	mu          sync.Mutex
	points      map[string][]point
	expressions map[string][]float64
	requests    []Request
}

// Start starts a server for one test and stops it when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	s := &Server{opts: opts, points: map[string][]point{}, expressions: map[string][]float64{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve)) // httptest listens on 127.0.0.1
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// metricKey names a metric by namespace, name and its dimensions in any order.
func metricKey(namespace, name string, dims []Dimension) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		parts[i] = d.Name + "=" + d.Value
	}
	sort.Strings(parts)
	return namespace + "|" + name + "|" + strings.Join(parts, ",")
}

// Put adds a data point of value at t to a metric.
func (s *Server) Put(namespace, name string, dims []Dimension, t time.Time, value float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := metricKey(namespace, name, dims)
	s.points[k] = append(s.points[k], point{t, value})
}

// Clear removes a metric's data points.
func (s *Server) Clear(namespace, name string, dims []Dimension) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.points, metricKey(namespace, name, dims))
}

// SetExpression makes the fake answer a query of expression with values (newest first).
func (s *Server) SetExpression(expression string, values ...float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expressions[expression] = values
}

// Requests are the requests answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

type apiError struct {
	status            int
	typ, code, detail string
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rec := Request{Target: r.Header.Get("X-Amz-Target")}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var status int
	if err != nil {
		status = s.fail(w, apiError{400, "InvalidParameterValueException", "InvalidParameterValue", "could not read the body"})
	} else {
		status = s.handle(w, r, body, &rec)
	}
	rec.Status = status
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request, body []byte, rec *Request) int {
	keyID, region, e := sigv4.Verify(r, body, sigv4.Credentials{Service: "monitoring", Region: s.opts.Region,
		AccessKeyID: s.opts.AccessKeyID, SecretAccessKey: s.opts.SecretAccessKey, SessionToken: s.opts.SessionToken})
	rec.AccessKeyID, rec.Region = keyID, region
	if e != nil {
		code := map[sigv4.Kind]string{sigv4.Missing: "MissingAuthenticationToken", sigv4.Incomplete: "IncompleteSignature",
			sigv4.UnknownCredentials: "InvalidClientTokenId", sigv4.BadSignature: "SignatureDoesNotMatch"}[e.Kind]
		return s.fail(w, apiError{e.Status, code, code, e.Message})
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		return s.fail(w, apiError{400, "InvalidAction", "InvalidAction", "the fake speaks AWS JSON 1.1 only"})
	}
	if rec.Target != "GraniteServiceVersion20100801.GetMetricData" {
		return s.fail(w, apiError{400, "InvalidAction", "InvalidAction", "the fake answers GetMetricData only, not " + rec.Target})
	}
	if err := json.Unmarshal(body, &rec.Input); err != nil {
		return s.fail(w, apiError{400, "SerializationException", "SerializationException", err.Error()})
	}
	out, apiErr := s.getMetricData(&rec.Input)
	if apiErr != nil {
		return s.fail(w, *apiErr)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000")
	_ = json.NewEncoder(w).Encode(out)
	return http.StatusOK
}

// queryID is the documented form of a query's Id.
var queryID = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]{0,254}$`)

// validPeriod: 1, 5, 10, 30 (high resolution) or a multiple of 60 seconds.
func validPeriod(p int) bool {
	return p == 1 || p == 5 || p == 10 || p == 30 || (p >= 60 && p%60 == 0)
}

type result struct {
	Id, Label, StatusCode string
	Timestamps            []float64
	Values                []float64
}

func (s *Server) getMetricData(in *GetMetricDataInput) (map[string]any, *apiError) {
	invalid := func(msg string) *apiError {
		return &apiError{400, "InvalidParameterValueException", "InvalidParameterValue", msg}
	}
	if in.StartTime == 0 || in.EndTime == 0 {
		return nil, invalid("StartTime and EndTime are required")
	}
	if in.StartTime >= in.EndTime {
		return nil, &apiError{400, "InvalidParameterCombinationException", "InvalidParameterCombination", "The parameter StartTime must be less than the parameter EndTime."}
	}
	if len(in.MetricDataQueries) == 0 || len(in.MetricDataQueries) > 500 {
		return nil, invalid("MetricDataQueries must hold 1 to 500 queries")
	}
	if in.ScanBy != "" && in.ScanBy != "TimestampDescending" && in.ScanBy != "TimestampAscending" {
		return nil, invalid("ScanBy must be TimestampDescending or TimestampAscending")
	}
	start, end := time.Unix(int64(in.StartTime), 0), time.Unix(int64(in.EndTime), 0)
	s.mu.Lock()
	defer s.mu.Unlock()
	results := []result{}
	for _, q := range in.MetricDataQueries {
		if !queryID.MatchString(q.Id) {
			return nil, invalid(fmt.Sprintf("The value %s for parameter MetricDataQueries.member.1.Id is invalid: it must start with a lowercase letter", q.Id))
		}
		if (q.MetricStat == nil) == (q.Expression == "") {
			return nil, &apiError{400, "InvalidParameterCombinationException", "InvalidParameterCombination", "Exactly one of MetricStat and Expression must be set"}
		}
		r := result{Id: q.Id, Label: q.Id, StatusCode: "Complete", Timestamps: []float64{}, Values: []float64{}}
		if q.Expression != "" {
			if q.Period != 0 && !validPeriod(q.Period) {
				return nil, invalid("Period must be 1, 5, 10, 30 or a multiple of 60")
			}
			vals, ok := s.expressions[q.Expression]
			if !ok {
				return nil, invalid("the fake knows no such expression: " + q.Expression)
			}
			for i, v := range vals {
				r.Timestamps = append(r.Timestamps, float64(end.Add(-time.Duration(i+1)*time.Minute).Unix()))
				r.Values = append(r.Values, v)
			}
		} else {
			ms := q.MetricStat
			if ms.Metric.Namespace == "" || ms.Metric.MetricName == "" || ms.Stat == "" {
				return nil, &apiError{400, "MissingParameterException", "MissingParameter", "MetricStat needs Metric.Namespace, Metric.MetricName and Stat"}
			}
			if !validPeriod(ms.Period) {
				return nil, invalid(fmt.Sprintf("The value %d for parameter MetricDataQueries.member.1.MetricStat.Period is invalid.", ms.Period))
			}
			pts := s.points[metricKey(ms.Metric.Namespace, ms.Metric.MetricName, ms.Metric.Dimensions)]
			period := time.Duration(ms.Period) * time.Second
			for b := start; b.Before(end); b = b.Add(period) {
				var in []float64
				for _, p := range pts {
					if !p.t.Before(b) && p.t.Before(b.Add(period)) && p.t.Before(end) {
						in = append(in, p.v)
					}
				}
				if len(in) == 0 {
					continue
				}
				v, err := stat(ms.Stat, in)
				if err != nil {
					return nil, invalid(err.Error())
				}
				r.Timestamps = append(r.Timestamps, float64(b.Unix()))
				r.Values = append(r.Values, v)
			}
			if in.ScanBy != "TimestampAscending" {
				slices.Reverse(r.Timestamps)
				slices.Reverse(r.Values)
			}
		}
		if q.ReturnData == nil || *q.ReturnData {
			results = append(results, r)
		}
	}
	return map[string]any{"MetricDataResults": results, "Messages": []any{}}, nil
}

// stat is one of CloudWatch's basic statistics over vals.
func stat(name string, vals []float64) (float64, error) {
	switch name {
	case "SampleCount":
		return float64(len(vals)), nil
	case "Sum", "Average":
		sum := 0.0
		for _, v := range vals {
			sum += v
		}
		if name == "Average" {
			return sum / float64(len(vals)), nil
		}
		return sum, nil
	case "Minimum":
		return slices.Min(vals), nil
	case "Maximum":
		return slices.Max(vals), nil
	}
	return math.NaN(), fmt.Errorf("the fake computes SampleCount, Sum, Average, Minimum and Maximum, not %q", name)
}

func (s *Server) fail(w http.ResponseWriter, e apiError) int {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("x-amzn-query-error", e.code+";Sender")
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.typ, "message": e.detail})
	return e.status
}
