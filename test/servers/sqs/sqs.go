// Package sqs is a fake of Amazon SQS for the aws-sqs-queue scaler's contract tests. It speaks
// the AWS JSON 1.0 protocol that SQS documents and that aws-sdk-go-v2 uses:
//
//	POST /  X-Amz-Target: AmazonSQS.GetQueueAttributes  Content-Type: application/x-amz-json-1.0
//	        {"QueueUrl": "...", "AttributeNames": ["ApproximateNumberOfMessages", ...]}
//	-> 200  {"Attributes": {"ApproximateNumberOfMessages": "3", ...}}
//
// with requests signed with Signature Version 4 (the Authorization header's credential scope
// <key id>/<date>/<region>/sqs/aws4_request, X-Amz-Date, X-Amz-Security-Token for temporary
// credentials), which the fake verifies, and SQS's error answers: 400 with
// {"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": ...} and the
// x-amzn-query-error header for an unknown queue, 403 InvalidClientTokenId for an unknown key,
// 403 SignatureDoesNotMatch for a wrong signature.
//
// A fake, not goaws, backs the tests: goaws v0.4.5, the emulator served here, speaks only SQS's
// older query protocol (its router answers a JSON request 400 "Bad Request"), has no
// ApproximateNumberOfMessagesDelayed and counts delayed and in-flight messages in
// ApproximateNumberOfMessages; TestGoawsFallsShort pins this, so that a goaws that catches up is
// noticed. Queues and messages are set by the test through the Server's methods: visible, in
// flight (received, not deleted) and delayed messages.
package sqs

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/kedactl/kedactl/test/servers/internal/sigv4"
)

// Options configures a server.
type Options struct {
	// Region is the region requests must be signed for; us-east-1 when empty.
	Region string
	// AccountID is the account in queue URLs; 000000000000 when empty.
	AccountID string
	// AccessKeyID, SecretAccessKey and SessionToken are the credentials the server accepts.
	AccessKeyID, SecretAccessKey, SessionToken string
}

// Request is a request the server answered.
type Request struct {
	Target         string
	QueueURL       string
	AttributeNames []string
	AccessKeyID    string
	Region         string
	Status         int
}

type queue struct {
	visible, inFlight, delayed int64
}

// Server is a running fake.
type Server struct {
	// URL is the endpoint (http://127.0.0.1:port), what awsEndpoint names.
	URL string

	opts Options
	srv  *httptest.Server

	mu       sync.Mutex
	queues   map[string]*queue
	requests []Request
}

// Start starts a server for one test and stops it when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.AccountID == "" {
		opts.AccountID = "000000000000"
	}
	s := &Server{opts: opts, queues: map[string]*queue{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve)) // httptest listens on 127.0.0.1
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// CreateQueue creates an empty queue and returns its URL.
func (s *Server) CreateQueue(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queues[name] = &queue{}
	return s.QueueURL(name)
}

// QueueURL is the URL SQS would give the queue name.
func (s *Server) QueueURL(name string) string {
	return s.URL + "/" + s.opts.AccountID + "/" + name
}

// SetCounts sets a queue's visible, in-flight and delayed messages.
func (s *Server) SetCounts(name string, visible, inFlight, delayed int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.queues[name]
	if !ok {
		panic("sqs fake: no queue " + name)
	}
	q.visible, q.inFlight, q.delayed = visible, inFlight, delayed
}

