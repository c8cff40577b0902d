// Package jolokia is a fake of the Jolokia agent that the web consoles of ActiveMQ (classic) and
// ActiveMQ Artemis embed, for contract tests of the activemq and artemis-queue triggers. On a free
// 127.0.0.1 port it answers Jolokia's read requests as Jolokia's protocol reference documents
//
//	GET  <agent>/read/<mbean>/<attribute>   one read; "!/" escapes a slash, "!!" a "!"
//	POST <agent>                            {"type":"read","mbean":...,"attribute":...}, or a
//	                                        JSON array of such requests (a bulk request)
//
// answering each read with Jolokia's envelope: {"request":{...},"value":...,"timestamp":...,
// "status":200}, or {"request":{...},"error_type":...,"error":...,"stacktrace":...,"status":N}
// with the HTTP status still 200 (Jolokia reports a read's failure in the envelope: 404 with
// javax.management.InstanceNotFoundException for an MBean the server does not have and
// javax.management.AttributeNotFoundException for an attribute the MBean lacks, 400 for a name that
// is no ObjectName, 403 when the request's Origin is not one the agent's CORS policy allows under
// strict checking). The console in front of the agent takes HTTP basic credentials and answers
// 401 with a WWW-Authenticate challenge without them.
//
// The MBeans are the brokers' documented queue MBeans: ActiveMQ's
// org.apache.activemq:type=Broker,brokerName=<b>,destinationType=Queue,destinationName=<q> with
// attribute QueueSize, under /api/jolokia; Artemis's org.apache.activemq.artemis:broker="<b>",
// component=addresses,address="<a>",subcomponent=queues,routing-type="anycast"|"multicast",
// queue="<q>" with attribute MessageCount, under /console/jolokia. Key properties match in any
// order, as JMX ObjectNames do.
package jolokia

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kedactl/kedactl/test/servers/internal/answered"
)

// Broker flavours: where the agent sits and how a queue's MBean is named.
const (
	ActiveMQ = "activemq"
	Artemis  = "artemis"
)

// Options configures a server.
type Options struct {
	// Broker is ActiveMQ or Artemis.
	Broker string
	// Username and Password are the console's credentials.
	Username, Password string
	// AllowedOrigins, when set, turns on the CORS policy's strict checking: a request whose
	// Origin header is not one of them is refused with status 403 in the envelope.
	AllowedOrigins []string
	// TLS, when set, serves https with this configuration (set ClientAuth to ask for a client
	// certificate).
	TLS *tls.Config
}

// Request is a request the server answered.
type Request struct {
	Method, Path, Origin string
	// Reads are the MBean reads the request made, mbean + "/" + attribute.
	Reads []string
	// Status is the HTTP status; ReadStatus the envelope's of the last read.
	Status, ReadStatus int
	User               string
}

// Server is a running fake.
type Server struct {
	// URL is the console's address (scheme://127.0.0.1:port); Endpoint is host:port, what
	// managementEndpoint names; Agent is the agent's base path.
	URL, Endpoint, Agent string

	opts Options
	srv  *httptest.Server

	mu       sync.Mutex
	values   map[string]int64 // canonical mbean + "/" + attribute -> value
	requests []Request
}

// Start starts a server on a free port of 127.0.0.1; it stops when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{opts: opts, values: map[string]int64{}, Agent: "/api/jolokia"}
	if opts.Broker == Artemis {
		s.Agent = "/console/jolokia"
	} else if opts.Broker != ActiveMQ {
		t.Fatalf("jolokia: Options.Broker %q is neither %q nor %q", opts.Broker, ActiveMQ, Artemis)
	}
	mux := http.NewServeMux()
	mux.HandleFunc(s.Agent+"/", s.serve)
	mux.HandleFunc(s.Agent, s.serve)
	s.srv = httptest.NewUnstartedServer(mux)
	if opts.TLS != nil {
		s.srv.TLS = opts.TLS
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	s.URL = s.srv.URL
	s.Endpoint = s.srv.Listener.Addr().String()
	t.Cleanup(s.srv.Close)
	return s
}

// ActiveMQQueue is the MBean of an ActiveMQ queue.
func ActiveMQQueue(broker, queue string) string {
	return "org.apache.activemq:type=Broker,brokerName=" + broker + ",destinationType=Queue,destinationName=" + queue
}

// ArtemisQueue is the MBean of an Artemis anycast queue on an address.
func ArtemisQueue(broker, address, queue string) string {
	return fmt.Sprintf(`org.apache.activemq.artemis:broker=%q,component=addresses,address=%q,subcomponent=queues,routing-type="anycast",queue=%q`, broker, address, queue)
}

