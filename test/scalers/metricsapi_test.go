package scalers_test

import (
	"context"
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
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
)

// Credentials of the metrics API; no error may show them.
const (
	apiTestPassword = "Api-pa55-never-in-errors-3b8f"
	apiTestToken    = "api-bearer-never-in-errors-0a4c"
	apiTestKey      = "api-key/never+in=errors-6e1d"
	apiTestCustom   = "api-custom-never-in-errors-2f9a"
	apiTestSecret   = "api-client-secret-never-in-errors-8c3b"
)

// metricsAPI is the event source of the metrics-api tests: an HTTP server on 127.0.0.1 serving
// one value the test sets as JSON, YAML, XML and Prometheus text, openly and behind each auth
// mode, plus an HTTPS twin that requires a client certificate and an OAuth token endpoint.
type metricsAPI struct {
	url, tlsURL string
	ca, client  *pkiCert

	mu    sync.Mutex
	value string
}

func (a *metricsAPI) set(v string) {
	a.mu.Lock()
	a.value = v
	a.mu.Unlock()
}

func (a *metricsAPI) body(format string) (string, string) {
	a.mu.Lock()
	v := a.value
	a.mu.Unlock()
	switch format {
	case "json":
		return "application/json", fmt.Sprintf(`{"queue":{"name":"jobs","stats":[{"waiting":%s}]}}`, v)
	case "yaml":
		return "application/yaml", fmt.Sprintf("queue:\n  name: jobs\n  stats:\n    - waiting: %s\n", v)
	case "xml":
		return "application/xml", fmt.Sprintf(`<?xml version="1.0"?><queue><name>jobs</name><stats><waiting>%s</waiting></stats></queue>`, v)
	default:
		return "text/plain; version=0.0.4", fmt.Sprintf("# HELP queue_waiting Jobs waiting.\n# TYPE queue_waiting gauge\nqueue_waiting{queue=\"other\"} 99\nqueue_waiting{queue=\"jobs\"} %s\n", v)
	}
}

// valueLocations say where each format's body holds the value.
var valueLocations = map[string]string{"json": "queue.stats.0.waiting", "yaml": "queue.stats.0.waiting", "xml": "queue.stats.waiting", "prometheus": `queue_waiting{queue="jobs"}`}

