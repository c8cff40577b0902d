package scalers

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
)

// The azure-queue and azure-blob triggers read an Azure Storage account through its REST API,
// signed with the account key (SharedKey) or carrying a shared access signature, as a connection
// string gives them. Speaking the REST API here rather than through the Azure SDK keeps three
// requests (queue metadata, peek, list blobs) on the operator's shared, bounded HTTP transport
// with our own error wording, instead of adding azcore, azblob and azqueue for them.

// azureStorageService is one of a storage account's services.
type azureStorageService string

const (
	azureBlobService  azureStorageService = "blob"
	azureQueueService azureStorageService = "queue"
)

// endpointKey is the connection string key that names the service's endpoint outright.
func (s azureStorageService) endpointKey() string {
	if s == azureBlobService {
		return "BlobEndpoint"
	}
	return "QueueEndpoint"
}

// azureStorageAPIVersion is the x-ms-version of every request: one that Azure Storage and Azurite
// both serve.
const azureStorageAPIVersion = "2021-12-02"

// azureStorageSuffixes are the storage suffixes of the clouds metadata.cloud names (case does not
// matter), as KEDA knows them.
var azureStorageSuffixes = map[string]string{
	"AZURECLOUD":             "core.windows.net",
	"AZUREPUBLICCLOUD":       "core.windows.net",
	"AZUREUSGOVERNMENT":      "core.usgovcloudapi.net",
	"AZUREUSGOVERNMENTCLOUD": "core.usgovcloudapi.net",
	"AZURECHINACLOUD":        "core.chinacloudapi.cn",
	"AZUREGERMANCLOUD":       "core.cloudapi.de",
}

// azureStorageEndpointSuffix is the host suffix of the service under metadata.cloud and
// metadata.endpointSuffix, as KEDA derives it: without cloud the public cloud's (endpointSuffix
// is then not read), with cloud Private endpointSuffix as written.
func azureStorageEndpointSuffix(cloud, endpointSuffix string, service azureStorageService) (string, error) {
	cloud = strings.TrimSpace(cloud)
	switch {
	case cloud == "":
		return string(service) + ".core.windows.net", nil
	case strings.EqualFold(cloud, "Private"):
		if endpointSuffix == "" {
			return "", &ParamError{Param: "endpointSuffix", Problem: "is required with cloud Private",
				Fix: "set the storage endpoint's host suffix, such as " + string(service) + ".core.example.net, or name a known cloud in metadata.cloud"}
		}
		return endpointSuffix, nil
	case strings.EqualFold(cloud, "AzureStackCloud"):
		// KEDA reads Azure Stack's environment from a file the operator's env names; this
		// operator has no such file.
		return "", &ParamError{Param: "cloud", Problem: "is AzureStackCloud, whose environment file this operator does not read",
			Fix: "use cloud Private with metadata.endpointSuffix set to the Azure Stack storage suffix"}
	}
	suffix, ok := azureStorageSuffixes[strings.ToUpper(cloud)]
	if !ok {
		return "", &ParamError{Param: "cloud", Problem: "is " + strconv.Quote(clip(cloud, 60)) + ", which is not a known Azure cloud",
			Fix: "use AzurePublicCloud, AzureUSGovernmentCloud, AzureChinaCloud, AzureGermanCloud, or Private with metadata.endpointSuffix"}
	}
	return string(service) + "." + suffix, nil
}

// azureStorageAccount is where one service of a storage account answers and the credential its
// requests carry: the account key, or a shared access signature.
type azureStorageAccount struct {
	serviceURL  *url.URL
	accountName string
	key         []byte
	sas         url.Values
	// secrets are the texts of the credential, removed from every error.
	secrets []string
}

// errAzureConnection is why a connection string was refused; it never quotes the string.
type errAzureConnection string

func (e errAzureConnection) Error() string { return string(e) }

