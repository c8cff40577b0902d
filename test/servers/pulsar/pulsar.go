// Package pulsar is a fake of the part of Apache Pulsar's admin REST API that the pulsar trigger
// reads, for contract tests: on a free 127.0.0.1 port it answers as Pulsar's REST API reference
// documents
//
//	GET /admin/v2/persistent/{tenant}/{namespace}/{topic}/stats              TopicStats
//	GET /admin/v2/persistent/{tenant}/{namespace}/{topic}/partitioned-stats  PartitionedTopicStats
//
// with Pulsar's conventions: stats with per-subscription msgBacklog (a partitioned topic's
// subscriptions summed over its partitions, with metadata.partitions and, unless
// perPartition=false, each partition's own stats); {"reason": ...} bodies for a topic that does
// not exist (404) and for partitioned-stats of a topic that is not partitioned; a broker that
// does not own the topic answering 307 with the owner's address (Options.Redirect: here the
// owner is the same server); and the broker's authentication providers: token (Authorization:
// Bearer, a token of Options.Tokens or one an OAuth 2.0 server issued, as Pulsar takes OAuth
// access tokens), basic (Options.Username) and tls (a client certificate of the server's own CA, with Options.TLS),
// the X-Pulsar-Auth-Method-Name header picking one, and 401 from the servlet container
// otherwise.
package pulsar

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/kedactl/kedactl/test/servers/internal/answered"
	"github.com/kedactl/kedactl/test/servers/internal/testca"
)

// Options configures a server. With no credential set, every request passes.
type Options struct {
	// Tokens are the tokens the token provider takes.
	Tokens []string
	// ValidToken, when set, also decides a token (an OAuth 2.0 server's Valid).
	ValidToken func(token string) bool
	// Username and Password, when set, are the basic provider's user.
	Username, Password string
	// TLS serves https with a certificate of a CA made for the server (CAPEM); a client
	// certificate of that CA (ClientCertPEM, ClientKeyPEM) authenticates (the tls provider).
	TLS bool
	// Redirect answers each first request with 307 to the topic's owner (this server).
	Redirect bool
}

// Request is a request the server answered.
type Request struct {
	Method, Path string
	Query        url.Values
	AuthMethod   string // X-Pulsar-Auth-Method-Name
	// Provider is the provider that took the request ("" when none was needed or none took it).
	Provider string
	Status   int
}

// Server is a running fake.
type Server struct {
	// URL is the broker's admin address, what adminURL names.
	URL string
	// CAPEM, ClientCertPEM and ClientKeyPEM are set with Options.TLS.
	CAPEM, ClientCertPEM, ClientKeyPEM string

	opts Options
	srv  *httptest.Server

	mu       sync.Mutex
	topics   map[string]*topic // tenant/namespace/topic -> topic
	requests []Request
}

type topic struct {
	partitions int
	backlog    []map[string]int64 // per partition (one for a topic that is not partitioned): subscription -> backlog
}

// Start starts a server on a free port of 127.0.0.1; it stops when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{opts: opts, topics: map[string]*topic{}}
	s.srv = httptest.NewUnstartedServer(s.record(http.HandlerFunc(s.serve))) // httptest listens on 127.0.0.1
	if opts.TLS {
		ca, err := testca.New("pulsar fake CA")
		if err != nil {
			t.Fatal(err)
		}
		s.CAPEM, s.ClientCertPEM, s.ClientKeyPEM = string(ca.CAPEM), string(ca.CertPEM), string(ca.KeyPEM)
		cfg := ca.ServerConfig()
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
		s.srv.TLS = cfg
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// CreateTopic makes a persistent topic (tenant/namespace/topic) with partitions partitions (0:
// not partitioned) and subscriptions with no backlog.
func (s *Server) CreateTopic(name string, partitions int, subscriptions ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &topic{partitions: partitions}
	for range max(partitions, 1) {
		b := map[string]int64{}
		for _, sub := range subscriptions {
			b[sub] = 0
		}
		t.backlog = append(t.backlog, b)
	}
	s.topics[name] = t
}

// SetBacklog sets a subscription's backlog, spread over the topic's partitions.
func (s *Server) SetBacklog(name, subscription string, n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.topics[name]
	k := int64(len(t.backlog))
	for i, b := range t.backlog {
		b[subscription] = n / k
		if int64(i) < n%k {
			b[subscription]++
		}
	}
}

// Requests returns the requests answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := answered.New(w)
		provider := s.authenticate(r)
		r.Header.Set("X-Fake-Provider", provider)
		next.ServeHTTP(sw, r)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(),
			AuthMethod: r.Header.Get("X-Pulsar-Auth-Method-Name"), Provider: provider, Status: sw.Status})
	})
}

// authRequired tells whether any provider is configured.
func (s *Server) authRequired() bool {
	return len(s.opts.Tokens) > 0 || s.opts.ValidToken != nil || s.opts.Username != "" || s.opts.TLS
}

