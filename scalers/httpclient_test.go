package scalers

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
)

// testCert is a PEM certificate and key signed by ca (self-signed when ca is nil).
type testCert struct {
	certPEM, keyPEM string
	cert            *x509.Certificate
	key             *ecdsa.PrivateKey
}

func newTestCert(t *testing.T, cn string, ca *testCert, isCA bool) *testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		IsCA:        isCA, BasicConstraintsValid: true, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	parent, signer := tmpl, key
	if ca != nil {
		parent, signer = ca.cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return &testCert{
		certPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		keyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})),
		cert:    cert, key: key,
	}
}

func TestHTTPAuthValidate(t *testing.T) {
	c := newTestCert(t, "client", nil, false)
	other := newTestCert(t, "other", nil, false)
	tests := []struct {
		name    string
		p       meta.HTTPAuthParams
		wantErr []string
		check   func(t *testing.T, a *meta.HTTPAuth)
	}{
		{name: "no auth", check: func(t *testing.T, a *meta.HTTPAuth) {
			if len(a.Modes) != 0 || a.RootCAs != nil || a.ClientCert != nil {
				t.Errorf("auth = %+v", a)
			}
		}},
		{name: "authModes and authMode merge", p: meta.HTTPAuthParams{AuthModes: []string{"basic", "tls"}, AuthMode: []string{"basic"}, Username: "u", Cert: c.certPEM, Key: c.keyPEM},
			check: func(t *testing.T, a *meta.HTTPAuth) {
				if !reflect.DeepEqual(a.Modes, []string{"basic", "tls"}) || a.ClientCert == nil || a.Username != "u" {
					t.Errorf("modes %v cert %v user %q", a.Modes, a.ClientCert != nil, a.Username)
				}
			}},
		{name: "bearer from token", p: meta.HTTPAuthParams{AuthMode: []string{"bearer"}, Token: "tok"}, check: func(t *testing.T, a *meta.HTTPAuth) {
			if a.BearerToken != "tok" {
				t.Errorf("bearer token %q", a.BearerToken)
			}
		}},
		{name: "bearerToken wins over token", p: meta.HTTPAuthParams{AuthModes: []string{"bearer"}, Token: "tok", BearerToken: "btok"}, check: func(t *testing.T, a *meta.HTTPAuth) {
			if a.BearerToken != "btok" {
				t.Errorf("bearer token %q", a.BearerToken)
			}
		}},
		{name: "apiKey in the query", p: meta.HTTPAuthParams{AuthMode: []string{"apiKey"}, APIKey: "k", Method: "query", KeyParamName: "key"}, check: func(t *testing.T, a *meta.HTTPAuth) {
			if !a.APIKeyInQuery || a.KeyParamName != "key" || a.APIKey != "k" {
				t.Errorf("auth = %+v", a)
			}
		}},
		{name: "key inside the cert PEM", p: meta.HTTPAuthParams{AuthModes: []string{"tls"}, Cert: c.certPEM + c.keyPEM}, check: func(t *testing.T, a *meta.HTTPAuth) {
			if a.ClientCert == nil {
				t.Error("no client certificate")
			}
		}},
		{name: "ca without a mode", p: meta.HTTPAuthParams{CA: c.certPEM}, check: func(t *testing.T, a *meta.HTTPAuth) {
			if a.RootCAs == nil {
				t.Error("no root CAs")
			}
		}},
		{name: "oauth", p: meta.HTTPAuthParams{AuthModes: []string{"oauth"}, OAuthTokenURI: "https://auth/token", ClientID: "id", ClientSecret: "s",
			Scopes: []string{"a", "b"}, Scope: []string{"c"}, EndpointParams: "audience=api&x=1"}, check: func(t *testing.T, a *meta.HTTPAuth) {
			if a.Oauth == nil || !reflect.DeepEqual(a.Oauth.Scopes, []string{"a", "b", "c"}) || a.Oauth.EndpointParams.Get("audience") != "api" {
				t.Errorf("oauth = %+v", a.Oauth)
			}
		}},
		{name: "unknown mode", p: meta.HTTPAuthParams{AuthModes: []string{"digest"}}, wantErr: []string{"authModes", `"digest" is not an authentication mode`, "apiKey, basic, tls, bearer, custom, oauth"}},
		{name: "unknown mode in authMode", p: meta.HTTPAuthParams{AuthMode: []string{"basicAuth"}}, wantErr: []string{"authMode ", `"basicAuth"`}},
		{name: "basic and bearer", p: meta.HTTPAuthParams{AuthModes: []string{"basic", "bearer"}, Username: "u", BearerToken: "t"}, wantErr: []string{"lists bearer and basic", "keep one"}},
		{name: "bearer without token", p: meta.HTTPAuthParams{AuthModes: []string{"bearer"}}, wantErr: []string{"bearerToken", "is required for authModes bearer", "TriggerAuthentication"}},
		{name: "basic without username", p: meta.HTTPAuthParams{AuthModes: []string{"basic"}, Password: "pw-secret"}, wantErr: []string{"username", "is required for authModes basic"}},
		{name: "custom without value", p: meta.HTTPAuthParams{AuthModes: []string{"custom"}, CustomAuthHeader: "X-Auth"}, wantErr: []string{"customAuthValue", "is required"}},
		{name: "custom bad header", p: meta.HTTPAuthParams{AuthModes: []string{"custom"}, CustomAuthHeader: "X Auth", CustomAuthValue: "v"}, wantErr: []string{"customAuthHeader", "not an HTTP header name"}},
		{name: "apiKey without key", p: meta.HTTPAuthParams{AuthMode: []string{"apiKey"}}, wantErr: []string{"apiKey", "is required for authModes apiKey"}},
		{name: "tls without cert", p: meta.HTTPAuthParams{AuthModes: []string{"tls"}}, wantErr: []string{"cert", "is required for authModes tls"}},
		{name: "tls without key", p: meta.HTTPAuthParams{AuthModes: []string{"tls"}, Cert: c.certPEM}, wantErr: []string{"key", "is required for authModes tls"}},
		{name: "tls mismatched key", p: meta.HTTPAuthParams{AuthModes: []string{"tls"}, Cert: c.certPEM, Key: other.keyPEM}, wantErr: []string{"cert", "do not make a client certificate"}},
		{name: "bad ca", p: meta.HTTPAuthParams{CA: "not a pem"}, wantErr: []string{"ca", "holds no PEM certificate"}},
		{name: "oauth without client", p: meta.HTTPAuthParams{AuthModes: []string{"oauth"}, OAuthTokenURI: "https://auth/token"}, wantErr: []string{"clientID", "is required"}},
		{name: "oauth bad uri", p: meta.HTTPAuthParams{AuthModes: []string{"oauth"}, OAuthTokenURI: "auth/token", ClientID: "id"}, wantErr: []string{"oauthTokenURI", "not an http(s) URL"}},
		{name: "oauth bad endpointParams", p: meta.HTTPAuthParams{AuthModes: []string{"oauth"}, OAuthTokenURI: "https://a/t", ClientID: "id", EndpointParams: "a=%zz"}, wantErr: []string{"endpointParams", "URL-encoded"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := tt.p.Validate()
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("want an error mentioning %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				if strings.Contains(err.Error(), "pw-secret") || strings.Contains(err.Error(), "PRIVATE KEY") {
					t.Errorf("error %q shows a secret", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, a)
		})
	}
}

func TestParseTriggerTimeout(t *testing.T) {
	for raw, want := range map[string]time.Duration{"": 0, "1500": 1500 * time.Millisecond, "2s": 2 * time.Second, "250ms": 250 * time.Millisecond} {
		got, err := meta.ParseTriggerTimeout(raw)
		if err != nil || got != want {
			t.Errorf("parseTriggerTimeout(%q) = %s, %v; want %s", raw, got, err, want)
		}
	}
	for _, raw := range []string{"0", "-5", "soon", "-1s"} {
		if _, err := meta.ParseTriggerTimeout(raw); err == nil || !strings.Contains(err.Error(), "timeout") {
			t.Errorf("parseTriggerTimeout(%q): error %v, want one naming timeout", raw, err)
		}
	}
}

// Credentials of TestHTTPClientAuthModes; the server echoes what it received into its refusals,
// so a leak would show.
const (
	testPassword = "pw-Never-Shown-1"
	testToken    = "tok-Never-Shown-2"
	testAPIKey   = "key/Never+Shown=3"
	testCustom   = "custom-Never-Shown-4"
	testSecret   = "client-secret-Never-Shown-5"
)

// echoingServer accepts a request when ok says so and otherwise answers 401 with every header
// and the query it received.
func echoingServer(t *testing.T, ok func(r *http.Request) bool) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ok(r) {
			fmt.Fprint(w, "ok")
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, "refused %v query %s", r.Header, r.URL.RawQuery)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestHTTPClientAuthModes: each mode sends its credential where KEDA sends it; a wrong one is
// refused with an error naming the trigger and the mode, and no error shows the credential.
func TestHTTPClientAuthModes(t *testing.T) {
	tests := []struct {
		name  string
		p     meta.HTTPAuthParams
		wrong meta.HTTPAuthParams
		ok    func(r *http.Request) bool
	}{
		{name: "basic", p: meta.HTTPAuthParams{AuthModes: []string{"basic"}, Username: "keda", Password: testPassword},
			wrong: meta.HTTPAuthParams{AuthModes: []string{"basic"}, Username: "keda", Password: "x" + testPassword},
			ok: func(r *http.Request) bool {
				u, p, ok := r.BasicAuth()
				return ok && u == "keda" && p == testPassword
			}},
		{name: "bearer", p: meta.HTTPAuthParams{AuthModes: []string{"bearer"}, BearerToken: testToken},
			wrong: meta.HTTPAuthParams{AuthModes: []string{"bearer"}, BearerToken: "x" + testToken},
			ok:    func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer "+testToken }},
		{name: "custom", p: meta.HTTPAuthParams{AuthModes: []string{"custom"}, CustomAuthHeader: "X-Auth-Token", CustomAuthValue: testCustom},
			wrong: meta.HTTPAuthParams{AuthModes: []string{"custom"}, CustomAuthHeader: "X-Auth-Token", CustomAuthValue: "x" + testCustom},
			ok:    func(r *http.Request) bool { return r.Header.Get("X-Auth-Token") == testCustom }},
		{name: "apiKey header default name", p: meta.HTTPAuthParams{AuthMode: []string{"apiKey"}, APIKey: testAPIKey},
			wrong: meta.HTTPAuthParams{AuthMode: []string{"apiKey"}, APIKey: "x" + testAPIKey},
			ok:    func(r *http.Request) bool { return r.Header.Get("X-API-KEY") == testAPIKey }},
		{name: "apiKey header named", p: meta.HTTPAuthParams{AuthMode: []string{"apiKey"}, APIKey: testAPIKey, KeyParamName: "X-Key"},
			wrong: meta.HTTPAuthParams{AuthMode: []string{"apiKey"}, APIKey: "x" + testAPIKey, KeyParamName: "X-Key"},
			ok:    func(r *http.Request) bool { return r.Header.Get("X-Key") == testAPIKey }},
		{name: "apiKey query default name", p: meta.HTTPAuthParams{AuthMode: []string{"apiKey"}, APIKey: testAPIKey, Method: "query"},
			wrong: meta.HTTPAuthParams{AuthMode: []string{"apiKey"}, APIKey: "x" + testAPIKey, Method: "query"},
			ok: func(r *http.Request) bool {
				return r.URL.Query().Get("api_key") == testAPIKey && r.URL.Query().Get("keep") == "1"
			}},
		{name: "apiKey query named", p: meta.HTTPAuthParams{AuthMode: []string{"apiKey"}, APIKey: testAPIKey, Method: "query", KeyParamName: "k"},
			wrong: meta.HTTPAuthParams{AuthMode: []string{"apiKey"}, APIKey: "x" + testAPIKey, Method: "query", KeyParamName: "k"},
			ok:    func(r *http.Request) bool { return r.URL.Query().Get("k") == testAPIKey }},
	}
	secrets := []string{testPassword, testToken, testAPIKey, url.QueryEscape(testAPIKey), testCustom}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := echoingServer(t, tt.ok)
			u, _ := url.Parse(srv.URL + "/metrics?keep=1")
			get := func(p meta.HTTPAuthParams) ([]byte, error) {
				a, err := p.Validate()
				if err != nil {
					t.Fatal(err)
				}
				c := newHTTPClient(&Config{TriggerType: "metrics-api", TriggerIndex: 1}, &p, a, "url", u, time.Second, false)
				defer c.close()
				return c.get(t.Context(), u, nil)
			}
			if body, err := get(tt.p); err != nil || string(body) != "ok" {
				t.Fatalf("right credential: %q, %v", body, err)
			}
			_, err := get(tt.wrong)
			if err == nil {
				t.Fatal("wrong credential accepted")
			}
			t.Logf("error: %v", err)
			for _, w := range []string{"trigger 1 (metrics-api)", "401 Unauthorized", "refused the credentials of authModes", "(redacted)"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q shows the credential %q", err, s)
				}
			}
		})
	}
}

