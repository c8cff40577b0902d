package meta

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// AzureServiceBusNamespace is where a Service Bus namespace's management API answers and the
// credential its requests carry: a shared access policy's key, which signs a token per request,
// or a shared access signature made beforehand.
type AzureServiceBusNamespace struct {
	// BaseURL is https://<Endpoint's host>/, as Microsoft's clients reach the management API
	// whatever the Endpoint's scheme (sb://).
	BaseURL *url.URL
	KeyName string
	Key     string
	// SAS is a whole "SharedAccessSignature sr=...&sig=...&se=...&skn=..." token.
	SAS string
	// Secrets are the texts of the credential, removed from every error.
	Secrets []string
}

// azureServiceBusTokenLifetime is how long a token signed for one request is valid.
const azureServiceBusTokenLifetime = time.Hour

// ParseAzureServiceBusConnection reads a Service Bus connection string as Microsoft's clients do:
// semicolon-separated Key=Value pairs, keys in any case; Endpoint's host (a port kept); the
// credential from SharedAccessKeyName with SharedAccessKey, or SharedAccessSignature. EntityPath is
// for clients of one entity and not read by the management API. No error quotes the string: it
// holds the key.
func ParseAzureServiceBusConnection(conn string) (*AzureServiceBusNamespace, error) {
	pairs := map[string]string{}
	for _, part := range strings.Split(conn, ";") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, errAzureConnection("a part has no '=' (the string is Key=Value pairs separated by ';')")
		}
		pairs[strings.ToLower(strings.TrimSpace(k))] = v
	}
	endpoint, ok := pairs["endpoint"]
	if !ok {
		return nil, errAzureConnection("it has no Endpoint")
	}
	u, err := url.Parse(strings.TrimSpace(endpoint))
	if err != nil || u.Host == "" {
		return nil, errAzureConnection("its Endpoint is not a URL with a host, such as sb://<namespace>.servicebus.windows.net/")
	}
	ns := &AzureServiceBusNamespace{BaseURL: &url.URL{Scheme: "https", Host: u.Host, Path: "/"}}
	name, hasName := pairs["sharedaccesskeyname"]
	key, hasKey := pairs["sharedaccesskey"]
	sas, hasSAS := pairs["sharedaccesssignature"]
	switch {
	case hasSAS:
		if !strings.HasPrefix(sas, "SharedAccessSignature ") || azureSASField(sas, "sig") == "" {
			return nil, errAzureConnection("its SharedAccessSignature is not a token such as SharedAccessSignature sr=...&sig=...&se=...&skn=...")
		}
		ns.SAS = sas
		sig := azureSASField(sas, "sig")
		ns.Secrets = []string{sas, sig}
		if plain, err := url.QueryUnescape(sig); err == nil {
			ns.Secrets = append(ns.Secrets, plain)
		}
	case !hasName || strings.TrimSpace(name) == "":
		return nil, errAzureConnection("it has no SharedAccessKeyName (nor SharedAccessSignature)")
	case !hasKey || key == "":
		return nil, errAzureConnection("it has no SharedAccessKey (nor SharedAccessSignature)")
	default:
		ns.KeyName, ns.Key = name, key
		ns.Secrets = []string{key, url.QueryEscape(key)}
	}
	ns.Secrets = append(ns.Secrets, conn)
	return ns, nil
}

// azureSASField is the raw value of field in a SharedAccessSignature token, "" without it.
func azureSASField(token, field string) string {
	for _, kv := range strings.Split(strings.TrimPrefix(token, "SharedAccessSignature "), "&") {
		if k, v, ok := strings.Cut(kv, "="); ok && k == field {
			return v
		}
	}
	return ""
}

// Authorization is the Authorization header of a request to resource (the entity's https URL,
// without a query): the connection string's token, or one signed now with the key, valid for an
// hour. As Microsoft documents for shared access signatures, it signs the URL-encoded resource
// (lower-cased, as Microsoft's clients send it), a newline and the expiry in Unix seconds with
// HMAC-SHA256 keyed by the key's text.
func (n *AzureServiceBusNamespace) Authorization(resource string, now time.Time) string {
	if n.SAS != "" {
		return n.SAS
	}
	sr := strings.ToLower(url.QueryEscape(resource))
	se := strconv.FormatInt(now.Add(azureServiceBusTokenLifetime).Unix(), 10)
	return "SharedAccessSignature sr=" + sr + "&sig=" + url.QueryEscape(AzureServiceBusSignature(n.Key, sr, se)) + "&se=" + se + "&skn=" + n.KeyName
}

// AzureServiceBusSignature is the base64 HMAC-SHA256, keyed by key's text, of the token's sr value
// as sent (URL-encoded), a newline and its se value.
func AzureServiceBusSignature(key, sr, se string) string {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(sr + "\n" + se))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
