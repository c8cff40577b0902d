// Package ibmmq is a fake of the part of IBM MQ's administrative REST API (the mqweb server) that
// the ibmmq trigger uses, for contract tests. Over TLS, on a free 127.0.0.1 port, it answers as
// IBM's REST API reference documents
//
//	POST /ibmmq/rest/v2/admin/action/qmgr/{qmgrName}/mqsc   an MQSC command as runCommandJSON
//
// with IBM's conventions: HTTP basic authentication (401 without valid credentials); the
// ibm-mq-rest-csrf-token header, any value, on every POST (403 without it); a JSON body of
// {"type":"runCommandJSON","command":...,"qualifier":...,"name":...,"responseParameters":[...]};
// the answer {"commandResponse":[{"completionCode":0,"reasonCode":0,"parameters":{...}}],
// "overallCompletionCode":0,"overallReasonCode":0} with parameter names in lower case, or, for an
// object the queue manager does not have, a 200 whose commandResponse carries completion code 2,
// reason 2085 and the AMQ8147E message (overall 2/3008); errors of the API itself as
// {"error":[{"type":"rest","msgId":"MQWB...","message":...,"explanation":...,"action":...}]}
// with the HTTP status (404 for an unknown queue manager, 400 for a body that is not a command).
// DISPLAY QLOCAL and DISPLAY QUEUE answer CURDEPTH (and QUEUE), DISPLAY QSTATUS CURDEPTH too.
package ibmmq

import (
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kedactl/kedactl/test/servers/internal/answered"
)

// Options configures a server.
type Options struct {
	// QueueManager is the queue manager's name (QM1 when empty).
	QueueManager string
	// Username and Password are the credentials the REST API takes.
	Username, Password string
	// TLS is the server's TLS configuration (httptest's own certificate when nil).
	TLS *tls.Config
}

// Request is a request the server answered.
type Request struct {
	Path, User, CSRFToken, ContentType string
	Command                            Command
	Status                             int
}

// Command is a runCommandJSON request body.
type Command struct {
	Type               string   `json:"type"`
	Command            string   `json:"command"`
	Qualifier          string   `json:"qualifier"`
	Name               string   `json:"name"`
	ResponseParameters []string `json:"responseParameters"`
}

// Server is a running fake.
type Server struct {
	// URL is the server's address (https://127.0.0.1:port); MQSC the queue manager's mqsc URL,
	// what the trigger's host names.
	URL, MQSC string
	// Client trusts the server's certificate.
	Client *http.Client
	// CertPEM is the server's certificate, the ca a TriggerAuthentication gives.
	CertPEM string

	opts Options
	srv  *httptest.Server

	mu       sync.Mutex
	depths   map[string]int64
	requests []Request
}

const mqscPath = "/ibmmq/rest/v2/admin/action/qmgr/"

// Start starts a server on a free port of 127.0.0.1; it stops when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.QueueManager == "" {
		opts.QueueManager = "QM1"
	}
	s := &Server{opts: opts, depths: map[string]int64{}}
	mux := http.NewServeMux()
	mux.HandleFunc(mqscPath, s.serve)
	s.srv = httptest.NewUnstartedServer(mux)
	if opts.TLS != nil {
		s.srv.TLS = opts.TLS
	}
	s.srv.StartTLS()
	s.URL = s.srv.URL
	s.MQSC = s.URL + mqscPath + opts.QueueManager + "/mqsc"
	s.Client = s.srv.Client()
	s.CertPEM = certPEM(s.srv)
	t.Cleanup(s.srv.Close)
	return s
}

// SetDepth defines the local queue (names are case-sensitive, as MQ's) with n messages.
func (s *Server) SetDepth(queue string, n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.depths[queue] = n
}

