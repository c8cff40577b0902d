package cloudevents

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	cesdk "github.com/cloudevents/sdk-go/v2/client"
	cecontext "github.com/cloudevents/sdk-go/v2/context"
	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/protocol"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"go.uber.org/zap"

	eventingv1alpha1 "github.com/kedactl/kedactl/api/eventing/v1alpha1"
)

// Sink names, as the eventsink label of KEDA's metrics spells them.
const (
	SinkHTTP                = "http"
	SinkAzureEventGridTopic = "azureEventGridTopic"
)

// sendTimeout bounds one attempt to deliver one event.
const sendTimeout = 10 * time.Second

// Sink delivers one CloudEvent to one destination.
type Sink interface {
	Send(ctx context.Context, ev ce.Event) error
	// Name is SinkHTTP or SinkAzureEventGridTopic.
	Name() string
}

// NewSink builds the sink of a spec's destination (http when both are set, as KEDA) with the
// credentials of its authenticationRef (params, already resolved). Errors name the field or the
// parameter at fault, never a credential.
func NewSink(d eventingv1alpha1.Destination, params map[string]string) (Sink, error) {
	switch {
	case d.HTTP != nil:
		auth, err := httpAuthFrom(params)
		if err != nil {
			return nil, err
		}
		return newHTTPSink(d.HTTP.URI, auth)
	case d.AzureEventGridTopic != nil:
		return newEventGridSink(d.AzureEventGridTopic.Endpoint, params)
	}
	return nil, errors.New("spec.destination: set http.uri or azureEventGridTopic.endpoint")
}

// httpAuth is how the http destination is authenticated: at most one of bearer and basic in the
// Authorization header, and a client certificate and trusted CA for TLS.
type httpAuth struct {
	bearer             string
	username, password string
	cert               *tls.Certificate
	roots              *x509.CertPool
}

// httpAuthFrom reads an authentication's parameters as KEDA's HTTP scalers name them:
// bearerToken; username and password; cert and key (PEM), ca (PEM). authModes, when set, says
// which of bearer, basic and tls to use; otherwise each is used when its parameters are present.
func httpAuthFrom(params map[string]string) (httpAuth, error) {
	var a httpAuth
	modes := splitModes(params["authModes"])
	for _, m := range modes {
		if m != "bearer" && m != "basic" && m != "tls" {
			return a, fmt.Errorf("authenticationRef: authModes %q is not supported for an http destination: use bearer, basic or tls", m)
		}
	}
	use := func(mode string, present bool) bool {
		if len(modes) == 0 {
			return present
		}
		return slices.Contains(modes, mode)
	}
	if use("bearer", params["bearerToken"] != "") {
		if params["bearerToken"] == "" {
			return a, errors.New("authenticationRef: authModes bearer needs the parameter bearerToken")
		}
		a.bearer = params["bearerToken"]
	}
	if use("basic", params["username"] != "") {
		if params["username"] == "" {
			return a, errors.New("authenticationRef: authModes basic needs the parameter username (and password)")
		}
		if a.bearer != "" {
			return a, errors.New("authenticationRef: bearerToken and username both set: keep one, or choose with authModes")
		}
		a.username, a.password = params["username"], params["password"]
	}
	if use("tls", params["cert"] != "" || params["key"] != "") {
		if params["cert"] == "" || params["key"] == "" {
			return a, errors.New("authenticationRef: a client certificate needs both parameters cert and key (PEM)")
		}
		c, err := tls.X509KeyPair([]byte(params["cert"]), []byte(params["key"]))
		if err != nil {
			// The parse error can quote neither key nor certificate bytes; say which pair failed.
			return a, errors.New("authenticationRef: parameters cert and key are not a PEM certificate and its private key")
		}
		a.cert = &c
	}
	if ca := params["ca"]; ca != "" {
		a.roots = x509.NewCertPool()
		if !a.roots.AppendCertsFromPEM([]byte(ca)) {
			return a, errors.New("authenticationRef: parameter ca holds no PEM certificate")
		}
	}
	return a, nil
}

func splitModes(s string) []string {
	var out []string
	for _, m := range strings.Split(s, ",") {
		if m = strings.TrimSpace(m); m != "" {
			out = append(out, m)
		}
	}
	return out
}

// transport is a bounded transport for one destination, with its TLS identity.
func (a httpAuth) transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 2
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: a.roots}
	if a.cert != nil {
		t.TLSClientConfig.Certificates = []tls.Certificate{*a.cert}
	}
	return t
}

// authorizing adds the Authorization header to every request.
type authorizing struct {
	next http.RoundTripper
	auth httpAuth
}

