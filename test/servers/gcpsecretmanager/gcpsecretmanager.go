// Package gcpsecretmanager is a fake of Google Secret Manager's accessSecretVersion, of Google's
// OAuth 2.0 token endpoint and of the GCE metadata server's token and project endpoints, for the
// gcpSecretManager TriggerAuthentication source's contract tests. On a free 127.0.0.1 port it
// answers, as Google documents them:
//
//	POST /token  grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion={JWT}
//	     (RS256, signed with the service account's key; iss its email, aud this token_uri, a
//	     scope, exp at most an hour after iat) -> {"access_token", "expires_in", "token_type"}
//	GET  /v1/projects/{project}/secrets/{id}/versions/{version}:access   Authorization: Bearer
//	     -> {"name": ".../versions/{n}", "payload": {"data": base64, "dataCrc32c": "decimal"}}
//	     Google's error JSON {"error": {"code", "message", "status"}}: 401 UNAUTHENTICATED,
//	     403 PERMISSION_DENIED (another project's secret), 404 NOT_FOUND
//	GET  /computeMetadata/v1/instance/service-accounts/default/token   Metadata-Flavor: Google
//	GET  /computeMetadata/v1/project/project-id                        Metadata-Flavor: Google
//
// version is a number or "latest". Service accounts are made by the fake (NewServiceAccount):
// their key file names this server as token_uri, as a real key names Google's.
package gcpsecretmanager

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2/jws"
)

// Request is an accessSecretVersion request the server answered.
type Request struct {
	Project, Secret, Version string
	// Account is the service account whose token authorized the request.
	Account string
	Status  int
}

// Server is a running fake.
type Server struct {
	// URL is the API's base address (as https://secretmanager.googleapis.com), TokenURI the token
	// endpoint, MetadataHost the metadata server's host:port (GCE_METADATA_HOST).
	URL, TokenURI, MetadataHost string

	srv *httptest.Server

	mu       sync.Mutex
	accounts map[string]*account // client email -> account
	tokens   map[string]string   // access token -> client email
	secrets  map[string][][]byte // projects/P/secrets/ID -> versions 1..n
	issued   []string
	requests []Request
	// metadataAccount is the account whose tokens the metadata server hands out.
	metadataAccount, metadataProject string
}

type account struct {
	key     *rsa.PrivateKey
	project string
}

// Start starts a server on 127.0.0.1; Close stops it.
func Start() *Server {
	s := &Server{accounts: map[string]*account{}, tokens: map[string]string{}, secrets: map[string][][]byte{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/token", s.token)
	mux.HandleFunc("/v1/projects/", s.access)
	mux.HandleFunc("/computeMetadata/v1/", s.metadata)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	s.TokenURI = s.srv.URL + "/token"
	s.MetadataHost = strings.TrimPrefix(s.srv.URL, "http://")
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// NewServiceAccount makes a service account of project, which may read that project's secrets,
// and returns its key file's JSON.
func (s *Server) NewServiceAccount(project, name string) string {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic(err)
	}
	email := fmt.Sprintf("%s@%s.iam.gserviceaccount.com", name, project)
	s.mu.Lock()
	s.accounts[email] = &account{key: key, project: project}
	s.mu.Unlock()
	id := make([]byte, 20)
	_, _ = rand.Read(id)
	file, _ := json.MarshalIndent(map[string]string{
		"type": "service_account", "project_id": project, "private_key_id": hex.EncodeToString(id),
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": email, "client_id": "1" + strings.Repeat("0", 20),
		"auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": s.TokenURI,
		"universe_domain": "googleapis.com",
	}, "", "  ")
	return string(file)
}

// SetMetadataIdentity makes the metadata server hand out tokens of a new account of project, as
// the node's or the workload identity's service account.
func (s *Server) SetMetadataIdentity(project, name string) {
	s.NewServiceAccount(project, name)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.metadataAccount = fmt.Sprintf("%s@%s.iam.gserviceaccount.com", name, project)
	s.metadataProject = project
}

// AddVersion adds a version to the secret and returns its number.
func (s *Server) AddVersion(project, secret, value string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := "projects/" + project + "/secrets/" + secret
	s.secrets[k] = append(s.secrets[k], []byte(value))
	return len(s.secrets[k])
}

// Issued returns the access tokens issued so far.
func (s *Server) Issued() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.issued)
}

// Requests returns the accessSecretVersion requests answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func writeError(w http.ResponseWriter, code int, status, message string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": message, "status": status}})
}