// TestHTTPClientTLS: a server's own CA is trusted through ca, unsafeSsl skips the check, and
// authModes tls presents the client certificate a server requires.
func TestHTTPClientTLS(t *testing.T) {
	ca := newTestCert(t, "test CA", nil, true)
	server := newTestCert(t, "127.0.0.1", ca, false)
	client := newTestCert(t, "client", ca, false)
	pair, err := tls.X509KeyPair([]byte(server.certPEM), []byte(server.keyPEM))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) == 0 {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		fmt.Fprint(w, "ok ", r.TLS.PeerCertificates[0].Subject.CommonName)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	get := func(p meta.HTTPAuthParams, unsafe bool) (string, error) {
		a, err := p.Validate()
		if err != nil {
			t.Fatal(err)
		}
		c := newHTTPClient(&Config{TriggerType: "prometheus"}, &p, a, "serverAddress", u, time.Second, unsafe)
		defer c.close()
		body, err := c.get(t.Context(), u, nil)
		return string(body), err
	}
	if _, err := get(meta.HTTPAuthParams{}, false); err == nil || !strings.Contains(err.Error(), "certificate is not trusted") || !strings.Contains(err.Error(), "parameter ca") {
		t.Errorf("unknown CA: %v, want a not-trusted error naming ca", err)
	}
	if _, err := get(meta.HTTPAuthParams{}, true); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("unsafeSsl without a client certificate: %v, want 403", err)
	}
	if body, err := get(meta.HTTPAuthParams{CA: ca.certPEM, AuthModes: []string{"tls"}, Cert: client.certPEM, Key: client.keyPEM}, false); err != nil || body != "ok client" {
		t.Errorf("ca and tls: %q, %v", body, err)
	}
}