func (r authorizing) RoundTrip(req *http.Request) (*http.Response, error) {
	if r.auth.bearer == "" && r.auth.username == "" {
		return r.next.RoundTrip(req)
	}
	req = req.Clone(req.Context())
	if r.auth.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+r.auth.bearer)
	} else {
		req.SetBasicAuth(r.auth.username, r.auth.password)
	}
	return r.next.RoundTrip(req)
}

// httpSink sends each event in the CloudEvents HTTP binding's binary mode, through the SDK.
type httpSink struct {
	client cesdk.Client
	target string
}

func newHTTPSink(uri string, auth httpAuth) (*httpSink, error) {
	u, err := url.ParseRequestURI(uri)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("spec.destination.http.uri: must be an absolute http:// or https:// URL")
	}
	p, err := cehttp.New(cehttp.WithTarget(uri), cehttp.WithClient(http.Client{
		Transport: authorizing{next: auth.transport(), auth: auth},
		Timeout:   sendTimeout,
	}))
	if err != nil {
		return nil, fmt.Errorf("failed to create the CloudEvents HTTP client: %w", err)
	}
	c, err := cesdk.New(p)
	if err != nil {
		return nil, fmt.Errorf("failed to create the CloudEvents client: %w", err)
	}
	return &httpSink{client: c, target: uri}, nil
}

func (s *httpSink) Name() string { return SinkHTTP }

// quiet keeps the SDK's own logger (a zap production logger unless the context has one) from
// writing to the operator's output behind its back.
var quiet = zap.NewNop().Sugar()

func (s *httpSink) Send(ctx context.Context, ev ce.Event) error {
	ctx, cancel := context.WithTimeout(cecontext.WithLogger(ctx, quiet), sendTimeout)
	defer cancel()
	res := s.client.Send(ctx, ev)
	if protocol.IsACK(res) {
		return nil
	}
	var hr *cehttp.Result
	if errors.As(res, &hr) && hr.StatusCode != 0 {
		return &StatusError{Code: hr.StatusCode}
	}
	return fmt.Errorf("failed to send to %s: %w", redacted(s.target), res)
}

// eventGridAPIVersion is the Event Grid data plane API version of the CloudEvents schema.
const eventGridAPIVersion = "2018-01-01"

// eventGridSink publishes each event to an Event Grid topic with its documented HTTP API: a POST of
// a JSON array of CloudEvents (structured mode) to the topic endpoint, with the topic's access key
// in the aeg-sas-key header or a SAS token in aeg-sas-token.
type eventGridSink struct {
	endpoint     string
	header, cred string
	client       *http.Client
}

func newEventGridSink(endpoint string, params map[string]string) (*eventGridSink, error) {
	u, err := url.ParseRequestURI(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("spec.destination.azureEventGridTopic.endpoint: must be an absolute https:// URL, e.g. https://<topic>.<region>-1.eventgrid.azure.net/api/events")
	}
	q := u.Query()
	if q.Get("api-version") == "" {
		q.Set("api-version", eventGridAPIVersion)
		u.RawQuery = q.Encode()
	}
	s := &eventGridSink{endpoint: u.String(), client: &http.Client{Timeout: sendTimeout, Transport: httpAuth{}.transport()}}
	switch {
	case params["accessKey"] != "":
		s.header, s.cred = "aeg-sas-key", params["accessKey"]
	case params["sasToken"] != "":
		s.header, s.cred = "aeg-sas-token", params["sasToken"]
	default:
		return nil, errors.New("spec.authenticationRef: an azureEventGridTopic destination needs the parameter accessKey (the topic's access key) or sasToken in its TriggerAuthentication")
	}
	return s, nil
}

func (s *eventGridSink) Name() string { return SinkAzureEventGridTopic }

func (s *eventGridSink) Send(ctx context.Context, ev ce.Event) error {
	body, err := json.Marshal([]ce.Event{ev})
	if err != nil {
		return fmt.Errorf("failed to encode the event: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("failed to make the Event Grid request: %w", err)
	}
	req.Header.Set("Content-Type", "application/cloudevents-batch+json; charset=utf-8")
	req.Header.Set(s.header, s.cred)
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("failed to publish to Event Grid: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return nil
	}
	return &StatusError{Code: resp.StatusCode, Detail: firstLine(resp.Body)}
}

// firstLine reads the first line of an error answer, bounded: enough to say why.
func firstLine(r io.Reader) string {
	sc := bufio.NewScanner(io.LimitReader(r, 4096))
	if sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if len(line) > 200 {
			line = line[:200]
		}
		return line
	}
	return ""
}

// redacted drops any user:password from a URL before it is shown.
func redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the destination"
	}
	return u.Redacted()
}
