package scalers

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// The HTTP triggers (prometheus, metrics-api) reach their server the same way: one http.Client
// per trigger, every request bounded by the trigger's timeout, TLS options (ca, unsafeSsl) and
// KEDA's authentication modes. This file is that one way.

// KEDA's authentication modes, as authModes and authMode spell them.
const (
	authModeAPIKey = "apiKey"
	authModeBasic  = "basic"
	authModeTLS    = "tls"
	authModeBearer = "bearer"
	authModeCustom = "custom"
	authModeOAuth  = "oauth"
)

var allAuthModes = []string{authModeAPIKey, authModeBasic, authModeTLS, authModeBearer, authModeCustom, authModeOAuth}

// httpAuthParams are the authentication parameters KEDA's HTTP scalers share; each HTTP trigger's
// metadata struct embeds them.
type httpAuthParams struct {
	AuthModes        []string `keda:"name=authModes, order=triggerMetadata;authParams, optional"`
	AuthMode         []string `keda:"name=authMode, order=triggerMetadata;authParams, optional"`
	BearerToken      string   `keda:"name=bearerToken, order=authParams, optional, secret"`
	Token            string   `keda:"name=token, order=authParams, optional, secret"`
	Username         string   `keda:"name=username, order=authParams, optional"`
	Password         string   `keda:"name=password, order=authParams, optional, secret"`
	Cert             string   `keda:"name=cert, order=authParams, optional"`
	Key              string   `keda:"name=key, order=authParams, optional, secret"`
	CA               string   `keda:"name=ca, order=authParams, optional"`
	OAuthTokenURI    string   `keda:"name=oauthTokenURI, order=authParams, optional"`
	Scopes           []string `keda:"name=scopes, order=authParams, optional"`
	Scope            []string `keda:"name=scope, order=authParams, optional"`
	ClientID         string   `keda:"name=clientID, order=authParams, optional"`
	ClientSecret     string   `keda:"name=clientSecret, order=authParams, optional, secret"`
	EndpointParams   string   `keda:"name=endpointParams, order=authParams, optional"`
	CustomAuthHeader string   `keda:"name=customAuthHeader, order=authParams, optional"`
	CustomAuthValue  string   `keda:"name=customAuthValue, order=authParams, optional, secret"`
	APIKey           string   `keda:"name=apiKey, order=authParams;triggerMetadata, optional, secret"`
	Method           string   `keda:"name=method, order=triggerMetadata;authParams, optional, default=header, enum=header;query"`
	KeyParamName     string   `keda:"name=keyParamName, order=triggerMetadata;authParams, optional"`
}

// httpAuth is a validated authentication: which modes are on and what they need.
type httpAuth struct {
	modes []string
	// header credentials
	bearerToken        string
	username, password string
	customHeader       string
	customValue        string
	apiKey             string
	apiKeyInQuery      bool
	keyParamName       string
	// transport credentials
	clientCert *tls.Certificate
	rootCAs    *x509.CertPool
	oauth      *clientcredentials.Config
}

// has reports whether mode is on.
func (a *httpAuth) has(mode string) bool { return slices.Contains(a.modes, mode) }

// secrets are the texts no error may show.
func (p *httpAuthParams) secrets() []string {
	s := []string{p.BearerToken, p.Token, p.Password, p.Key, p.ClientSecret, p.CustomAuthValue, p.APIKey, url.QueryEscape(p.APIKey)}
	if p.Password != "" {
		s = append(s, base64.StdEncoding.EncodeToString([]byte(p.Username+":"+p.Password)))
	}
	return s
}