func startMetricsAPI(t *testing.T) *metricsAPI {
	a := &metricsAPI{value: "0"}
	var tokens sync.Map // issued OAuth tokens
	authorized := map[string]func(r *http.Request) bool{
		"open": func(*http.Request) bool { return true },
		"basic": func(r *http.Request) bool {
			u, p, ok := r.BasicAuth()
			return ok && u == "keda" && p == apiTestPassword
		},
		"bearer":       func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer "+apiTestToken },
		"apikey":       func(r *http.Request) bool { return r.Header.Get("X-API-KEY") == apiTestKey },
		"apikey-query": func(r *http.Request) bool { return r.URL.Query().Get("QUERY_KEY") == apiTestKey },
		"custom":       func(r *http.Request) bool { return r.Header.Get("X-Auth-Token") == apiTestCustom },
		"oauth": func(r *http.Request) bool {
			_, ok := tokens.Load(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
			return ok
		},
		"tls": func(r *http.Request) bool {
			return r.TLS != nil && len(r.TLS.PeerCertificates) > 0 && r.TLS.PeerCertificates[0].Subject.CommonName == "keda-client"
		},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{auth}/{format}", func(w http.ResponseWriter, r *http.Request) {
		ok, known := authorized[r.PathValue("auth")]
		if !known {
			http.NotFound(w, r)
			return
		}
		if !ok(r) {
			// Echo what arrived, as careless servers do: the scaler must still show none of it.
			http.Error(w, fmt.Sprintf("refused %v %s", r.Header, r.URL.RawQuery), http.StatusUnauthorized)
			return
		}
		contentType, body := a.body(r.PathValue("format"))
		w.Header().Set("Content-Type", contentType)
		fmt.Fprint(w, body)
	})
	mux.HandleFunc("POST /oauth/token", func(w http.ResponseWriter, r *http.Request) {
		id, secret, _ := r.BasicAuth()
		if err := r.ParseForm(); err != nil || id != "keda" || secret != apiTestSecret || r.Form.Get("scope") != "metrics.read" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":"invalid_client","error_description":"bad secret %s"}`, secret)
			return
		}
		token := fmt.Sprintf("issued-%d", time.Now().UnixNano())
		tokens.Store(token, true)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q,"token_type":"bearer","expires_in":3600}`, token)
	})
	mux.HandleFunc("GET /slow/{format}", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})

	plain := httptest.NewServer(mux)
	t.Cleanup(plain.Close)
	a.url = plain.URL

	a.ca = newPKICert(t, "metrics API CA", nil)
	server := newPKICert(t, "127.0.0.1", a.ca)
	a.client = newPKICert(t, "keda-client", a.ca)
	pair, err := tls.X509KeyPair([]byte(server.certPEM), []byte(server.keyPEM))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(a.ca.cert)
	secure := httptest.NewUnstartedServer(mux)
	secure.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are part of the test
	secure.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool, MinVersion: tls.VersionTLS12}
	secure.StartTLS()
	t.Cleanup(secure.Close)
	a.tlsURL = secure.URL
	return a
}

// pkiCert is a PEM certificate and key, signed by a CA or self-signed.
type pkiCert struct {
	certPEM, keyPEM string
	cert            *x509.Certificate
	key             *ecdsa.PrivateKey
}

func newPKICert(t *testing.T, cn string, ca *pkiCert) *pkiCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IsCA:        ca == nil, BasicConstraintsValid: true, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
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
	keyDER, _ := x509.MarshalECPrivateKey(key)
	return &pkiCert{
		certPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		keyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})),
		cert:    cert, key: key,
	}
}

// TestMetricsAPIScalerAgainstRealServer runs the metrics-api scaler against an HTTP server on
// loopback: each format, each authentication mode with the right and a wrong credential, TLS with
// the server's CA and a client certificate, and failures bounded by the trigger's timeout; no
// error shows a credential.
func TestMetricsAPIScalerAgainstRealServer(t *testing.T) {
	ctx := context.Background()
	api := startMetricsAPI(t)

	build := func(t *testing.T, meta, auth map[string]string) scalers.Scaler {
		t.Helper()
		s, err := scalers.New(ctx, &scalers.Config{TriggerType: "metrics-api", TriggerMetadata: meta, AuthParams: auth, Timeout: pollTimeout})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(ctx) })
		return s
	}
	trigger := func(url, format string, extra ...string) map[string]string {
		m := map[string]string{"url": url, "format": format, "valueLocation": valueLocations[format], "targetValue": "2"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	read := func(s scalers.Scaler, metric string) (int64, bool, error) {
		vals, active, err := s.GetMetricsAndActivity(ctx, metric)
		if err != nil {
			return 0, false, err
		}
		return vals[0].Value.MilliValue(), active, nil
	}
	secrets := []string{apiTestPassword, apiTestToken, apiTestKey, strings.ReplaceAll(apiTestKey, "/", "%2F"), apiTestCustom, apiTestSecret}
	failing := func(t *testing.T, s scalers.Scaler, wants ...string) {
		t.Helper()
		start := time.Now()
		_, _, err := read(s, "m")
		took := time.Since(start)
		if err == nil {
			t.Fatal("want an error")
		}
		t.Logf("error after %s: %v", took.Round(time.Millisecond), err)
		if took > pollTimeout+time.Second {
			t.Errorf("failed after %s, the trigger's timeout is %s", took, pollTimeout)
		}
		for _, w := range append([]string{"trigger 0 (metrics-api)"}, wants...) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not mention %q", err, w)
			}
		}
		for _, secret := range secrets {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q shows a credential", err)
			}
		}
	}

	t.Run("formats, value and activation", func(t *testing.T) {
		for _, format := range []string{"json", "yaml", "xml", "prometheus"} {
			t.Run(format, func(t *testing.T) {
				s := build(t, trigger(api.url+"/open/"+format, format, "activationTargetValue", "2.5"), nil)
				metric := map[string]string{"json": "s0-metric-api-queue-stats-0-waiting", "yaml": "s0-metric-api-queue-stats-0-waiting",
					"xml": "s0-metric-api-queue-stats-waiting", "prometheus": "s0-metric-api-queue_waiting-queue=-jobs--"}[format]
				if specs := s.GetMetricSpecForScaling(ctx); specs[0].External.Metric.Name != metric {
					t.Errorf("metric name %s, want %s", specs[0].External.Metric.Name, metric)
				}
				for _, step := range []struct {
					value  string
					milli  int64
					active bool
				}{{"0", 0, false}, {"2.5", 2500, false}, {"3", 3000, true}, {"12", 12000, true}} {
					if format != "prometheus" && step.value == "12" {
						step.value = `"12"` // a quantity in a string, as KEDA reads it
						if format == "xml" {
							step.value = "12"
						}
					}
					api.set(step.value)
					v, active, err := read(s, metric)
					if err != nil {
						t.Fatal(err)
					}
					if v != step.milli || active != step.active {
						t.Errorf("value %s: %dm active=%v, want %dm %v", step.value, v, active, step.milli, step.active)
					}
				}
			})
		}
	})

	api.set("4")
	for _, mode := range []struct {
		name, path string
		meta       []string
		right      map[string]string
		wrong      map[string]string
	}{
		{name: "basic", path: "basic", meta: []string{"authMode", "basic"},
			right: map[string]string{"username": "keda", "password": apiTestPassword}, wrong: map[string]string{"username": "keda", "password": "wrong-" + apiTestPassword}},
		{name: "bearer", path: "bearer", meta: []string{"authMode", "bearer"},
			right: map[string]string{"token": apiTestToken}, wrong: map[string]string{"token": "wrong-" + apiTestToken}},
		{name: "apiKey header", path: "apikey", meta: []string{"authMode", "apiKey"},
			right: map[string]string{"apiKey": apiTestKey}, wrong: map[string]string{"apiKey": "wrong-" + apiTestKey}},
		{name: "apiKey query", path: "apikey-query", meta: []string{"authMode", "apiKey", "method", "query", "keyParamName", "QUERY_KEY"},
			right: map[string]string{"apiKey": apiTestKey}, wrong: map[string]string{"apiKey": "wrong-" + apiTestKey}},
		{name: "custom header", path: "custom", meta: []string{"authMode", "custom"},
			right: map[string]string{"customAuthHeader": "X-Auth-Token", "customAuthValue": apiTestCustom},
			wrong: map[string]string{"customAuthHeader": "X-Auth-Token", "customAuthValue": "wrong-" + apiTestCustom}},
		{name: "oauth client credentials", path: "oauth", meta: []string{"authMode", "oauth"},
			right: map[string]string{"oauthTokenURI": api.url + "/oauth/token", "clientID": "keda", "clientSecret": apiTestSecret, "scope": "metrics.read"},
			wrong: map[string]string{"oauthTokenURI": api.url + "/oauth/token", "clientID": "keda", "clientSecret": "wrong-" + apiTestSecret, "scope": "metrics.read"}},
	} {
		t.Run("auth "+mode.name, func(t *testing.T) {
			v, _, err := read(build(t, trigger(api.url+"/"+mode.path+"/json", "json", mode.meta...), mode.right), "m")
			if err != nil || v != 4000 {
				t.Fatalf("right credential: %dm, %v", v, err)
			}
			want := "refused the credentials of authModes " + mode.meta[1]
			if mode.path == "oauth" {
				want = "the OAuth server refused a token (401)"
			}
			failing(t, build(t, trigger(api.url+"/"+mode.path+"/json", "json", mode.meta...), mode.wrong), want)
		})
	}

	t.Run("auth tls", func(t *testing.T) {
		clientCert := map[string]string{"ca": api.ca.certPEM, "cert": api.client.certPEM, "key": api.client.keyPEM}
		v, _, err := read(build(t, trigger(api.tlsURL+"/tls/yaml", "yaml", "authMode", "tls"), clientCert), "m")
		if err != nil || v != 4000 {
			t.Fatalf("ca and client certificate: %dm, %v", v, err)
		}
		// The CA without a client certificate reaches the server, which refuses the request.
		failing(t, build(t, trigger(api.tlsURL+"/tls/yaml", "yaml"), map[string]string{"ca": api.ca.certPEM}), "401 Unauthorized", "the server wants credentials")
		// Without the CA the server is not trusted, unless unsafeSsl says so.
		failing(t, build(t, trigger(api.tlsURL+"/open/yaml", "yaml"), nil), "certificate is not trusted", "parameter ca", "unsafeSsl")
		if v, _, err := read(build(t, trigger(api.tlsURL+"/open/yaml", "yaml", "unsafeSsl", "true"), nil), "m"); err != nil || v != 4000 {
			t.Errorf("unsafeSsl: %dm, %v", v, err)
		}
		// A client certificate another CA signed is not one the server asks for: none is sent.
		stranger := newPKICert(t, "keda-client", nil)
		failing(t, build(t, trigger(api.tlsURL+"/tls/yaml", "yaml", "authMode", "tls"),
			map[string]string{"ca": api.ca.certPEM, "cert": stranger.certPEM, "key": stranger.keyPEM}), "401 Unauthorized", "refused the credentials of authModes tls")
	})

	t.Run("wrong valueLocation and format", func(t *testing.T) {
		failing(t, build(t, trigger(api.url+"/open/json", "json", "valueLocation", "queue.size"), nil), `valueLocation "queue.size": matches nothing`, "check metadata.valueLocation")
		failing(t, build(t, trigger(api.url+"/open/yaml", "yaml", "valueLocation", "queue.name"), nil), `holds "jobs", which is neither a number nor a quantity`)
		failing(t, build(t, trigger(api.url+"/open/xml", "json"), nil), "the answer is not JSON", "metadata.format")
		failing(t, build(t, trigger(api.url+"/open/prometheus", "prometheus", "valueLocation", `queue_waiting{queue="none"}`), nil), "no sample of queue_waiting has those label values")
		failing(t, build(t, trigger(api.url+"/nowhere/json", "json"), nil), "404 Not Found", "check the path in metadata.url")
	})

	t.Run("no answer in time", func(t *testing.T) {
		failing(t, build(t, trigger(api.url+"/slow/json", "json"), nil), "no answer within the trigger's timeout of 1s", "metadata.url")
		failing(t, build(t, trigger("http://"+silentServer(t)+"/x", "json", "timeout", "250ms"), nil), "no answer within the trigger's timeout of 250ms")
	})

	t.Run("nothing listens", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		failing(t, build(t, trigger("http://127.0.0.1:"+strconv.Itoa(port)+"/x", "json"), nil), "could not reach the server", "metadata.url", "refused")
	})
}
