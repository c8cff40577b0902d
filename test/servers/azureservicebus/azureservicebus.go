// Package azureservicebus is a contract fake of the part of Azure Service Bus's management REST
// API (the namespace's ATOM endpoint) that reads entities' runtime properties, for the
// azure-servicebus trigger's tests. Over TLS on a free 127.0.0.1 port, it answers as Microsoft's
// "Service Bus REST API" reference documents:
//
//	GET /{queue}?api-version=2021-05                              a QueueDescription entry
//	GET /{topic}?api-version=2021-05                              a TopicDescription entry
//	GET /{topic}/Subscriptions/{subscription}?api-version=...     a SubscriptionDescription entry
//	GET /$Resources/Queues?api-version=...&$skip=N&$top=M         a feed of queues (by name)
//	GET /$Resources/Topics?api-version=...&$skip=N&$top=M         a feed of topics
//	GET /{topic}/Subscriptions?api-version=...&$skip=N&$top=M     a feed of the topic's subscriptions
//
// with the service's conventions: an ATOM <entry> whose <content> holds the description with
// MessageCount and CountDetails (ActiveMessageCount, DeadLetterMessageCount,
// ScheduledMessageCount, TransferMessageCount, TransferDeadLetterMessageCount in the 2011/06
// namespace); an entity that does not exist answered 200 with the empty feed "Publicly Listed
// Services" (a subscription of a topic that does not exist, and the subscriptions of one, 404);
// $top at most 100 (100 by default); the Authorization header a shared access signature,
// "SharedAccessSignature sr=<URL-encoded resource>&sig=<URL-encoded base64 HMAC-SHA256 of
// sr\nse keyed by the policy's key>&se=<expiry, Unix seconds>&skn=<policy>", whose resource must
// be the requested one or a path above it on the same host, checked with the namespace's policy
// keys; reading takes a policy with Manage rights; errors as <Error><Code>…</Code><Detail>…
// TrackingId:…, SystemTracker:…, Timestamp:…</Detail></Error> (401 MissingToken, InvalidSignature,
// ExpiredToken, InvalidAudience or missing claims; 404; 400 for an api-version it does not serve).
package azureservicebus

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kedactl/kedactl/test/servers/internal/answered"
	"github.com/kedactl/kedactl/test/servers/internal/testca"
)

// TLSFiles are a CA and the server certificate it signed.
type TLSFiles = testca.Files

// NewCA makes a CA and a certificate for 127.0.0.1 it signed, for Options.TLS (its
// ServerConfig). The azure-servicebus trigger has no ca parameter: it verifies a namespace's
// certificate against the system's CAs, so a client trusts the fake by adding this CA to them
// (the operator with --ca-dir, a test binary with SSL_CERT_DIR), as with a private CA in front of
// a real namespace.
func NewCA() (*TLSFiles, error) {
	return testca.New("kedactl test servicebus CA")
}

// NewCADir is NewCA with its certificate written into a new temporary directory, for --ca-dir or
// SSL_CERT_DIR; the caller removes the directory.
func NewCADir() (*TLSFiles, string, error) {
	ca, err := NewCA()
	if err != nil {
		return nil, "", err
	}
	dir, err := os.MkdirTemp("", "kedactl-servicebus-ca-")
	if err != nil {
		return nil, "", fmt.Errorf("failed to make the CA's directory: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "servicebus-ca.pem"), ca.CAPEM, 0o600); err != nil {
		_ = os.RemoveAll(dir)
		return nil, "", fmt.Errorf("failed to write the CA: %w", err)
	}
	return ca, dir, nil
}

// Options configures a server.
type Options struct {
	// Namespace is the namespace's name, in the entries' author (kedactl-test when empty).
	Namespace string
	// Policies are the namespace's shared access policies.
	Policies []Policy
	// TLS is the server's TLS configuration (httptest's own certificate when nil), such as
	// NewCA's ServerConfig.
	TLS *tls.Config
}

// Policy is a shared access policy: a key name, its key and its rights (Manage, Send, Listen).
type Policy struct {
	Name, Key string
	Rights    []string
}

// Counts are an entity's message counts, as CountDetails reports them.
type Counts struct {
	Active, DeadLetter, Scheduled int64
}

// Request is a request the server answered.
type Request struct {
	Method, Path string
	Query        url.Values
	// KeyName is the token's skn, Audience its sr decoded; Detail the error's, if any.
	KeyName, Audience, Detail string
	Status                    int
}

// Server is a running fake.
type Server struct {
	// URL is https://127.0.0.1:port, Host 127.0.0.1:port.
	URL, Host string
	// Client trusts the server's certificate.
	Client *http.Client
	// CertPEM is the server's certificate.
	CertPEM string

	opts Options
	srv  *httptest.Server
	now  func() time.Time

	mu            sync.Mutex
	queues        map[string]Counts
	topics        map[string]map[string]Counts
	requests      []Request
	trackingCount int
}

const apiVersion = "2021-05"

// Start starts a server on a free port of 127.0.0.1; it stops when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Namespace == "" {
		opts.Namespace = "kedactl-test"
	}
	s := &Server{opts: opts, now: time.Now, queues: map[string]Counts{}, topics: map[string]map[string]Counts{}}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	if opts.TLS != nil {
		s.srv.TLS = opts.TLS
	}
	s.srv.StartTLS()
	s.URL = s.srv.URL
	s.Host = strings.TrimPrefix(s.URL, "https://")
	s.Client = s.srv.Client()
	s.CertPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw}))
	t.Cleanup(s.srv.Close)
	return s
}