// Requests returns the requests answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// apiError is SQS's JSON error answer.
type apiError struct {
	status     int
	typ        string // the shape, after the # of __type
	queryError string // the x-amzn-query-error code, for clients of the older protocol's codes
	message    string
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rec := Request{Target: r.Header.Get("X-Amz-Target")}
	status := s.handle(w, r, &rec)
	rec.Status = status
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request, rec *Request) int {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return s.fail(w, apiError{status: 400, typ: "com.amazonaws.sqs#InvalidParameterValue", message: "unreadable body"})
	}
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		return s.fail(w, apiError{status: 400, typ: "com.amazonaws.sqs#InvalidAction", message: "requests are POST /"})
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.0" {
		return s.fail(w, apiError{status: 400, typ: "com.amazonaws.sqs#UnsupportedOperation", message: "Content-Type " + ct + " is not application/x-amz-json-1.0"})
	}
	if e := s.authenticate(r, body, rec); e != nil {
		return s.fail(w, *e)
	}
	switch rec.Target {
	case "AmazonSQS.GetQueueAttributes":
		var in struct {
			QueueUrl       string
			AttributeNames []string
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return s.fail(w, apiError{status: 400, typ: "com.amazonaws.sqs#InvalidParameterValue", message: "the body is not JSON"})
		}
		rec.QueueURL, rec.AttributeNames = in.QueueUrl, in.AttributeNames
		return s.getQueueAttributes(w, in.QueueUrl, in.AttributeNames)
	default:
		return s.fail(w, apiError{status: 400, typ: "com.amazonaws.sqs#InvalidAction", message: "the fake answers AmazonSQS.GetQueueAttributes only, not " + rec.Target})
	}
}

func (s *Server) getQueueAttributes(w http.ResponseWriter, queueURL string, names []string) int {
	u, err := url.Parse(queueURL)
	parts := strings.Split(strings.TrimPrefix(u.Path, "/"), "/")
	s.mu.Lock()
	var q queue
	found := false
	if err == nil && len(parts) == 2 && parts[0] == s.opts.AccountID {
		if p, ok := s.queues[parts[1]]; ok {
			q, found = *p, true
		}
	}
	s.mu.Unlock()
	if !found {
		return s.fail(w, apiError{status: 400, typ: "com.amazonaws.sqs#QueueDoesNotExist", queryError: "AWS.SimpleQueueService.NonExistentQueue;Sender",
			message: "The specified queue does not exist."})
	}
	all := map[string]string{
		"ApproximateNumberOfMessages":           strconv.FormatInt(q.visible, 10),
		"ApproximateNumberOfMessagesNotVisible": strconv.FormatInt(q.inFlight, 10),
		"ApproximateNumberOfMessagesDelayed":    strconv.FormatInt(q.delayed, 10),
		"VisibilityTimeout":                     "30",
	}
	out := map[string]string{}
	for _, n := range names {
		if n == "All" {
			out = all
			break
		}
		v, ok := all[n]
		if !ok {
			return s.fail(w, apiError{status: 400, typ: "com.amazonaws.sqs#InvalidAttributeName", message: "Unknown Attribute " + n + "."})
		}
		out[n] = v
	}
	resp := map[string]any{}
	if len(out) > 0 {
		resp["Attributes"] = out
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000")
	_ = json.NewEncoder(w).Encode(resp)
	return http.StatusOK
}

func (s *Server) fail(w http.ResponseWriter, e apiError) int {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if e.queryError != "" {
		w.Header().Set("x-amzn-query-error", e.queryError)
	}
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.typ, "message": e.message})
	return e.status
}

// authenticate verifies the request's Signature Version 4 signature (header form) against the
// server's credentials, answering SQS's error codes.
func (s *Server) authenticate(r *http.Request, body []byte, rec *Request) *apiError {
	keyID, region, e := sigv4.Verify(r, body, sigv4.Credentials{Service: "sqs", Region: s.opts.Region,
		AccessKeyID: s.opts.AccessKeyID, SecretAccessKey: s.opts.SecretAccessKey, SessionToken: s.opts.SessionToken})
	rec.AccessKeyID, rec.Region = keyID, region
	if e == nil {
		return nil
	}
	typ := map[sigv4.Kind]string{
		sigv4.Missing:            "com.amazonaws.sqs#MissingAuthenticationToken",
		sigv4.Incomplete:         "com.amazonaws.sqs#IncompleteSignature",
		sigv4.UnknownCredentials: "com.amazon.coral.service#InvalidClientTokenId",
		sigv4.BadSignature:       "com.amazonaws.sqs#SignatureDoesNotMatch",
	}[e.Kind]
	return &apiError{status: e.Status, typ: typ, message: e.Message}
}