// authenticate returns the provider that takes r, or "". X-Pulsar-Auth-Method-Name picks one;
// without it each is tried, as Pulsar's authentication filter does.
func (s *Server) authenticate(r *http.Request) string {
	method := r.Header.Get("X-Pulsar-Auth-Method-Name")
	for _, p := range []struct {
		name string
		ok   func() bool
	}{
		{"token", func() bool {
			tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || tok == "" {
				return false
			}
			for _, t := range s.opts.Tokens {
				if t == tok {
					return true
				}
			}
			return s.opts.ValidToken != nil && s.opts.ValidToken(tok)
		}},
		{"basic", func() bool {
			u, pw, ok := r.BasicAuth()
			return ok && s.opts.Username != "" && u == s.opts.Username && pw == s.opts.Password
		}},
		{"tls", func() bool { return s.opts.TLS && r.TLS != nil && len(r.TLS.PeerCertificates) > 0 }},
	} {
		if (method == "" || method == p.name) && p.ok() {
			return p.name
		}
	}
	return ""
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if s.authRequired() && r.Header.Get("X-Fake-Provider") == "" {
		containerError(w, r, http.StatusUnauthorized, "Authentication required")
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/admin/v2/persistent/")
	parts := strings.Split(rest, "/")
	if !ok || len(parts) != 4 || (parts[3] != "stats" && parts[3] != "partitioned-stats") {
		containerError(w, r, http.StatusNotFound, "Not Found")
		return
	}
	if r.Method != http.MethodGet {
		containerError(w, r, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	if s.opts.Redirect && r.URL.Query().Get("authoritative") == "" {
		// The owner broker's address: Pulsar sends the same path there.
		to := *r.URL
		q := to.Query()
		q.Set("authoritative", "false")
		to.RawQuery = q.Encode()
		to.Scheme, to.Host = "http", r.Host
		if r.TLS != nil {
			to.Scheme = "https"
		}
		http.Redirect(w, r, to.String(), http.StatusTemporaryRedirect)
		return
	}
	name := strings.Join(parts[:3], "/")
	full := "persistent://" + name
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.topics[name]
	switch {
	case parts[3] == "stats" && (t == nil || t.partitions > 0):
		// A partitioned topic's own name has no stats: its partitions do.
		reason(w, http.StatusNotFound, "Topic not found")
	case parts[3] == "partitioned-stats" && t == nil:
		reason(w, http.StatusNotFound, "Partitioned Topic not found: "+full+" has zero partitions")
	case parts[3] == "partitioned-stats" && t.partitions == 0:
		reason(w, http.StatusNotFound, "Partitioned Topic not found: "+full+" has zero partitions")
	case parts[3] == "stats":
		writeJSON(w, topicStats(t.backlog[0]))
	default:
		total := map[string]int64{}
		perPartition := map[string]any{}
		for i, b := range t.backlog {
			for sub, n := range b {
				total[sub] += n
			}
			perPartition[fmt.Sprintf("%s-partition-%d", full, i)] = topicStats(b)
		}
		stats := topicStats(total)
		stats["metadata"] = map[string]any{"partitions": t.partitions, "deleted": false}
		if r.URL.Query().Get("perPartition") != "false" {
			stats["partitions"] = perPartition
		} else {
			stats["partitions"] = map[string]any{}
		}
		writeJSON(w, stats)
	}
}

// topicStats is TopicStats with the given backlogs, the other counters at rest.
func topicStats(backlog map[string]int64) map[string]any {
	subs := map[string]any{}
	names := make([]string, 0, len(backlog))
	for n := range backlog {
		names = append(names, n)
	}
	sort.Strings(names)
	var total int64
	for _, n := range names {
		total += backlog[n]
		subs[n] = map[string]any{"msgRateOut": 0.0, "msgThroughputOut": 0.0, "bytesOutCounter": 0, "msgOutCounter": 0, "msgRateRedeliver": 0.0,
			"msgBacklog": backlog[n], "msgBacklogNoDelayed": backlog[n], "blockedSubscriptionOnUnackedMsgs": false, "msgDelayed": 0,
			"unackedMessages": 0, "type": "Shared", "msgRateExpired": 0.0, "consumers": []any{}, "isDurable": true, "isReplicated": false,
			"consumersAfterMarkDeletePosition": map[string]any{}}
	}
	return map[string]any{"msgRateIn": 0.0, "msgThroughputIn": 0.0, "msgRateOut": 0.0, "msgThroughputOut": 0.0, "bytesInCounter": 0,
		"msgInCounter": 0, "averageMsgSize": 0.0, "msgChunkPublished": false, "storageSize": 0, "backlogSize": total * 100,
		"publishers": []any{}, "subscriptions": subs, "replication": map[string]any{}, "deduplicationStatus": "Disabled"}
}

// reason writes the admin API's error body.
func reason(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"reason": msg})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// containerError is the servlet container's error page, which the authentication filter's
// refusals and unknown paths get.
func containerError(w http.ResponseWriter, r *http.Request, code int, msg string) {
	w.Header().Set("Content-Type", "text/html;charset=iso-8859-1")
	w.WriteHeader(code)
	m := html.EscapeString(msg)
	fmt.Fprintf(w, "<html>\n<head>\n<title>Error %d %s</title>\n</head>\n<body><h2>HTTP ERROR %d</h2>\n<p>Problem accessing %s. Reason:\n<pre>    %s</pre></p>\n</body>\n</html>\n",
		code, m, code, html.EscapeString(r.URL.Path), m)
}