// validate checks the modes and that each has what it needs, and loads certificates. Missing
// parameters are reported as "is required ..." so that offline validation, where a
// TriggerAuthentication may hold them, lets them pass.
func (p *httpAuthParams) validate() (*httpAuth, error) {
	a := &httpAuth{}
	for _, list := range []struct {
		param string
		modes []string
	}{{"authModes", p.AuthModes}, {"authMode", p.AuthMode}} {
		for _, m := range list.modes {
			if !slices.Contains(allAuthModes, m) {
				return nil, &ParamError{Param: list.param, Problem: strconv.Quote(m) + " is not an authentication mode",
					Fix: "use a comma-separated list of " + strings.Join(allAuthModes, ", ")}
			}
			if !slices.Contains(a.modes, m) {
				a.modes = append(a.modes, m)
			}
		}
	}
	var exclusive []string
	for _, m := range []string{authModeBearer, authModeBasic, authModeOAuth} {
		if a.has(m) {
			exclusive = append(exclusive, m)
		}
	}
	if len(exclusive) > 1 {
		return nil, &ParamError{Param: "authModes", Problem: "lists " + strings.Join(exclusive, " and "),
			Fix: "keep one of bearer, basic and oauth: each sets the Authorization header"}
	}
	if p.CA != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM([]byte(p.CA)) {
			return nil, &ParamError{Param: "ca", Problem: "holds no PEM certificate", Fix: "put the PEM text of the CA certificate (-----BEGIN CERTIFICATE-----) in the TriggerAuthentication's ca parameter"}
		}
		a.rootCAs = pool
	}
	if p.Method == "query" {
		a.apiKeyInQuery = true
	}
	a.keyParamName = p.KeyParamName
	for _, mode := range a.modes {
		if err := p.validateMode(mode, a); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// validateMode checks that one mode has its parameters and copies them into a.
func (p *httpAuthParams) validateMode(mode string, a *httpAuth) error {
	required := func(param, also string) error {
		return &ParamError{Param: param, Problem: "is required for authModes " + mode,
			Fix: "set parameter " + param + also + " in the TriggerAuthentication (secretTargetRef), or remove " + mode + " from authModes"}
	}
	switch mode {
	case authModeBearer:
		a.bearerToken = p.BearerToken
		if a.bearerToken == "" {
			a.bearerToken = p.Token
		}
		if a.bearerToken == "" {
			return required("bearerToken", " (or token)")
		}
	case authModeBasic:
		if p.Username == "" {
			return required("username", " (and password)")
		}
		a.username, a.password = p.Username, p.Password
	case authModeCustom:
		if p.CustomAuthHeader == "" {
			return required("customAuthHeader", "")
		}
		if p.CustomAuthValue == "" {
			return required("customAuthValue", "")
		}
		if !validHeaderName(p.CustomAuthHeader) {
			return &ParamError{Param: "customAuthHeader", Problem: strconv.Quote(p.CustomAuthHeader) + " is not an HTTP header name", Fix: "use a name such as X-Auth-Token"}
		}
		a.customHeader, a.customValue = p.CustomAuthHeader, p.CustomAuthValue
	case authModeAPIKey:
		if p.APIKey == "" {
			return required("apiKey", "")
		}
		a.apiKey = p.APIKey
		if a.keyParamName != "" && !a.apiKeyInQuery && !validHeaderName(a.keyParamName) {
			return &ParamError{Param: "keyParamName", Problem: strconv.Quote(a.keyParamName) + " is not an HTTP header name", Fix: "use a header name such as X-API-KEY, or method: query"}
		}
	case authModeTLS:
		if p.Cert == "" {
			return required("cert", " (and key)")
		}
		key := p.Key
		if key == "" {
			// The key may sit in the same PEM text as the certificate.
			key = p.Cert
		}
		pair, err := tls.X509KeyPair([]byte(p.Cert), []byte(key))
		if err != nil {
			if p.Key == "" {
				return required("key", "")
			}
			return &ParamError{Param: "cert", Problem: "and key do not make a client certificate",
				Fix: "put the PEM texts of the client certificate and of its private key in the TriggerAuthentication's cert and key parameters"}
		}
		a.clientCert = &pair
	case authModeOAuth:
		if p.OAuthTokenURI == "" {
			return required("oauthTokenURI", "")
		}
		if p.ClientID == "" {
			return required("clientID", " (and clientSecret)")
		}
		if u, err := url.Parse(p.OAuthTokenURI); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &ParamError{Param: "oauthTokenURI", Problem: "is not an http(s) URL", Fix: "use the token endpoint of the OAuth server, such as https://auth.example.com/oauth2/token"}
		}
		params, err := url.ParseQuery(p.EndpointParams)
		if err != nil {
			return &ParamError{Param: "endpointParams", Problem: "is not a URL-encoded query string", Fix: "use key=value pairs joined by &, such as audience=api&resource=x"}
		}
		a.oauth = &clientcredentials.Config{ClientID: p.ClientID, ClientSecret: p.ClientSecret, TokenURL: p.OAuthTokenURI,
			Scopes: append(slices.Clone(p.Scopes), p.Scope...), EndpointParams: params}
	}
	return nil
}

