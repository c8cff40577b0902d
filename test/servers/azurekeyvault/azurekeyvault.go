// Package azurekeyvault is a fake of Azure Key Vault and of the Microsoft Entra token endpoint
// that authorises it, for the azureKeyVault TriggerAuthentication source's contract tests. It
// speaks the documented REST APIs:
//
//	POST /{tenant}/oauth2/v2.0/token  (form) grant_type=client_credentials, client_id,
//	     client_secret or client_assertion_type + client_assertion, scope=<resource>/.default
//	-> 200 {"token_type": "Bearer", "expires_in": 3599, "access_token": ...}
//	-> 400/401 {"error": "invalid_client" | "invalid_scope" | ..., "error_description": ...}
//
//	GET /secrets/{name}[/{version}]?api-version=7.4  Authorization: Bearer <token from above>
//	-> 200 {"value": ..., "id": "<vault>/secrets/{name}/{version}", "attributes": {"enabled": true}}
//	-> 401 with WWW-Authenticate: Bearer authorization="<authority>/<tenant>", resource="<resource>"
//	   for a missing or unknown token; 404 {"error": {"code": "SecretNotFound", ...}};
//	   400 {"error": {"code": "BadParameter", ...}} without api-version.
//
// Both are served by one server, so a test points cloud.activeDirectoryEndpoint and vaultUri at
// the same URL.
package azurekeyvault

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
)

// Options configures a server.
type Options struct {
	// TenantID, ClientID and ClientSecret are the service principal the token endpoint accepts.
	TenantID, ClientID, ClientSecret string
	// FederatedToken, when set, is a client assertion the token endpoint also accepts for ClientID
	// (azure-workload identity).
	FederatedToken string
	// Resource is the Key Vault resource tokens must be asked for (scope <Resource>/.default);
	// https://vault.azure.net when empty.
	Resource string
}

// TokenRequest is a token request the server answered.
type TokenRequest struct {
	Tenant, ClientID, Scope string
	Assertion               bool
	Status                  int
}

// SecretRequest is a secret request the server answered.
type SecretRequest struct {
	Name, Version string
	Status        int
}

// Server is a running fake.
type Server struct {
	// URL is http://127.0.0.1:port: the vault's URI and the authority host.
	URL string

	opts Options
	srv  *httptest.Server

	mu       sync.Mutex
	secrets  map[string][]secretVersion
	issued   []string
	tokens   []TokenRequest
	requests []SecretRequest
}

type secretVersion struct{ id, value string }

// Start starts a server on 127.0.0.1; Close stops it.
func Start(opts Options) *Server {
	if opts.Resource == "" {
		opts.Resource = "https://vault.azure.net"
	}
	s := &Server{opts: opts, secrets: map[string][]secretVersion{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// SetSecret stores a new version of the secret and returns its version id.
func (s *Server) SetSecret(name, value string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets[name] = append(s.secrets[name], secretVersion{id, value})
	return id
}

// Issued returns the access tokens issued so far.
func (s *Server) Issued() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.issued)
}

// TokenRequests returns the token requests answered so far.
func (s *Server) TokenRequests() []TokenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.tokens)
}

// SecretRequests returns the secret requests answered so far.
func (s *Server) SecretRequests() []SecretRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token"):
		rec := TokenRequest{Tenant: strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/oauth2/v2.0/token")}
		rec.Status = s.token(w, r, &rec)
		s.mu.Lock()
		s.tokens = append(s.tokens, rec)
		s.mu.Unlock()
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/secrets/"):
		name, version, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/secrets/"), "/")
		rec := SecretRequest{Name: name, Version: version}
		rec.Status = s.secret(w, r, name, version)
		s.mu.Lock()
		s.requests = append(s.requests, rec)
		s.mu.Unlock()
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) token(w http.ResponseWriter, r *http.Request, rec *TokenRequest) int {
	if err := r.ParseForm(); err != nil {
		return tokenFail(w, 400, "invalid_request", "AADSTS900144: the request body must be a form")
	}
	rec.ClientID, rec.Scope = r.PostForm.Get("client_id"), r.PostForm.Get("scope")
	rec.Assertion = r.PostForm.Get("client_assertion") != ""
	if r.PostForm.Get("grant_type") != "client_credentials" {
		return tokenFail(w, 400, "unsupported_grant_type", "AADSTS70003: the fake supports client_credentials only")
	}
	if rec.Tenant != s.opts.TenantID {
		return tokenFail(w, 400, "invalid_request", "AADSTS90002: Tenant '"+rec.Tenant+"' not found.")
	}
	if rec.ClientID != s.opts.ClientID {
		return tokenFail(w, 400, "unauthorized_client", "AADSTS700016: Application with identifier '"+rec.ClientID+"' was not found in the directory.")
	}
	switch {
	case rec.Assertion:
		if r.PostForm.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" ||
			s.opts.FederatedToken == "" || r.PostForm.Get("client_assertion") != s.opts.FederatedToken {
			return tokenFail(w, 401, "invalid_client", "AADSTS700213: No matching federated identity record found.")
		}
	case r.PostForm.Get("client_secret") != s.opts.ClientSecret:
		return tokenFail(w, 401, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
	}
	if rec.Scope != s.opts.Resource+"/.default" {
		return tokenFail(w, 400, "invalid_scope", "AADSTS1002012: The provided value for scope "+rec.Scope+" is not valid.")
	}
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	tok := "kv-token-" + hex.EncodeToString(b)
	s.mu.Lock()
	s.issued = append(s.issued, tok)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": tok})
	return http.StatusOK
}

func tokenFail(w http.ResponseWriter, status int, code, desc string) int {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
	return status
}

func (s *Server) secret(w http.ResponseWriter, r *http.Request, name, version string) int {
	if r.URL.Query().Get("api-version") == "" {
		return vaultFail(w, 400, "BadParameter", "The request URI contains an invalid or missing api-version.")
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	known := ok && slices.Contains(s.issued, tok)
	versions := slices.Clone(s.secrets[name])
	s.mu.Unlock()
	if !known {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization="%s/%s", resource="%s"`, s.URL, s.opts.TenantID, s.opts.Resource))
		return vaultFail(w, 401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.")
	}
	var found *secretVersion
	for i := range versions {
		if version == "" || versions[i].id == version {
			found = &versions[i]
		}
	}
	if found == nil {
		return vaultFail(w, 404, "SecretNotFound", fmt.Sprintf("A secret with (name/id) %s/%s was not found in this key vault.", name, version))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"value": found.value, "id": s.URL + "/secrets/" + name + "/" + found.id,
		"attributes": map[string]any{"enabled": true, "recoveryLevel": "Recoverable+Purgeable"}})
	return http.StatusOK
}

func vaultFail(w http.ResponseWriter, status int, code, message string) int {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": message}})
	return status
}