// ConnectionString is the namespace's connection string for the policy, as the portal shows it,
// its Endpoint this server.
func (s *Server) ConnectionString(policy string) string {
	for _, p := range s.opts.Policies {
		if p.Name == policy {
			return "Endpoint=sb://" + s.Host + "/;SharedAccessKeyName=" + p.Name + ";SharedAccessKey=" + p.Key
		}
	}
	panic("azureservicebus: no policy " + policy)
}

// SetQueue creates the queue or sets its counts. Names are case-insensitive, as Service Bus's.
func (s *Server) SetQueue(name string, c Counts) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queues[strings.ToLower(name)] = c
}

// SetSubscription creates the topic and its subscription or sets the subscription's counts.
func (s *Server) SetSubscription(topic, subscription string, c Counts) {
	s.mu.Lock()
	defer s.mu.Unlock()
	subs, ok := s.topics[strings.ToLower(topic)]
	if !ok {
		subs = map[string]Counts{}
		s.topics[strings.ToLower(topic)] = subs
	}
	subs[strings.ToLower(subscription)] = c
}

// Requests returns the requests answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	sw := answered.New(w)
	rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query()}
	defer func() {
		rec.Status = sw.Status
		s.mu.Lock()
		s.requests = append(s.requests, rec)
		s.mu.Unlock()
	}()
	fail := func(code int, detail string) {
		rec.Detail = detail
		s.writeError(sw, r, code, detail)
	}
	if detail := s.authorize(r, &rec); detail != "" {
		fail(http.StatusUnauthorized, detail)
		return
	}
	if r.Method != http.MethodGet {
		fail(http.StatusMethodNotAllowed, "The requested HTTP verb "+r.Method+" is not allowed on this resource.")
		return
	}
	if v := r.URL.Query().Get("api-version"); v != apiVersion && v != "2017-04" {
		fail(http.StatusBadRequest, "The api-version in the query string is not supported. Either remove it or use one of 2017-04, 2021-05.")
		return
	}
	skip, top, ok := paging(r.URL.Query())
	if !ok {
		fail(http.StatusBadRequest, "The value of $skip or $top is not a valid non-negative integer.")
		return
	}
	segments := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	n := len(segments)
	switch {
	case n == 2 && strings.EqualFold(segments[0], "$Resources") && strings.EqualFold(segments[1], "Queues"):
		s.writeFeed(sw, r, "Queues", s.queueEntries(r), skip, top)
	case n == 2 && strings.EqualFold(segments[0], "$Resources") && strings.EqualFold(segments[1], "Topics"):
		s.writeFeed(sw, r, "Topics", s.topicEntries(r), skip, top)
	case n >= 2 && strings.EqualFold(segments[n-1], "Subscriptions"):
		topic := strings.Join(segments[:n-1], "/")
		entries, ok := s.subscriptionEntries(r, topic)
		if !ok {
			fail(http.StatusNotFound, fmt.Sprintf("Entity '%s:Topic:%s' was not found.", s.opts.Namespace, strings.ToLower(topic)))
			return
		}
		s.writeFeed(sw, r, "Subscriptions", entries, skip, top)
	case n >= 3 && strings.EqualFold(segments[n-2], "Subscriptions"):
		topic, sub := strings.Join(segments[:n-2], "/"), segments[n-1]
		s.mu.Lock()
		subs, topicOK := s.topics[strings.ToLower(topic)]
		c, subOK := subs[strings.ToLower(sub)]
		s.mu.Unlock()
		switch {
		case !topicOK:
			fail(http.StatusNotFound, fmt.Sprintf("Entity '%s:Topic:%s|%s' was not found.", s.opts.Namespace, strings.ToLower(topic), strings.ToLower(sub)))
		case !subOK:
			s.writeEmptyFeed(sw)
		default:
			writeATOM(sw, "entry", `<?xml version="1.0" encoding="utf-8"?>`+s.entry(r, r.URL.Path, sub, "SubscriptionDescription", c, ""))
		}
	default:
		name := strings.Join(segments, "/")
		s.mu.Lock()
		c, isQueue := s.queues[strings.ToLower(name)]
		subs, isTopic := s.topics[strings.ToLower(name)]
		s.mu.Unlock()
		switch {
		case isQueue:
			writeATOM(sw, "entry", `<?xml version="1.0" encoding="utf-8"?>`+s.entry(r, r.URL.Path, name, "QueueDescription", c, ""))
		case isTopic:
			writeATOM(sw, "entry", `<?xml version="1.0" encoding="utf-8"?>`+s.entry(r, r.URL.Path, name, "TopicDescription", Counts{}, "<SubscriptionCount>"+strconv.Itoa(len(subs))+"</SubscriptionCount>"))
		default:
			s.writeEmptyFeed(sw)
		}
	}
}