// validHeaderName reports whether s is an HTTP header field name (an RFC 9110 token).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c > 0x7e || c <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, c) {
			return false
		}
	}
	return true
}

// parseTriggerTimeout reads a trigger's timeout parameter as KEDA does: milliseconds ("1500") or
// a duration ("1.5s"); empty is 0, for "the operator's timeout".
func parseTriggerTimeout(raw string) (time.Duration, error) {
	if raw == "" {
		return 0, nil
	}
	if ms, err := strconv.ParseInt(raw, 10, 64); err == nil {
		if ms <= 0 {
			return 0, &ParamError{Param: "timeout", Problem: strconv.Quote(raw) + " is not above 0", Fix: "use milliseconds such as 5000, or a duration such as 5s"}
		}
		return time.Duration(ms) * time.Millisecond, nil
	}
	d, err := time.ParseDuration(raw)
	if err != nil || d <= 0 {
		return 0, &ParamError{Param: "timeout", Problem: strconv.Quote(raw) + " is not a timeout", Fix: "use milliseconds such as 5000, or a duration such as 5s"}
	}
	return d, nil
}

// maxResponseBytes bounds what one poll reads from a server.
const maxResponseBytes = 8 << 20

// httpClient is one HTTP trigger's way to its server.
type httpClient struct {
	cfg     *Config
	client  *http.Client
	auth    *httpAuth
	timeout time.Duration
	// addrParam is the metadata parameter that holds the server's address (serverAddress, url),
	// named in errors about reaching the server.
	addrParam string
	// secrets are removed from every error text.
	secrets []string
	// release gives the transport back to cfg.Clients.
	release func()
}

// Bounds of a shared transport. Requests are bounded by each trigger's own timeout (the
// request's context), so the transport's own bounds only stop a connection that no request
// waits on any more. As many connections stay idle as may be open: polls come in bursts (up to
// --poll-workers at once), and with fewer kept each burst closed and redialled the rest (10,000
// metrics-api triggers on one source kept dialling new connections).
const (
	httpMaxConnsPerHost     = 32
	httpMaxIdleConnsPerHost = httpMaxConnsPerHost
	httpIdleConnTimeout     = 90 * time.Second
	httpDialTimeout         = 30 * time.Second
)

// httpTransportParts is what makes two triggers' transports interchangeable: the TLS identity
// (trusted CAs, client certificate, whether verification is skipped) and the proxy, which comes
// from the operator's environment and is the same for all. Certificates and keys are hashed by
// the pool, never kept.
func httpTransportParts(p *httpAuthParams, auth *httpAuth, unsafeSSL bool) []any {
	parts := []any{"proxy=environment", unsafeSSL, "", ""}
	if auth.rootCAs != nil {
		parts[2] = p.CA
	}
	if auth.clientCert != nil {
		parts[3] = p.Cert + "\x00" + p.Key
	}
	return parts
}

// newHTTPTransport builds a bounded transport for one TLS identity.
func newHTTPTransport(auth *httpAuth, unsafeSSL bool) *http.Transport {
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: unsafeSSL, RootCAs: auth.rootCAs} //nolint:gosec // unsafeSsl is the user's explicit choice
	if auth.clientCert != nil {
		tlsConfig.Certificates = []tls.Certificate{*auth.clientCert}
	}
	return &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: httpDialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     tlsConfig,
		TLSHandshakeTimeout: httpDialTimeout,
		MaxIdleConns:        4 * httpMaxIdleConnsPerHost,
		MaxIdleConnsPerHost: httpMaxIdleConnsPerHost,
		MaxConnsPerHost:     httpMaxConnsPerHost,
		IdleConnTimeout:     httpIdleConnTimeout,
		ForceAttemptHTTP2:   true,
	}
}

