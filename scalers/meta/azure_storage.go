package meta

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// AzureStorageService is one of a storage account's services.
type AzureStorageService string

const (
	AzureBlobService  AzureStorageService = "blob"
	AzureQueueService AzureStorageService = "queue"
)

// endpointKey is the connection string key that names the service's endpoint outright.
func (s AzureStorageService) endpointKey() string {
	if s == AzureBlobService {
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
func azureStorageEndpointSuffix(cloud, endpointSuffix string, service AzureStorageService) (string, error) {
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
		return "", &ParamError{Param: "cloud", Problem: "is " + Quote(cloud, 60) + ", which is not a known Azure cloud",
			Fix: "use AzurePublicCloud, AzureUSGovernmentCloud, AzureChinaCloud, AzureGermanCloud, or Private with metadata.endpointSuffix"}
	}
	return string(service) + "." + suffix, nil
}

// AzureStorageAccount is where one service of a storage account answers and the credential its
// requests carry: the account key, or a shared access signature.
type AzureStorageAccount struct {
	ServiceURL  *url.URL
	AccountName string
	Key         []byte
	Sas         url.Values
	// Secrets are the texts of the credential, removed from every error.
	Secrets []string
}

// errAzureConnection is why a connection string was refused; it never quotes the string.
type errAzureConnection string

func (e errAzureConnection) Error() string { return string(e) }

// ParseAzureStorageConnection reads a storage connection string as the Azure SDK does:
// semicolon-separated Key=Value pairs; the service's endpoint from BlobEndpoint or QueueEndpoint,
// else DefaultEndpointsProtocol (https), AccountName and EndpointSuffix (core.windows.net); the
// credential from AccountName with AccountKey, else SharedAccessSignature. No error quotes the
// string: it holds the key.
func ParseAzureStorageConnection(conn string, service AzureStorageService) (*AzureStorageAccount, error) {
	pairs := map[string]string{}
	for _, part := range strings.Split(strings.TrimRight(conn, ";"), ";") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, errAzureConnection("a part has no '=' (the string is Key=Value pairs separated by ';')")
		}
		pairs[k] = v
	}
	account := &AzureStorageAccount{AccountName: pairs["AccountName"]}
	raw, explicit := pairs[service.endpointKey()]
	if !explicit {
		if account.AccountName == "" {
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
		raw = scheme + "://" + account.AccountName + "." + string(service) + "." + suffix
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
	account.ServiceURL = u
	key, hasKey := pairs["AccountKey"]
	sas, hasSAS := pairs["SharedAccessSignature"]
	switch {
	case account.AccountName != "" && hasKey:
		decoded, err := base64.StdEncoding.DecodeString(key)
		if err != nil || len(decoded) == 0 {
			return nil, errAzureConnection("AccountKey is not base64 (copy it whole from the account's Access keys)")
		}
		account.Key = decoded
		account.Secrets = []string{key, url.QueryEscape(key)}
	case hasSAS:
		q, err := url.ParseQuery(strings.TrimPrefix(sas, "?"))
		if err != nil || q.Get("sig") == "" {
			return nil, errAzureConnection("SharedAccessSignature is not a signed query string (it has no sig)")
		}
		account.Sas = q
		account.Secrets = []string{sas, q.Get("sig"), url.QueryEscape(q.Get("sig"))}
	default:
		return nil, errAzureConnection("it has neither AccountName with AccountKey nor SharedAccessSignature")
	}
	return account, nil
}

// Resource is the URL of a resource under the service, each segment escaped, with query.
func (a *AzureStorageAccount) Resource(query url.Values, segments ...string) *url.URL {
	u := *a.ServiceURL
	escaped := make([]string, len(segments))
	for i, s := range segments {
		escaped[i] = url.PathEscape(s)
	}
	u.RawPath = strings.TrimSuffix(a.ServiceURL.EscapedPath(), "/") + "/" + strings.Join(escaped, "/")
	u.Path, _ = url.PathUnescape(u.RawPath)
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	for k, v := range a.Sas {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	return &u
}

// Sign sets the headers of a request for the account: its date and version and, with the
// account key, the SharedKey Authorization of a GET without body.
func (a *AzureStorageAccount) Sign(req *http.Request, now time.Time) {
	req.Header.Set("x-ms-date", now.UTC().Format(http.TimeFormat))
	req.Header.Set("x-ms-version", azureStorageAPIVersion)
	if a.Key == nil {
		return
	}
	mac := hmac.New(sha256.New, a.Key)
	mac.Write([]byte(AzureSharedKeyString(req.Method, req.Header, req.URL, a.AccountName)))
	req.Header.Set("Authorization", "SharedKey "+a.AccountName+":"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
}

// AzureSharedKeyString is the string a SharedKey signature signs (Azure Storage's "Authorize
// with Shared Key", the Blob, Queue and File form): the verb, twelve standard headers, the
// x-ms- headers sorted, and the resource as /account/path with its query parameters sorted.
func AzureSharedKeyString(method string, h http.Header, u *url.URL, account string) string {
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
func azureStorageAccountFor(cfg *Trigger, conn string, p *azureConnectionParams, service AzureStorageService) (*AzureStorageAccount, error) {
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
	account, err := ParseAzureStorageConnection(conn, service)
	if err != nil {
		return nil, perr(&ParamError{Param: "connection", Problem: "is not a storage connection string: " + err.Error(),
			Fix: "copy the connection string from the storage account's Access keys, such as DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...;EndpointSuffix=core.windows.net"})
	}
	account.Secrets = append(account.Secrets, conn)
	return account, nil
}