// paging reads $skip (0 by default) and $top (100 by default, at most 100).
func paging(q url.Values) (skip, top int, ok bool) {
	skip, top = 0, 100
	if v := q.Get("$skip"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, 0, false
		}
		skip = n
	}
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, 0, false
		}
		top = min(n, 100)
	}
	return skip, top, true
}

// authorize checks the shared access signature of r and returns the error's Detail, "" when
// the token grants the read.
func (s *Server) authorize(r *http.Request, rec *Request) string {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "MissingToken: The authorization header was not found."
	}
	token, ok := strings.CutPrefix(h, "SharedAccessSignature ")
	if !ok {
		return "InvalidSignature: The token has an invalid format: it is not a SharedAccessSignature."
	}
	fields := map[string]string{}
	for _, kv := range strings.Split(token, "&") {
		k, v, _ := strings.Cut(kv, "=")
		fields[k] = v
	}
	sr, sig, se, skn := fields["sr"], fields["sig"], fields["se"], fields["skn"]
	rec.KeyName = skn
	if sr == "" || sig == "" || se == "" || skn == "" {
		return "InvalidSignature: The token is missing sr, sig, se or skn."
	}
	var policy *Policy
	for i := range s.opts.Policies {
		if s.opts.Policies[i].Name == skn {
			policy = &s.opts.Policies[i]
		}
	}
	sigBytes, sigErr := url.QueryUnescape(sig)
	if policy == nil || sigErr != nil || !hmac.Equal([]byte(sigBytes), []byte(sign(policy.Key, sr, se))) {
		return "InvalidSignature: The token has an invalid signature."
	}
	expiry, err := strconv.ParseInt(se, 10, 64)
	if err != nil {
		return "InvalidSignature: The token's expiry is not a number."
	}
	if !s.now().Before(time.Unix(expiry, 0)) {
		return "ExpiredToken: The token is expired. Expiration time: '" + time.Unix(expiry, 0).UTC().Format("2006-01-02 15:04:05Z") + "'"
	}
	audience, err := url.QueryUnescape(sr)
	rec.Audience = audience
	if err != nil || !covers(audience, r.Host, r.URL.Path) {
		return "InvalidAudience: The token audience '" + audience + "' does not match the requested resource."
	}
	if !slices.Contains(policy.Rights, "Manage") {
		return "Manage,EntityRead claims required for this operation."
	}
	return ""
}

// covers reports whether a token's audience grants host/path: the same host, and the path or one
// above it, compared without regard to case, as entity names are.
func covers(audience, host, path string) bool {
	u, err := url.Parse(audience)
	if err != nil || !strings.EqualFold(u.Host, host) {
		return false
	}
	scope := strings.ToLower(strings.Trim(u.Path, "/"))
	want := strings.ToLower(strings.Trim(path, "/"))
	return scope == "" || want == scope || strings.HasPrefix(want, scope+"/")
}

// sign is Microsoft's documented signature: base64 HMAC-SHA256 of the URL-encoded resource as sent,
// a newline and the expiry, keyed by the key's text.
func sign(key, sr, se string) string {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(sr + "\n" + se))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
