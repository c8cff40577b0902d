package scalers

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
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

	"github.com/kedactl/kedactl/scalers/meta"
	"golang.org/x/oauth2"
)

// The HTTP triggers (prometheus, metrics-api) reach their server the same way: one http.Client
// per trigger, every request bounded by the trigger's timeout, TLS options (ca, unsafeSsl) and
// KEDA's authentication modes. This file is that one way.

// maxResponseBytes bounds what one poll reads from a server.
const maxResponseBytes = 8 << 20

// httpClient is one HTTP trigger's way to its server.
type httpClient struct {
	cfg     *Config
	client  *http.Client
	auth    *meta.HTTPAuth
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
func httpTransportParts(p *meta.HTTPAuthParams, auth *meta.HTTPAuth, unsafeSSL bool) []any {
	parts := []any{"proxy=environment", unsafeSSL, "", ""}
	if auth.RootCAs != nil {
		parts[2] = p.CA
	}
	if auth.ClientCert != nil {
		parts[3] = p.Cert + "\x00" + p.Key
	}
	return parts
}

// newHTTPTransport builds a bounded transport for one TLS identity.
func newHTTPTransport(auth *meta.HTTPAuth, unsafeSSL bool) *http.Transport {
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: unsafeSSL, RootCAs: auth.RootCAs} //nolint:gosec // unsafeSsl is the user's explicit choice
	if auth.ClientCert != nil {
		tlsConfig.Certificates = []tls.Certificate{*auth.ClientCert}
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
func newHTTPClient(cfg *Config, p *meta.HTTPAuthParams, auth *meta.HTTPAuth, addrParam string, addr *url.URL, timeout time.Duration, unsafeSSL bool) *httpClient {
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
	var rt http.RoundTripper = observedTransport{next: transport}
	if auth.Oauth != nil {
		// Tokens are fetched through the same transport, each fetch bounded by the timeout, and
		// reused until they expire.
		tokenCtx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: transport, Timeout: timeout})
		rt = &oauth2.Transport{Source: auth.Oauth.TokenSource(tokenCtx), Base: rt}
	}
	secrets := p.Secrets()
	if pw, ok := addr.User.Password(); ok {
		secrets = append(secrets, pw, url.PathEscape(pw))
	}
	// Longest first, so that a longer secret goes whole before a shorter one inside it.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	return &httpClient{cfg: cfg, client: &http.Client{Transport: rt, Timeout: timeout}, auth: auth,
		timeout: timeout, addrParam: addrParam, secrets: secrets, release: release}
}

// newSigningHTTPClient is newHTTPClient for a trigger that signs its own requests with a
// credential outside KEDA's authModes (a connection string's key): no auth headers are added, and
// secrets (the credential's texts) are removed from its errors.
func newSigningHTTPClient(cfg *Config, addrParam string, addr *url.URL, secrets []string) *httpClient {
	c := newHTTPClient(cfg, &meta.HTTPAuthParams{}, &meta.HTTPAuth{}, addrParam, addr, 0, false)
	c.secrets = append(c.secrets, secrets...)
	slices.SortFunc(c.secrets, func(a, b string) int { return len(b) - len(a) })
	return c
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
	if !c.auth.Has(meta.AuthModeAPIKey) || !c.auth.APIKeyInQuery {
		return u
	}
	name := c.auth.KeyParamName
	if name == "" {
		name = "api_key"
	}
	with := *u
	q := with.Query()
	q.Set(name, c.auth.APIKey)
	with.RawQuery = q.Encode()
	return &with
}

// authorize sets the credential headers of the trigger's auth modes.
func (c *httpClient) authorize(req *http.Request) {
	a := c.auth
	if a.Has(meta.AuthModeBasic) {
		req.SetBasicAuth(a.Username, a.Password)
	}
	if a.Has(meta.AuthModeBearer) {
		req.Header.Set("Authorization", "Bearer "+a.BearerToken)
	}
	if a.Has(meta.AuthModeCustom) {
		req.Header.Set(a.CustomHeader, a.CustomValue)
	}
	if a.Has(meta.AuthModeAPIKey) && !a.APIKeyInQuery {
		name := a.KeyParamName
		if name == "" {
			name = "X-API-KEY"
		}
		req.Header.Set(name, a.APIKey)
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
		if len(c.auth.Modes) == 0 {
			err = fmt.Errorf("%w: the server wants credentials: set metadata.authModes and its parameters in a TriggerAuthentication", e)
		} else {
			err = fmt.Errorf("%w: the server refused the credentials of authModes %s: check them in the TriggerAuthentication", e, strings.Join(c.auth.Modes, ","))
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