// newHTTPClient builds the client of one trigger: requests time out after timeout (the
// trigger's own, or cfg.Timeout when it has none); unsafeSSL skips certificate verification.
// The transport (and so the connections) is shared through cfg.Clients with every trigger of
// the same TLS identity; the timeout, the credential headers and the OAuth token source are
// the trigger's own.
func newHTTPClient(cfg *Config, p *httpAuthParams, auth *httpAuth, addrParam string, addr *url.URL, timeout time.Duration, unsafeSSL bool) *httpClient {
	if timeout <= 0 {
		timeout = cfg.Timeout
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	transport, release, err := acquirePooled(cfg.Clients, "http", httpTransportParts(p, auth, unsafeSSL), func() (*http.Transport, func(), error) {
		t := newHTTPTransport(auth, unsafeSSL)
		return t, t.CloseIdleConnections, nil
	})
	if err != nil {
		// The identity is strings and a bool: encoding it cannot fail. Should it, the trigger
		// still works, on a transport of its own.
		transport = newHTTPTransport(auth, unsafeSSL)
		release = transport.CloseIdleConnections
	}
	var rt http.RoundTripper = transport
	if auth.oauth != nil {
		// Tokens are fetched through the same transport, each fetch bounded by the timeout, and
		// reused until they expire.
		tokenCtx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: transport, Timeout: timeout})
		rt = &oauth2.Transport{Source: auth.oauth.TokenSource(tokenCtx), Base: transport}
	}
	secrets := p.secrets()
	if pw, ok := addr.User.Password(); ok {
		secrets = append(secrets, pw, url.PathEscape(pw))
	}
	// Longest first, so that a longer secret goes whole before a shorter one inside it.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	return &httpClient{cfg: cfg, client: &http.Client{Transport: rt, Timeout: timeout}, auth: auth,
		timeout: timeout, addrParam: addrParam, secrets: secrets, release: release}
}

// httpStatusError is an answer outside 2xx.
type httpStatusError struct {
	code int
	body []byte
}

func (e *httpStatusError) Error() string {
	return fmt.Sprintf("the server answered %d %s", e.code, http.StatusText(e.code))
}

// get requests u with the trigger's credentials and returns the body of a 2xx answer. Errors
// name the trigger and say what to check; none shows a credential.
func (c *httpClient) get(ctx context.Context, u *url.URL, header http.Header) ([]byte, error) {
	status, body, err := c.send(ctx, http.MethodGet, u, header, nil)
	if err != nil {
		return nil, err
	}
	if status < 200 || status > 299 {
		return body, c.fail(u, c.statusError(&httpStatusError{code: status, body: body}))
	}
	return body, nil
}

// send makes one request with the trigger's credentials and returns the answer's status and its
// body, read up to maxResponseBytes, whatever the status: the caller words what a status means
// for its server. Errors (no answer, an answer too large) name the trigger, the method and u.
func (c *httpClient) send(ctx context.Context, method string, u *url.URL, header http.Header, body []byte) (int, []byte, error) {
	status, _, answer, err := c.sendFull(ctx, method, u, header, body)
	return status, answer, err
}

// sendFull is send that also returns the answer's headers, for servers that say in them why
// they refused (rate limits).
func (c *httpClient) sendFull(ctx context.Context, method string, u *url.URL, header http.Header, body []byte) (int, http.Header, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u = c.withAPIKeyQuery(u)
	var reqBody io.Reader
	if body != nil {
		reqBody = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), reqBody)
	if err != nil {
		return 0, nil, nil, c.failOn(method, u, fmt.Errorf("could not build the request: %w", err))
	}
	for name, values := range header {
		for _, v := range values {
			req.Header.Add(name, v)
		}
	}
	c.authorize(req)
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, nil, nil, c.failOn(method, u, c.transportError(ctx, err))
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return 0, nil, nil, c.failOn(method, u, c.transportError(ctx, err))
	}
	if len(answer) > maxResponseBytes {
		return 0, nil, nil, c.failOn(method, u, fmt.Errorf("the answer is larger than %d MiB: point metadata.%s at a smaller document", maxResponseBytes>>20, c.addrParam))
	}
	return resp.StatusCode, resp.Header, answer, nil
}

// withAPIKeyQuery adds the API key to the query when authModes apiKey asks for method query.
func (c *httpClient) withAPIKeyQuery(u *url.URL) *url.URL {
	if !c.auth.has(authModeAPIKey) || !c.auth.apiKeyInQuery {
		return u
	}
	name := c.auth.keyParamName
	if name == "" {
		name = "api_key"
	}
	with := *u
	q := with.Query()
	q.Set(name, c.auth.apiKey)
	with.RawQuery = q.Encode()
	return &with
}

// authorize sets the credential headers of the trigger's auth modes.
func (c *httpClient) authorize(req *http.Request) {
	a := c.auth
	if a.has(authModeBasic) {
		req.SetBasicAuth(a.username, a.password)
	}
	if a.has(authModeBearer) {
		req.Header.Set("Authorization", "Bearer "+a.bearerToken)
	}
	if a.has(authModeCustom) {
		req.Header.Set(a.customHeader, a.customValue)
	}
	if a.has(authModeAPIKey) && !a.apiKeyInQuery {
		name := a.keyParamName
		if name == "" {
			name = "X-API-KEY"
		}
		req.Header.Set(name, a.apiKey)
	}
}

