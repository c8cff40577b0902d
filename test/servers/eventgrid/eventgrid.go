// Package eventgrid is a contract fake of an Azure Event Grid topic's publishing endpoint, the
// part a CloudEventSource's azureEventGridTopic destination uses, as Event Grid's documentation
// describes it: on a free 127.0.0.1 port it answers
//
//	POST /api/events?api-version=2018-01-01
//	Content-Type: application/cloudevents-batch+json; charset=utf-8  (a JSON array of CloudEvents)
//	         or   application/cloudevents+json; charset=utf-8        (one CloudEvent)
//	aeg-sas-key: <access key>   or   aeg-sas-token: <SAS token>
//
// with 200 and an empty body when the topic took the events; 401 and Event Grid's error body
// ({"error": {"code": "Unauthorized", ...}}) for a missing or wrong key; 400 for a missing
// api-version, a body that is not CloudEvents 1.0 (id, source, type and specversion 1.0 are
// required), or another content type; 413 for a body over 1 MB; 404 for any other path.
// It can also be made to answer 503 for a while, as a topic being throttled or unavailable does.
//
// No Azure code is used here, only the documented wire format.
package eventgrid

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/kedactl/kedactl/test/servers/internal/answered"
)

// maxBody is Event Grid's limit of one publish request.
const maxBody = 1 << 20

// Event is a CloudEvent the topic took, in its structured JSON form.
type Event struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject,omitempty"`
	Time            string          `json:"time,omitempty"`
	DataContentType string          `json:"datacontenttype,omitempty"`
	Data            json.RawMessage `json:"data,omitempty"`
}

// Request is a request the fake answered; credentials are not kept.
type Request struct {
	Method, Path, APIVersion, ContentType string
	// Auth is which header carried the credential (aeg-sas-key, aeg-sas-token) or "".
	Auth   string
	Status int
}

// Server is a running fake topic.
type Server struct {
	// URL is the topic endpoint, ending in /api/events (without api-version).
	URL string

	srv *httptest.Server

	mu          sync.Mutex
	key, token  string
	unavailable int // answer 503 to this many more publish requests
	events      []Event
	requests    []Request
}

// Start starts a topic that takes key as its access key (aeg-sas-key) and token as a SAS token
// (aeg-sas-token; empty refuses every token). It stops when the test ends; outside a test pass nil
// and call Close.
func Start(t testing.TB, key, token string) *Server {
	s := &Server{key: key, token: token}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/events", s.publish)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "Not Found", http.StatusNotFound) })
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL + "/api/events"
	if t != nil {
		t.Cleanup(s.srv.Close)
	}
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Unavailable makes the next n publish requests answer 503 Service Unavailable.
func (s *Server) Unavailable(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unavailable = n
}

// Events returns the events the topic took, in order.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

// Requests returns the requests answered, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) publish(w http.ResponseWriter, r *http.Request) {
	aw := answered.New(w)
	req := Request{Method: r.Method, Path: r.URL.Path, APIVersion: r.URL.Query().Get("api-version"), ContentType: r.Header.Get("Content-Type")}
	defer func() {
		req.Status = aw.Status
		s.mu.Lock()
		s.requests = append(s.requests, req)
		s.mu.Unlock()
	}()
	if r.Method != http.MethodPost {
		gridError(aw, http.StatusMethodNotAllowed, "MethodNotAllowed", "The requested HTTP method is not supported.")
		return
	}
	s.mu.Lock()
	key, token := s.key, s.token
	s.mu.Unlock()
	switch {
	case r.Header.Get("aeg-sas-key") != "":
		req.Auth = "aeg-sas-key"
		if r.Header.Get("aeg-sas-key") != key {
			gridError(aw, http.StatusUnauthorized, "Unauthorized", "The request authorization key is not authorized for this topic.")
			return
		}
	case r.Header.Get("aeg-sas-token") != "":
		req.Auth = "aeg-sas-token"
		if token == "" || r.Header.Get("aeg-sas-token") != token {
			gridError(aw, http.StatusUnauthorized, "Unauthorized", "The request authorization token is not valid.")
			return
		}
	default:
		gridError(aw, http.StatusUnauthorized, "Unauthorized", "The request authorization key is missing: set aeg-sas-key or aeg-sas-token.")
		return
	}
	if req.APIVersion == "" {
		gridError(aw, http.StatusBadRequest, "BadRequest", "The api-version query parameter is required.")
		return
	}
	s.mu.Lock()
	if s.unavailable > 0 {
		s.unavailable--
		s.mu.Unlock()
		gridError(aw, http.StatusServiceUnavailable, "ServiceUnavailable", "The topic is temporarily unavailable.")
		return
	}
	s.mu.Unlock()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		gridError(aw, http.StatusBadRequest, "BadRequest", "The request body could not be read.")
		return
	}
	if len(body) > maxBody {
		gridError(aw, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The maximum size (1048576) has been exceeded.")
		return
	}
	mt, _, _ := mime.ParseMediaType(req.ContentType)
	var events []Event
	switch mt {
	case "application/cloudevents-batch+json":
		err = json.Unmarshal(body, &events)
	case "application/cloudevents+json":
		var one Event
		err = json.Unmarshal(body, &one)
		events = []Event{one}
	default:
		gridError(aw, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Content-Type %q is not a CloudEvents schema content type.", req.ContentType))
		return
	}
	if err != nil {
		gridError(aw, http.StatusBadRequest, "BadRequest", "The request body is not valid JSON of CloudEvents.")
		return
	}
	for i, e := range events {
		if e.SpecVersion != "1.0" || e.ID == "" || e.Source == "" || e.Type == "" {
			gridError(aw, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Event %d: specversion 1.0, id, source and type are required.", i))
			return
		}
	}
	s.mu.Lock()
	s.events = append(s.events, events...)
	s.mu.Unlock()
	aw.WriteHeader(http.StatusOK)
}

// gridError answers as Event Grid does: {"error": {"code": ..., "message": ...}}.
func gridError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": message}})
}