// Requests returns the requests answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// apiError is one element of the REST API's error array.
type apiError struct {
	Type        string `json:"type"`
	MsgID       string `json:"msgId"`
	Message     string `json:"message"`
	Explanation string `json:"explanation"`
	Action      string `json:"action"`
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	sw := answered.New(w)
	rec := Request{Path: r.URL.Path, CSRFToken: r.Header.Get("ibm-mq-rest-csrf-token"), ContentType: r.Header.Get("Content-Type")}
	defer func() {
		rec.Status = sw.Status
		s.mu.Lock()
		s.requests = append(s.requests, rec)
		s.mu.Unlock()
	}()
	fail := func(status int, e apiError) {
		e.Type = "rest"
		writeJSON(sw, status, map[string]any{"error": []apiError{e}})
	}
	user, pass, ok := r.BasicAuth()
	rec.User = user
	if !ok || user != s.opts.Username || pass != s.opts.Password {
		sw.Header().Set("WWW-Authenticate", `Basic realm="mqwebRealm"`)
		fail(http.StatusUnauthorized, apiError{MsgID: "MQWB0112E", Message: "MQWB0112E: The user ID or password is not valid.",
			Explanation: "The REST API request could not be authenticated.", Action: "Supply a valid user ID and password."})
		return
	}
	if r.Method != http.MethodPost {
		fail(http.StatusMethodNotAllowed, apiError{MsgID: "MQWB0003E", Message: "MQWB0003E: The HTTP method " + r.Method + " is not supported for the resource.",
			Explanation: "Only POST is supported for this resource.", Action: "Use POST."})
		return
	}
	if _, ok := r.Header["Ibm-Mq-Rest-Csrf-Token"]; !ok {
		fail(http.StatusForbidden, apiError{MsgID: "MQWB0107E", Message: "MQWB0107E: The ibm-mq-rest-csrf-token HTTP header is missing.",
			Explanation: "Requests that change state must carry the ibm-mq-rest-csrf-token header to protect against cross-site request forgery.",
			Action:      "Add the ibm-mq-rest-csrf-token header, with any value, to the request."})
		return
	}
	qmgr, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, mqscPath), "/")
	if rest != "mqsc" {
		fail(http.StatusNotFound, apiError{MsgID: "MQWB0002E", Message: "MQWB0002E: The resource " + r.URL.Path + " was not found.", Action: "Check the URL."})
		return
	}
	if qmgr != s.opts.QueueManager {
		fail(http.StatusNotFound, apiError{MsgID: "MQWB0009E", Message: fmt.Sprintf("MQWB0009E: Could not query the queue manager '%s'.", qmgr),
			Explanation: "The queue manager does not exist, or is not running.", Action: "Check the queue manager's name."})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || json.Unmarshal(body, &rec.Command) != nil || rec.Command.Type != "runCommandJSON" {
		fail(http.StatusBadRequest, apiError{MsgID: "MQWB0100E", Message: "MQWB0100E: The request body is not valid JSON for an MQSC command.",
			Explanation: "The body must be a runCommand or runCommandJSON request.", Action: "Correct the body."})
		return
	}
	writeJSON(sw, http.StatusOK, s.run(rec.Command))
}

// run answers one command as the queue manager's command server would.
func (s *Server) run(c Command) map[string]any {
	qualifier := strings.ToLower(c.Qualifier)
	if strings.ToLower(c.Command) != "display" || (qualifier != "qlocal" && qualifier != "queue" && qualifier != "qstatus") {
		return map[string]any{"overallCompletionCode": 2, "overallReasonCode": 3008, "commandResponse": []map[string]any{{
			"completionCode": 2, "reasonCode": 3008, "message": []string{"AMQ8405E: Syntax error detected at or near end of command segment below:-"}}}}
	}
	s.mu.Lock()
	n, ok := s.depths[c.Name]
	s.mu.Unlock()
	if !ok {
		return map[string]any{"overallCompletionCode": 2, "overallReasonCode": 3008, "commandResponse": []map[string]any{{
			"completionCode": 2, "reasonCode": 2085, "message": []string{fmt.Sprintf("AMQ8147E: IBM MQ object %s not found.", c.Name)}}}}
	}
	return map[string]any{"overallCompletionCode": 0, "overallReasonCode": 0, "commandResponse": []map[string]any{{
		"completionCode": 0, "reasonCode": 0, "parameters": map[string]any{"queue": c.Name, "curdepth": n}}}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// certPEM is the PEM text of srv's certificate.
func certPEM(srv *httptest.Server) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
}
