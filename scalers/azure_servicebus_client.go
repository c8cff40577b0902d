package scalers

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
)

// azureServiceBusAPIVersion is the management API's version every request names, the one the
// Azure SDK's admin client (KEDA's client) asks for.
const azureServiceBusAPIVersion = "2021-05"

// Paging of the useRegex listings: entries a page, and the most pages read (a Standard namespace
// holds at most 10,000 entities, 100 pages).
const (
	azureServiceBusPageSize = 100
	azureServiceBusMaxPages = 200
)

// azureServiceBusClient makes one trigger's requests to its namespace.
type azureServiceBusClient struct {
	cfg  *Config
	ns   *meta.AzureServiceBusNamespace
	http *httpClient
	now  func() time.Time
}

// newAzureServiceBusClient reaches the namespace over the transport every trigger shares (the TLS
// identity is the system's for all of them: the operator's --ca-dir adds CAs to it); the
// credential stays the trigger's own.
func newAzureServiceBusClient(cfg *Config, ns *meta.AzureServiceBusNamespace) *azureServiceBusClient {
	return &azureServiceBusClient{cfg: cfg, ns: ns, http: newSigningHTTPClient(cfg, "connection", ns.BaseURL, ns.Secrets), now: time.Now}
}

func (c *azureServiceBusClient) close() { c.http.close() }

// activeMessages reads the active message count of the entity at names (a queue, or a topic,
// "Subscriptions" and a subscription). An entity that does not exist is an error, as in KEDA.
func (c *azureServiceBusClient) activeMessages(ctx context.Context, kind azureServiceBusKind, what string, names ...string) (int64, error) {
	u := azureServiceBusURL(c.ns.BaseURL, nil, azureServiceBusPath(names...)...)
	body, err := c.get(ctx, u, what)
	if err != nil {
		return 0, err
	}
	n, exists, err := parseAzureServiceBusEntity(body, kind)
	switch {
	case err != nil:
		return 0, c.fail(u, fmt.Errorf("the answer is not the %s's description (%w): check the Endpoint of the connection string", kind, err))
	case !exists:
		return 0, c.fail(u, fmt.Errorf("%s does not exist in the namespace %s: check the name and the connection string's Endpoint", what, c.ns.BaseURL.Host))
	}
	return n, nil
}

// list reads every queue, or every subscription of a topic, page after page ($skip, $top).
func (c *azureServiceBusClient) list(ctx context.Context, kind azureServiceBusKind, what string, segments ...string) ([]azureServiceBusEntity, error) {
	var all []azureServiceBusEntity
	for page := 0; page < azureServiceBusMaxPages; page++ {
		q := url.Values{"$skip": {strconv.Itoa(len(all))}, "$top": {strconv.Itoa(azureServiceBusPageSize)}}
		u := azureServiceBusURL(c.ns.BaseURL, q, azureServiceBusPath(segments...)...)
		body, err := c.get(ctx, u, what)
		if err != nil {
			return nil, err
		}
		entities, err := parseAzureServiceBusFeed(body, kind)
		if err != nil {
			return nil, c.fail(u, fmt.Errorf("the answer is not a list of %ss (%w): check the Endpoint of the connection string", kind, err))
		}
		all = append(all, entities...)
		if len(entities) < azureServiceBusPageSize {
			return all, nil
		}
	}
	return nil, c.fail(azureServiceBusURL(c.ns.BaseURL, nil, azureServiceBusPath(segments...)...),
		fmt.Errorf("%s lists more than %d %ss: narrow the namespace or use one entity without useRegex", what, azureServiceBusPageSize*azureServiceBusMaxPages, kind))
}

// get makes a signed GET of u and returns a 200's body (at most maxResponseBytes). Errors name
// the trigger and the request, never the credential.
func (c *azureServiceBusClient) get(ctx context.Context, u *url.URL, what string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.http.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, c.fail(u, fmt.Errorf("could not build the request: %w", err))
	}
	resource := *u
	resource.RawQuery = ""
	req.Header.Set("Authorization", c.ns.Authorization(resource.String(), c.now()))
	resp, err := c.http.client.Do(req)
	if err != nil {
		return nil, c.fail(u, c.transportError(ctx, err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, c.fail(u, c.transportError(ctx, err))
	}
	if len(body) > maxResponseBytes {
		return nil, c.fail(u, fmt.Errorf("the answer is larger than %d MiB, which no management API answer to this request is: check the Endpoint of the connection string", maxResponseBytes>>20))
	}
	if resp.StatusCode != http.StatusOK {
		return nil, c.fail(u, azureServiceBusStatusError(resp.StatusCode, resp.Header, body, what))
	}
	return body, nil
}

// transportError words a failure to get an answer.
func (c *azureServiceBusClient) transportError(ctx context.Context, err error) error {
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || isNetTimeout(err):
		return fmt.Errorf("no answer within the trigger's timeout of %s: check the Endpoint of the connection string and that it is reachable from the operator: %w", c.http.timeout, err)
	case errors.As(err, &unknownCA) || errors.As(err, &hostErr) || errors.As(err, &certErr):
		return fmt.Errorf("the namespace's certificate is not trusted: the operator verifies it against the system's CAs and those of its --ca-dir: %w", err)
	default:
		return fmt.Errorf("could not reach the Service Bus namespace: check the Endpoint of the connection string and the operator's network: %w", err)
	}
}

// azureServiceBusError is the body of a management API answer outside 2xx.
type azureServiceBusError struct {
	XMLName xml.Name `xml:"Error"`
	Code    string   `xml:"Code"`
	Detail  string   `xml:"Detail"`
}

// azureServiceBusStatusError words an answer other than 200 with the service's Detail (without
// its TrackingId and timestamps) and what to check.
func azureServiceBusStatusError(code int, header http.Header, body []byte, what string) error {
	said := ""
	var e azureServiceBusError
	if xml.Unmarshal(body, &e) == nil {
		detail := strings.Join(strings.Fields(e.Detail), " ")
		if i := strings.Index(detail, "TrackingId:"); i >= 0 {
			detail = strings.TrimRight(strings.TrimSpace(detail[:i]), ",")
		}
		if detail != "" {
			said = " (" + meta.Clip(detail, 200) + ")"
		}
	}
	err := fmt.Errorf("the Service Bus namespace answered %d %s%s", code, http.StatusText(code), said)
	switch code {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("%w: it refused the credential: check SharedAccessKeyName and SharedAccessKey (or the SharedAccessSignature and its expiry) in the connection string; reading runtime properties takes a policy with Manage rights", err)
	case http.StatusNotFound:
		return fmt.Errorf("%w: %s does not exist in the namespace the connection string names", err, what)
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		wait := header.Get("Retry-After")
		if wait == "" {
			wait = "?"
		}
		return fmt.Errorf("%w: the namespace is throttling requests (rate limit), retry after %s s: raise pollingInterval", err, wait)
	}
	return err
}

// fail names the trigger and the request and removes every credential from err's text.
func (c *azureServiceBusClient) fail(u *url.URL, err error) error {
	return c.http.redactErr(fmt.Errorf("%s: GET %s: %w", triggerWho(c.cfg), u.Redacted(), err))
}
