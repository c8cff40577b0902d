// Package oauth2 is an OAuth 2.0 authorization server for tests: it issues bearer tokens with the
// client credentials grant (RFC 6749 section 4.4) on 127.0.0.1 and guards handlers with them, so
// that the oauth2 TriggerAuthentication can be tested end to end without an identity provider.
package oauth2

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options are what the server accepts.
type Options struct {
	ClientID, ClientSecret string
	// Scopes must all be requested (space-separated "scope" form value, as RFC 6749 has it).
	Scopes []string
	// EndpointParams are extra form values the token request must carry, e.g. audience.
	EndpointParams map[string]string
	// TokenLifetime is the tokens' expires_in; one hour when zero.
	TokenLifetime time.Duration
}

// Server is a running authorization server.
type Server struct {
	// TokenURL is the token endpoint.
	TokenURL string
	opts     Options
	srv      *httptest.Server

	mu      sync.Mutex
	tokens  map[string]time.Time // token -> expiry
	issued  int
	refused int
}

// Start starts the server on a free port of 127.0.0.1; it stops when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = time.Hour
	}
	s := &Server{opts: opts, tokens: map[string]time.Time{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", s.token)
	s.srv = httptest.NewServer(mux) // httptest listens on 127.0.0.1
	s.TokenURL = s.srv.URL + "/token"
	t.Cleanup(s.srv.Close)
	return s
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, http.StatusBadRequest, "invalid_request")
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		s.fail(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	// The client authenticates with HTTP Basic or, when the client library falls back to it,
	// with form values.
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != s.opts.ClientID || secret != s.opts.ClientSecret {
		s.fail(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	requested := strings.Fields(r.PostForm.Get("scope"))
	for _, want := range s.opts.Scopes {
		if !slices.Contains(requested, want) {
			s.fail(w, http.StatusBadRequest, "invalid_scope")
			return
		}
	}
	for k, v := range s.opts.EndpointParams {
		if r.PostForm.Get(k) != v {
			s.fail(w, http.StatusBadRequest, "invalid_request")
			return
		}
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := "tok-" + hex.EncodeToString(b)
	s.mu.Lock()
	s.tokens[tok] = time.Now().Add(s.opts.TokenLifetime)
	s.issued++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": int(s.opts.TokenLifetime / time.Second)})
}

func (s *Server) fail(w http.ResponseWriter, code int, reason string) {
	s.mu.Lock()
	s.refused++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": reason})
}

// Valid reports whether token was issued by this server and has not expired.
func (s *Server) Valid(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[token]
	return ok && time.Now().Before(exp)
}

// Issued is how many tokens were issued; Refused how many token requests were refused.
func (s *Server) Issued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

// Refused is how many token requests were refused.
func (s *Server) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// Tokens returns every token issued, for tests that check none leaks.
func (s *Server) Tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.tokens))
	for t := range s.tokens {
		out = append(out, t)
	}
	return out
}

// Require wraps h so that it answers 401 unless the request carries a valid token of this server
// as "Authorization: Bearer <token>".
func (s *Server) Require(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !s.Valid(tok) {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			http.Error(w, "a valid bearer token is required", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}