// parseAzureStorageConnection reads a storage connection string as the Azure SDK does:
// semicolon-separated Key=Value pairs; the service's endpoint from BlobEndpoint or QueueEndpoint,
// else DefaultEndpointsProtocol (https), AccountName and EndpointSuffix (core.windows.net); the
// credential from AccountName with AccountKey, else SharedAccessSignature. No error quotes the
// string: it holds the key.
func parseAzureStorageConnection(conn string, service azureStorageService) (*azureStorageAccount, error) {
	pairs := map[string]string{}
	for _, part := range strings.Split(strings.TrimRight(conn, ";"), ";") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, errAzureConnection("a part has no '=' (the string is Key=Value pairs separated by ';')")
		}
		pairs[k] = v
	}
	account := &azureStorageAccount{accountName: pairs["AccountName"]}
	raw, explicit := pairs[service.endpointKey()]
	if !explicit {
		if account.accountName == "" {
			return nil, errAzureConnection("it names neither AccountName nor " + service.endpointKey())
		}
		scheme, ok := pairs["DefaultEndpointsProtocol"]
		if !ok {
			scheme = "https"
		}
		suffix, ok := pairs["EndpointSuffix"]
		if !ok {
			suffix = "core.windows.net"
		}
		raw = scheme + "://" + account.accountName + "." + string(service) + "." + suffix
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		what := "DefaultEndpointsProtocol, AccountName and EndpointSuffix do not make"
		if explicit {
			what = service.endpointKey() + " is not"
		}
		return nil, errAzureConnection(what + " an http(s) URL")
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		u.RawPath = ""
	}
	u.RawQuery, u.Fragment = "", ""
	account.serviceURL = u
	key, hasKey := pairs["AccountKey"]
	sas, hasSAS := pairs["SharedAccessSignature"]
	switch {
	case account.accountName != "" && hasKey:
		decoded, err := base64.StdEncoding.DecodeString(key)
		if err != nil || len(decoded) == 0 {
			return nil, errAzureConnection("AccountKey is not base64 (copy it whole from the account's Access keys)")
		}
		account.key = decoded
		account.secrets = []string{key, url.QueryEscape(key)}
	case hasSAS:
		q, err := url.ParseQuery(strings.TrimPrefix(sas, "?"))
		if err != nil || q.Get("sig") == "" {
			return nil, errAzureConnection("SharedAccessSignature is not a signed query string (it has no sig)")
		}
		account.sas = q
		account.secrets = []string{sas, q.Get("sig"), url.QueryEscape(q.Get("sig"))}
	default:
		return nil, errAzureConnection("it has neither AccountName with AccountKey nor SharedAccessSignature")
	}
	return account, nil
}