// transportError words a failure to get an answer, with what to check.
func (c *httpClient) transportError(ctx context.Context, err error) error {
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var retrieveErr *oauth2.RetrieveError
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || isNetTimeout(err):
		return fmt.Errorf("no answer within the trigger's timeout of %s: check that the server at metadata.%s answers, or raise metadata.timeout: %w", c.timeout, c.addrParam, err)
	case errors.As(err, &retrieveErr) && retrieveErr.Response != nil:
		return fmt.Errorf("the OAuth server refused a token (%d): check clientID, clientSecret, scopes and oauthTokenURI in the TriggerAuthentication: %w", retrieveErr.Response.StatusCode, err)
	case errors.As(err, &unknownCA) || errors.As(err, &hostErr) || errors.As(err, &certErr):
		return fmt.Errorf("the server's certificate is not trusted: set parameter ca (its CA's PEM) in a TriggerAuthentication, or metadata.unsafeSsl \"true\" to skip the check: %w", err)
	default:
		return fmt.Errorf("could not reach the server: check metadata.%s and that the server runs: %w", c.addrParam, err)
	}
}

// isNetTimeout reports whether err is a network timeout.
func isNetTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// statusError words an answer outside 2xx, with what to check and the start of the answer.
func (c *httpClient) statusError(e *httpStatusError) error {
	var err error
	switch e.code {
	case http.StatusUnauthorized, http.StatusForbidden:
		if len(c.auth.modes) == 0 {
			err = fmt.Errorf("%w: the server wants credentials: set metadata.authModes and its parameters in a TriggerAuthentication", e)
		} else {
			err = fmt.Errorf("%w: the server refused the credentials of authModes %s: check them in the TriggerAuthentication", e, strings.Join(c.auth.modes, ","))
		}
	case http.StatusNotFound:
		err = fmt.Errorf("%w: check the path in metadata.%s", e, c.addrParam)
	default:
		err = e
	}
	// Redacted before it is cut, so that no part of a credential the server echoed survives.
	snippet := strings.Join(strings.Fields(redact(errors.New(string(e.body)), c.secrets).Error()), " ")
	if len(snippet) > 200 {
		snippet = snippet[:200] + "..."
	}
	if snippet == "" {
		return err
	}
	return fmt.Errorf("%w (answer: %s)", err, snippet)
}

// fail names the trigger and the request and removes every credential from err's text.
func (c *httpClient) fail(u *url.URL, err error) error {
	return c.failOn(http.MethodGet, u, err)
}

// failOn is fail for a request of another method.
func (c *httpClient) failOn(method string, u *url.URL, err error) error {
	return c.redactErr(fmt.Errorf("%s: %s %s: %w", triggerWho(c.cfg), method, u.Redacted(), err))
}

// redactErr removes every credential from err's text.
func (c *httpClient) redactErr(err error) error {
	return redact(err, c.secrets)
}

// close gives the transport back; the last trigger to use it drops its idle connections.
func (c *httpClient) close() {
	c.release()
}

// triggerWho names a trigger in errors as ParamError does: trigger 0 (prometheus "name").
func triggerWho(cfg *Config) string {
	who := fmt.Sprintf("trigger %d (%s", cfg.TriggerIndex, cfg.TriggerType)
	if cfg.TriggerName != "" {
		who += " " + strconv.Quote(cfg.TriggerName)
	}
	return who + ")"
}

// parseKeyValues reads a comma-separated key=value list (customHeaders, queryParameters).
func parseKeyValues(param string, items []string, example string) (map[string]string, error) {
	out := map[string]string{}
	for _, item := range items {
		k, v, ok := strings.Cut(item, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, &ParamError{Param: param, Problem: "has " + strconv.Quote(item) + ", which is not key=value", Fix: "use a comma-separated list such as " + example}
		}
		out[k] = strings.TrimSpace(v)
	}
	return out, nil
}

// httpURL parses an http(s) URL parameter.
func httpURL(param, raw, example string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &ParamError{Param: param, Problem: "is not an http(s) URL", Fix: "use an address such as " + example}
	}
	return u, nil
}