// SetQueue makes the queue's MBean (ActiveMQQueue or ArtemisQueue) report n messages, in the
// attribute its broker names the count (QueueSize, MessageCount).
func (s *Server) SetQueue(mbean string, n int64) {
	attr := "QueueSize"
	if s.opts.Broker == Artemis {
		attr = "MessageCount"
	}
	name, ok := canonical(mbean)
	if !ok {
		panic("jolokia: SetQueue with an MBean that is no ObjectName: " + mbean)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.values[name+"/"+attr] = n
}

// SetAllowedOrigins replaces Options.AllowedOrigins (none: any origin).
func (s *Server) SetAllowedOrigins(origins ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.AllowedOrigins = origins
}

// Requests returns the requests answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// readRequest is one read of Jolokia's protocol.
type readRequest struct {
	Type      string `json:"type"`
	MBean     string `json:"mbean"`
	Attribute string `json:"attribute,omitempty"`
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	sw := answered.New(w)
	rec := Request{Method: r.Method, Path: r.URL.Path, Origin: r.Header.Get("Origin")}
	defer func() {
		rec.Status = sw.Status
		s.mu.Lock()
		s.requests = append(s.requests, rec)
		s.mu.Unlock()
	}()
	user, pass, ok := r.BasicAuth()
	rec.User = user
	if !ok || user != s.opts.Username || pass != s.opts.Password {
		sw.Header().Set("WWW-Authenticate", `Basic realm="`+s.opts.Broker+`"`)
		http.Error(sw, "Unauthorized", http.StatusUnauthorized)
		return
	}
	var reads []readRequest
	bulk := false
	switch r.Method {
	case http.MethodGet:
		parts := splitPath(strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, s.Agent), "/"))
		if len(parts) < 2 || parts[0] != "read" {
			s.write(sw, map[string]any{"error_type": "java.lang.IllegalArgumentException", "error": "java.lang.IllegalArgumentException : Invalid request type '" + strings.Join(parts, "/") + "'", "status": 400})
			return
		}
		rr := readRequest{Type: "read", MBean: parts[1]}
		if len(parts) > 2 {
			rr.Attribute = parts[2]
		}
		reads = []readRequest{rr}
	case http.MethodPost:
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err == nil && json.Unmarshal(body, &reads) == nil {
			bulk = true
		} else {
			var one readRequest
			if err != nil || json.Unmarshal(body, &one) != nil {
				s.write(sw, map[string]any{"error_type": "java.lang.IllegalArgumentException", "error": "java.lang.IllegalArgumentException : Invalid JSON request", "status": 400})
				return
			}
			reads = []readRequest{one}
		}
	default:
		http.Error(sw, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	answers := make([]map[string]any, 0, len(reads))
	for _, rr := range reads {
		a := s.read(rr, rec.Origin)
		rec.Reads = append(rec.Reads, rr.MBean+"/"+rr.Attribute)
		rec.ReadStatus = a["status"].(int)
		answers = append(answers, a)
	}
	if bulk {
		s.write(sw, answers)
		return
	}
	s.write(sw, answers[0])
}

// read answers one read request with Jolokia's envelope.
func (s *Server) read(rr readRequest, origin string) map[string]any {
	request := map[string]any{"type": rr.Type, "mbean": rr.MBean}
	if rr.Attribute != "" {
		request["attribute"] = rr.Attribute
	}
	fail := func(status int, errType, msg string) map[string]any {
		return map[string]any{"request": request, "status": status, "error_type": errType, "error": errType + " : " + msg,
			"stacktrace": errType + ": " + msg + "\n\tat org.jolokia.handler.ReadHandler.doHandleRequest(ReadHandler.java:88)\n"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.opts.AllowedOrigins) > 0 && !slices.Contains(s.opts.AllowedOrigins, origin) {
		return fail(403, "java.lang.Exception", "Origin "+origin+" is not allowed to call this agent")
	}
	if rr.Type != "read" {
		return fail(400, "java.lang.IllegalArgumentException", "Invalid request type '"+rr.Type+"'")
	}
	name, ok := canonical(rr.MBean)
	if !ok {
		return fail(400, "javax.management.MalformedObjectNameException", "Key properties cannot be empty")
	}
	known := false
	for key := range s.values {
		if strings.HasPrefix(key, name+"/") {
			known = true
		}
	}
	if !known {
		return fail(404, "javax.management.InstanceNotFoundException", rr.MBean)
	}
	v, ok := s.values[name+"/"+rr.Attribute]
	if !ok {
		return fail(404, "javax.management.AttributeNotFoundException", "No such attribute: "+rr.Attribute)
	}
	return map[string]any{"request": request, "value": v, "timestamp": time.Now().Unix(), "status": 200}
}

func (s *Server) write(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "text/plain;charset=utf-8") // as the agent's servlet answers by default
	_ = json.NewEncoder(w).Encode(v)
}

// splitPath splits a GET request's path at slashes, "!/" standing for a slash inside a part and
// "!!" for "!", as Jolokia's GET escaping has it.
func splitPath(p string) []string {
	var parts []string
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch {
		case p[i] == '!' && i+1 < len(p):
			i++
			b.WriteByte(p[i])
		case p[i] == '/':
			parts = append(parts, b.String())
			b.Reset()
		default:
			b.WriteByte(p[i])
		}
	}
	return append(parts, b.String())
}

// canonical is an ObjectName with its key properties sorted, so that names differing only in
// the properties' order are the same, as in JMX. ok is false for a string that is no ObjectName.
func canonical(name string) (string, bool) {
	domain, props, found := strings.Cut(name, ":")
	if !found || domain == "" || props == "" {
		return "", false
	}
	kvs := strings.Split(props, ",")
	for _, kv := range kvs {
		if k, v, ok := strings.Cut(kv, "="); !ok || k == "" || v == "" {
			return "", false
		}
	}
	sort.Strings(kvs)
	return domain + ":" + strings.Join(kvs, ","), true
}