// resource is the URL of a resource under the service, each segment escaped, with query.
func (a *azureStorageAccount) resource(query url.Values, segments ...string) *url.URL {
	u := *a.serviceURL
	escaped := make([]string, len(segments))
	for i, s := range segments {
		escaped[i] = url.PathEscape(s)
	}
	u.RawPath = strings.TrimSuffix(a.serviceURL.EscapedPath(), "/") + "/" + strings.Join(escaped, "/")
	u.Path, _ = url.PathUnescape(u.RawPath)
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	for k, v := range a.sas {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	return &u
}

// sign sets the headers of a request for the account: its date and version and, with the
// account key, the SharedKey Authorization of a GET without body.
func (a *azureStorageAccount) sign(req *http.Request, now time.Time) {
	req.Header.Set("x-ms-date", now.UTC().Format(http.TimeFormat))
	req.Header.Set("x-ms-version", azureStorageAPIVersion)
	if a.key == nil {
		return
	}
	mac := hmac.New(sha256.New, a.key)
	mac.Write([]byte(azureSharedKeyString(req.Method, req.Header, req.URL, a.accountName)))
	req.Header.Set("Authorization", "SharedKey "+a.accountName+":"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
}

// azureSharedKeyString is the string a SharedKey signature signs (Azure Storage's "Authorize
// with Shared Key", the Blob, Queue and File form): the verb, twelve standard headers, the
// x-ms- headers sorted, and the resource as /account/path with its query parameters sorted.
func azureSharedKeyString(method string, h http.Header, u *url.URL, account string) string {
	var b strings.Builder
	b.WriteString(method + "\n")
	for _, name := range []string{"Content-Encoding", "Content-Language", "Content-Length", "Content-MD5", "Content-Type",
		"Date", "If-Modified-Since", "If-Match", "If-None-Match", "If-Unmodified-Since", "Range"} {
		v := h.Get(name)
		if name == "Content-Length" && v == "0" {
			v = ""
		}
		b.WriteString(v + "\n")
	}
	var msNames []string
	for name := range h {
		if lower := strings.ToLower(name); strings.HasPrefix(lower, "x-ms-") {
			msNames = append(msNames, lower)
		}
	}
	slices.Sort(msNames)
	for _, name := range msNames {
		b.WriteString(name + ":" + strings.TrimSpace(h.Get(name)) + "\n")
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	b.WriteString("/" + account + path)
	q := u.Query()
	names := make([]string, 0, len(q))
	byLower := map[string][]string{}
	for name, values := range q {
		lower := strings.ToLower(name)
		if _, seen := byLower[lower]; !seen {
			names = append(names, lower)
		}
		byLower[lower] = append(byLower[lower], values...)
	}
	slices.Sort(names)
	for _, name := range names {
		values := byLower[name]
		slices.Sort(values)
		b.WriteString("\n" + name + ":" + strings.Join(values, ","))
	}
	return b.String()
}

// azureStorageError is what Azure Storage says in the body of an answer outside 2xx.
type azureStorageError struct {
	XMLName xml.Name `xml:"Error"`
	Code    string   `xml:"Code"`
	Message string   `xml:"Message"`
}

// azureStorageClient makes one trigger's requests to its storage account.
type azureStorageClient struct {
	cfg     *Config
	account *azureStorageAccount
	http    *httpClient
	now     func() time.Time
}

// newAzureStorageClient reaches account over the transport every trigger shares (the TLS identity
// is the system's for all of them); the credential stays the trigger's own.
func newAzureStorageClient(cfg *Config, account *azureStorageAccount) *azureStorageClient {
	c := newHTTPClient(cfg, &httpAuthParams{}, &httpAuth{}, "connection", account.serviceURL, 0, false)
	c.secrets = append(c.secrets, account.secrets...)
	slices.SortFunc(c.secrets, func(a, b string) int { return len(b) - len(a) })
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
	c.account.sign(req, c.now())
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
		said = " (" + clip(strings.TrimSpace(azErr.Code), 80)
		if msg := strings.Join(strings.Fields(azErr.Message), " "); msg != "" && code != http.StatusForbidden && code != http.StatusUnauthorized {
			// Azure's message ends with a RequestId and Time line: the first line says it.
			msg, _, _ = strings.Cut(msg, " RequestId:")
			said += ": " + clip(msg, 200)
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
	if c.account.sas == nil {
		shown.RawQuery = u.RawQuery
	}
	return c.http.redactErr(fmt.Errorf("%s: GET %s: %w", triggerWho(c.cfg), shown.Redacted(), err))
}

// azureConnectionParams are the connection parameters both triggers share; KEDA names them the
// same in both and reads connection from a TriggerAuthentication, the metadata or an env var of
// the target (connectionFromEnv).
type azureConnectionParams struct {
	AccountName    string `keda:"name=accountName, order=triggerMetadata, optional"`
	EndpointSuffix string `keda:"name=endpointSuffix, order=triggerMetadata, optional"`
}

// azureStorageAccountFor checks metadata.cloud and the connection string of a trigger and returns
// the account it reaches, or nil offline when the string is yet to come from a
// TriggerAuthentication or an env var.
func azureStorageAccountFor(cfg *meta.Trigger, conn string, p *azureConnectionParams, service azureStorageService) (*azureStorageAccount, error) {
	perr := func(e *ParamError) error {
		e.TriggerIndex, e.TriggerType, e.TriggerName = cfg.Index, cfg.Type, cfg.Name
		return e
	}
	suffix, err := azureStorageEndpointSuffix(cfg.Metadata["cloud"], p.EndpointSuffix, service)
	if err != nil {
		var pe *ParamError
		if errors.As(err, &pe) {
			return nil, perr(pe)
		}
		return nil, err
	}
	p.EndpointSuffix = suffix
	if conn == "" {
		if cfg.Offline && (cfg.HasAuthenticationRef || strings.TrimSpace(cfg.Metadata["connectionFromEnv"]) != "") {
			return nil, nil
		}
		fix := "set parameter connection (the storage account's connection string) in a TriggerAuthentication (secretTargetRef), or metadata.connectionFromEnv naming an env var of the target's container that holds it"
		if p.AccountName != "" {
			fix += "; accountName alone is for KEDA's azure-workload pod identity, which this operator does not resolve, so no credential was found"
		}
		return nil, perr(&ParamError{Param: "connection", Problem: "is required", Fix: fix})
	}
	account, err := parseAzureStorageConnection(conn, service)
	if err != nil {
		return nil, perr(&ParamError{Param: "connection", Problem: "is not a storage connection string: " + err.Error(),
			Fix: "copy the connection string from the storage account's Access keys, such as DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...;EndpointSuffix=core.windows.net"})
	}
	account.secrets = append(account.secrets, conn)
	return account, nil
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
func newAzureStorageTrigger(cfg *Config, account *azureStorageAccount, metric string) (azureStorageTrigger, error) {
	if account == nil {
		return azureStorageTrigger{}, fmt.Errorf("%s: no connection string was found: set parameter connection in the TriggerAuthentication or metadata.connectionFromEnv", triggerWho(cfg))
	}
	return azureStorageTrigger{cfg: cfg, client: newAzureStorageClient(cfg, account), metricName: MetricName(cfg.TriggerIndex, metric)}, nil
}

func (t *azureStorageTrigger) Close(context.Context) error {
	t.client.close()
	return nil
}