// TestHTTPClientOAuth: authModes oauth fetches a client-credentials token once, sends it as a
// bearer token, and a refused token names the parameters without showing the secret.
func TestHTTPClientOAuth(t *testing.T) {
	var fetches atomic.Int32
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		id, secret, _ := r.BasicAuth()
		if err := r.ParseForm(); err != nil || id != "keda" || secret != testSecret || r.Form.Get("grant_type") != "client_credentials" ||
			r.Form.Get("scope") != "read write" || r.Form.Get("audience") != "api" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":"invalid_client","error_description":"got %s %s"}`, id, secret)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"issued-token","token_type":"bearer","expires_in":3600}`)
	}))
	defer tokenSrv.Close()
	api := echoingServer(t, func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer issued-token" })
	u, _ := url.Parse(api.URL)
	client := func(secret string) *httpClient {
		p := meta.HTTPAuthParams{AuthModes: []string{"oauth"}, OAuthTokenURI: tokenSrv.URL, ClientID: "keda", ClientSecret: secret,
			Scopes: []string{"read", "write"}, EndpointParams: "audience=api"}
		a, err := p.Validate()
		if err != nil {
			t.Fatal(err)
		}
		return newHTTPClient(&Config{TriggerType: "metrics-api"}, &p, a, "url", u, time.Second, false)
	}
	c := client(testSecret)
	for range 2 {
		if body, err := c.get(t.Context(), u, nil); err != nil || string(body) != "ok" {
			t.Fatalf("%q, %v", body, err)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("%d token fetches for two requests, want 1", n)
	}
	_, err := client("x"+testSecret).get(t.Context(), u, nil)
	if err == nil || !strings.Contains(err.Error(), "OAuth server refused a token (401)") || !strings.Contains(err.Error(), "clientSecret") {
		t.Errorf("wrong secret: %v, want a refused-token error", err)
	}
	if err != nil && strings.Contains(err.Error(), testSecret) {
		t.Errorf("error %q shows the client secret", err)
	}
}

// TestHTTPClientFailures: what cannot be reached, does not answer in time or answers too much
// fails within the timeout with what to check.
func TestHTTPClientFailures(t *testing.T) {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hang":
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		case "/big":
			chunk := strings.Repeat("x", 1<<20)
			for range 9 {
				fmt.Fprint(w, chunk)
			}
		case "/boom":
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, "database is down")
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	defer close(hang)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	// Only the hanging server is timed against a short timeout: the others get one no loaded
	// machine reaches (reading 9 MiB took over 300 ms on 2 busy cores).
	for _, tc := range []struct {
		url     string
		timeout time.Duration
		want    []string
	}{
		{srv.URL + "/hang", 300 * time.Millisecond, []string{"no answer within the trigger's timeout of 300ms", "metadata.serverAddress", "metadata.timeout"}},
		{srv.URL + "/big", time.Minute, []string{"larger than 8 MiB"}},
		{srv.URL + "/boom", time.Minute, []string{"500 Internal Server Error", "database is down"}},
		{srv.URL + "/nope", time.Minute, []string{"404 Not Found", "check the path in metadata.serverAddress"}},
		{closedURL, time.Minute, []string{"could not reach the server", "metadata.serverAddress", "refused"}},
	} {
		u, _ := url.Parse(tc.url)
		a, _ := (&meta.HTTPAuthParams{}).Validate()
		c := newHTTPClient(&Config{TriggerType: "prometheus", TriggerName: "queue"}, &meta.HTTPAuthParams{}, a, "serverAddress", u, tc.timeout, false)
		start := time.Now()
		_, err := c.get(t.Context(), u, nil)
		if took := time.Since(start); took > tc.timeout+30*time.Second {
			t.Errorf("%s: took %s with a %s timeout", tc.url, took, tc.timeout)
		}
		if err == nil {
			t.Errorf("%s: no error", tc.url)
			continue
		}
		for _, w := range append(tc.want, `trigger 0 (prometheus "queue")`, "GET "+tc.url) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tc.url, err, w)
			}
		}
	}
}
