package scalers

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
)

// The azure-queue and azure-blob triggers read an Azure Storage account through its REST API,
// signed with the account key (SharedKey) or carrying a shared access signature, as a connection
// string gives them. Speaking the REST API here rather than through the Azure SDK keeps three
// requests (queue metadata, peek, list blobs) on the operator's shared, bounded HTTP transport
// with our own error wording, instead of adding azcore, azblob and azqueue for them.

// azureStorageError is what Azure Storage says in the body of an answer outside 2xx.
type azureStorageError struct {
	XMLName xml.Name `xml:"Error"`
	Code    string   `xml:"Code"`
	Message string   `xml:"Message"`
}

// azureStorageClient makes one trigger's requests to its storage account.
type azureStorageClient struct {
	cfg     *Config
	account *meta.AzureStorageAccount
	http    *httpClient
	now     func() time.Time
}

// newAzureStorageClient reaches account over the transport every trigger shares (the TLS identity
// is the system's for all of them); the credential stays the trigger's own.
func newAzureStorageClient(cfg *Config, account *meta.AzureStorageAccount) *azureStorageClient {
	c := newSigningHTTPClient(cfg, "connection", account.ServiceURL, account.Secrets)
	return &azureStorageClient{cfg: cfg, account: account, http: c, now: time.Now}
}

func (c *azureStorageClient) close() { c.http.close() }

// azureStorageNotFound is a 404: the queue or the container does not exist.
type azureStorageNotFound struct{ err error }

func (e *azureStorageNotFound) Error() string { return e.err.Error() }
func (e *azureStorageNotFound) Unwrap() error { return e.err }

// get makes a signed GET of u and returns the answer's headers and body (at most
// maxResponseBytes). Errors name the trigger and the request, never the credential.
func (c *azureStorageClient) get(ctx context.Context, u *url.URL, what string) (http.Header, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.http.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, c.fail(u, fmt.Errorf("could not build the request: %w", err))
	}
	c.account.Sign(req, c.now())
	resp, err := c.http.client.Do(req)
	if err != nil {
		return nil, nil, c.fail(u, c.transportError(ctx, err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, nil, c.fail(u, c.transportError(ctx, err))
	}
	if len(body) > maxResponseBytes {
		return nil, nil, c.fail(u, fmt.Errorf("the answer is larger than %d MiB, which no Azure Storage answer to this request is: check the endpoint of the connection string", maxResponseBytes>>20))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, nil, c.statusError(u, resp.StatusCode, body, what)
	}
	return resp.Header, body, nil
}

// transportError words a failure to get an answer.
func (c *azureStorageClient) transportError(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || isNetTimeout(err) {
		return fmt.Errorf("no answer within the trigger's timeout of %s: check the storage endpoint of the connection string and that it is reachable from the operator: %w", c.http.timeout, err)
	}
	return fmt.Errorf("could not reach the storage account: check the endpoint of the connection string (AccountName and EndpointSuffix, or %s) and the operator's network: %w",
		"BlobEndpoint/QueueEndpoint", err)
}

// statusError words an answer outside 2xx with Azure's error code and what to check. The
// message of an authentication failure is left out: it quotes the request's signature.
func (c *azureStorageClient) statusError(u *url.URL, code int, body []byte, what string) error {
	var azErr azureStorageError
	_ = xml.Unmarshal(body, &azErr)
	said := ""
	if azErr.Code != "" {
		said = " (" + meta.Clip(strings.TrimSpace(azErr.Code), 80)
		if msg := strings.Join(strings.Fields(azErr.Message), " "); msg != "" && code != http.StatusForbidden && code != http.StatusUnauthorized {
			// Azure's message ends with a RequestId and Time line: the first line says it.
			msg, _, _ = strings.Cut(msg, " RequestId:")
			said += ": " + meta.Clip(msg, 200)
		}
		said += ")"
	}
	e := fmt.Errorf("the storage account answered %d %s%s", code, http.StatusText(code), said)
	switch code {
	case http.StatusUnauthorized, http.StatusForbidden:
		e = fmt.Errorf("%w: the credential was refused: check AccountName and AccountKey (or the SharedAccessSignature, its permissions and expiry) in the connection string", e)
	case http.StatusNotFound:
		return &azureStorageNotFound{err: c.fail(u, fmt.Errorf("%w: %s does not exist in the account the connection string names", e, what))}
	}
	return c.fail(u, e)
}

// fail names the trigger and the request (without its query: a SAS is there) and removes every
// credential from err's text.
func (c *azureStorageClient) fail(u *url.URL, err error) error {
	shown := *u
	shown.RawQuery = ""
	if c.account.Sas == nil {
		shown.RawQuery = u.RawQuery
	}
	return c.http.redactErr(fmt.Errorf("%s: GET %s: %w", triggerWho(c.cfg), shown.Redacted(), err))
}

// azureStorageTrigger is what the azure-queue and azure-blob scalers share: their config, the
// client of the storage account and the metric's name.
type azureStorageTrigger struct {
	cfg        *Config
	client     *azureStorageClient
	metricName string
}

// newAzureStorageTrigger refuses a trigger without an account (no connection string was found)
// and names its metric s<index>-<metric>.
func newAzureStorageTrigger(cfg *Config, account *meta.AzureStorageAccount, metric string) (azureStorageTrigger, error) {
	if account == nil {
		return azureStorageTrigger{}, fmt.Errorf("%s: no connection string was found: set parameter connection in the TriggerAuthentication or metadata.connectionFromEnv", triggerWho(cfg))
	}
	return azureStorageTrigger{cfg: cfg, client: newAzureStorageClient(cfg, account), metricName: MetricName(cfg.TriggerIndex, metric)}, nil
}

func (t *azureStorageTrigger) Close(context.Context) error {
	t.client.close()
	return nil
}