func writeOAuthError(w http.ResponseWriter, code int, errCode, description string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": errCode, "error_description": description})
}

func (s *Server) issue(w http.ResponseWriter, email string) {
	tok := make([]byte, 24)
	_, _ = rand.Read(tok)
	access := "ya29.fake-sm-" + hex.EncodeToString(tok)
	s.mu.Lock()
	s.tokens[access] = email
	s.issued = append(s.issued, access)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": access, "expires_in": 3599, "token_type": "Bearer"})
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Token requests are a POSTed form")
		return
	}
	if g := r.PostForm.Get("grant_type"); g != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "+g)
		return
	}
	assertion := r.PostForm.Get("assertion")
	claims, err := jws.Decode(assertion)
	if err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT: could not decode the assertion")
		return
	}
	s.mu.Lock()
	a := s.accounts[claims.Iss]
	s.mu.Unlock()
	if a == nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "Invalid grant: account not found")
		return
	}
	if err := jws.Verify(assertion, &a.key.PublicKey); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT Signature.")
		return
	}
	now := time.Now().Unix()
	if claims.Aud != s.TokenURI || claims.Exp < now || claims.Iat > now+300 || claims.Exp-claims.Iat > 3600 {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.")
		return
	}
	if !slices.Contains(strings.Fields(claims.Scope), "https://www.googleapis.com/auth/cloud-platform") {
		writeOAuthError(w, http.StatusBadRequest, "invalid_scope", "Invalid OAuth scope or ID token audience provided.")
		return
	}
	s.issue(w, claims.Iss)
}

func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Metadata-Flavor") != "Google" {
		http.Error(w, "Missing Metadata-Flavor:Google header.", http.StatusForbidden)
		return
	}
	s.mu.Lock()
	email, project := s.metadataAccount, s.metadataProject
	s.mu.Unlock()
	if email == "" {
		http.NotFound(w, r)
		return
	}
	switch r.URL.Path {
	case "/computeMetadata/v1/instance/service-accounts/default/token":
		s.issue(w, email)
	case "/computeMetadata/v1/project/project-id":
		w.Header().Set("Content-Type", "application/text")
		_, _ = w.Write([]byte(project))
	default:
		http.NotFound(w, r)
	}
}

var accessPath = regexp.MustCompile(`^/v1/projects/([^/]+)/secrets/([^/]+)/versions/([^/:]+):access$`)

func (s *Server) access(w http.ResponseWriter, r *http.Request) {
	m := accessPath.FindStringSubmatch(r.URL.Path)
	if r.Method != http.MethodGet || m == nil {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested URL "+r.URL.Path+" was not found on this server.")
		return
	}
	req := Request{Project: m[1], Secret: m[2], Version: m[3]}
	code := s.answer(w, r, &req)
	req.Status = code
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.mu.Unlock()
}

func (s *Server) answer(w http.ResponseWriter, r *http.Request, req *Request) int {
	auth := r.Header.Get("Authorization")
	s.mu.Lock()
	email, ok := s.tokens[strings.TrimPrefix(auth, "Bearer ")]
	a := s.accounts[email]
	versions := s.secrets["projects/"+req.Project+"/secrets/"+req.Secret]
	s.mu.Unlock()
	if !strings.HasPrefix(auth, "Bearer ") || !ok {
		writeError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.")
		return http.StatusUnauthorized
	}
	req.Account = email
	name := "projects/" + req.Project + "/secrets/" + req.Secret
	if a == nil || a.project != req.Project {
		writeError(w, http.StatusForbidden, "PERMISSION_DENIED", "Permission 'secretmanager.versions.access' denied for resource '"+name+"/versions/"+req.Version+"' (or it may not exist).")
		return http.StatusForbidden
	}
	n := len(versions)
	if req.Version != "latest" {
		v, err := strconv.Atoi(req.Version)
		if err != nil || v < 1 {
			writeError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid resource field value in the request.")
			return http.StatusBadRequest
		}
		if v > n {
			n = -1
		} else {
			n = v
		}
	}
	if n <= 0 {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "Secret ["+name+"] not found or has no versions.")
		return http.StatusNotFound
	}
	data := versions[n-1]
	sum := crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli))
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"name": fmt.Sprintf("%s/versions/%d", name, n),
		"payload": map[string]string{"data": base64.StdEncoding.EncodeToString(data), "dataCrc32c": strconv.FormatUint(uint64(sum), 10)}})
	return http.StatusOK
}
