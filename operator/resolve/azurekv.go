package resolve

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// azureKeyVaultAPIVersion is the Key Vault REST API version of the requests.
const azureKeyVaultAPIVersion = "7.4"

// azureClouds are the Microsoft Entra authority and the Key Vault resource of each named cloud.
var azureClouds = map[string]struct{ authority, resource string }{
	"azurepubliccloud":       {"https://login.microsoftonline.com/", "https://vault.azure.net"},
	"azureusgovernmentcloud": {"https://login.microsoftonline.us/", "https://vault.usgovcloudapi.net"},
	"azurechinacloud":        {"https://login.chinacloudapi.cn/", "https://vault.azure.cn"},
}

// AzureKeyVault reads the secrets of spec.azureKeyVault through Key Vault's REST API with a
// Microsoft Entra token of the client credentials grant (a service principal's secret, or the
// federated token of azure-workload identity). Values are read again at every resolve; tokens are
// kept per identity until they near their expiry.
type AzureKeyVault struct {
	// Timeout bounds each request; 10s when zero.
	Timeout time.Duration
	// Getenv reads the operator's environment (the AZURE_* variables of workload identity);
	// os.Getenv when nil.
	Getenv func(string) string

	once   sync.Once
	client *http.Client
	tokens pool[oauth2.TokenSource]
}

// azureIdentity is whom a token is for.
type azureIdentity struct {
	authority, resource        string
	tenantID, clientID, secret string
	// federatedTokenFile is set for azure-workload, instead of secret.
	federatedTokenFile string
}

func (a *AzureKeyVault) getenv(k string) string {
	if a.Getenv != nil {
		return a.Getenv(k)
	}
	return os.Getenv(k)
}

func (a *AzureKeyVault) httpClient() *http.Client {
	a.once.Do(func() {
		timeout := a.Timeout
		if timeout <= 0 {
			timeout = 10 * time.Second
		}
		a.client = &http.Client{Timeout: timeout, Transport: http.DefaultTransport.(*http.Transport).Clone()}
	})
	return a.client
}

// azureIdentityOf reads spec's cloud and credentials: a service principal whose secret is in a
// Secret, or for podIdentity azure-workload the operator's federated token.
func (r *Resolver) azureIdentityOf(ctx context.Context, objNamespace string, spec *kedav1alpha1.AzureKeyVault) (azureIdentity, error) {
	var id azureIdentity
	cloud := spec.Cloud
	switch {
	case cloud == nil || cloud.Type == "":
		c := azureClouds["azurepubliccloud"]
		id.authority, id.resource = c.authority, c.resource
	case strings.EqualFold(cloud.Type, "Private"):
		if cloud.ActiveDirectoryEndpoint == "" || cloud.KeyVaultResourceURL == "" {
			return id, fmt.Errorf("cloud: type Private needs cloud.activeDirectoryEndpoint and cloud.keyVaultResourceURL")
		}
		id.authority, id.resource = cloud.ActiveDirectoryEndpoint, cloud.KeyVaultResourceURL
	default:
		c, ok := azureClouds[strings.ToLower(cloud.Type)]
		if !ok {
			return id, fmt.Errorf("cloud.type %q is not known: use AzurePublicCloud, AzureUSGovernmentCloud, AzureChinaCloud or Private", cloud.Type)
		}
		id.authority, id.resource = c.authority, c.resource
	}
	if err := checkSecureURL(id.authority); err != nil {
		return id, fmt.Errorf("cloud.activeDirectoryEndpoint: %w", err)
	}
	provider := ""
	if spec.PodIdentity != nil {
		provider = spec.PodIdentity.Provider
	}
	switch provider {
	case "", "none":
		c := spec.Credentials
		if c == nil || c.ClientSecret == nil || c.ClientID == "" || c.TenantID == "" {
			return id, fmt.Errorf("credentials: set credentials.clientId, credentials.tenantId and credentials.clientSecret (valueFrom.secretKeyRef), or podIdentity.provider azure-workload")
		}
		secret, err := r.secretValue(ctx, objNamespace, c.ClientSecret)
		if err != nil {
			return id, fmt.Errorf("credentials.clientSecret: %w", err)
		}
		if secret == "" {
			return id, fmt.Errorf("credentials.clientSecret: the Secret key is empty")
		}
		id.tenantID, id.clientID, id.secret = c.TenantID, c.ClientID, secret
	case kedav1alpha1.PodIdentityProviderAzureWorkload:
		return r.Azure.workloadIdentity(id, spec.PodIdentity)
	default:
		return id, fmt.Errorf("podIdentity.provider %q is not supported for azureKeyVault: use azure-workload, or none with credentials", provider)
	}
	return id, nil
}

// workloadIdentity fills id from the operator's azure-workload environment (the variables the
// Azure Workload Identity webhook injects), overridden by the podIdentity's own settings.
func (a *AzureKeyVault) workloadIdentity(id azureIdentity, pi *kedav1alpha1.AuthPodIdentity) (azureIdentity, error) {
	pick := func(p *string, env string) string {
		if p != nil && *p != "" {
			return *p
		}
		return a.getenv(env)
	}
	id.clientID = pick(pi.IdentityID, "AZURE_CLIENT_ID")
	id.tenantID = pick(pi.IdentityTenantID, "AZURE_TENANT_ID")
	if host := pick(pi.IdentityAuthorityHost, "AZURE_AUTHORITY_HOST"); host != "" {
		id.authority = host
	}
	id.federatedTokenFile = a.getenv("AZURE_FEDERATED_TOKEN_FILE")
	if id.clientID == "" || id.tenantID == "" || id.federatedTokenFile == "" {
		return id, fmt.Errorf("podIdentity azure-workload: the operator has no workload identity (AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE): label the operator's pod for Azure Workload Identity, or use credentials")
	}
	if err := checkSecureURL(id.authority); err != nil {
		return id, fmt.Errorf("podIdentity.identityAuthorityHost: %w", err)
	}
	return id, nil
}

// checkSecureURL refuses a URL a token or a secret would travel over in clear: https, or http to
// this host only (the local fakes of the tests).
func checkSecureURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not a URL: use https://host/", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
	}
	return fmt.Errorf("%q must be an https:// URL: credentials would travel in clear", raw)
}

// Resolve reads every secret of spec as id.
func (a *AzureKeyVault) Resolve(ctx context.Context, id azureIdentity, spec *kedav1alpha1.AzureKeyVault) (map[string]string, error) {
	if err := checkSecureURL(spec.VaultURI); err != nil {
		return nil, fmt.Errorf("vaultUri: %w", err)
	}
	ts, err := a.tokenSource(id)
	if err != nil {
		return nil, err
	}
	tok, err := ts.Token()
	if err != nil {
		return nil, fmt.Errorf("failed to get a Microsoft Entra token for %s (tenant %s, client %s): %w", id.resource, id.tenantID, id.clientID, tokenErr(err))
	}
	out := make(map[string]string, len(spec.Secrets))
	for i, s := range spec.Secrets {
		v, err := a.read(ctx, tok.AccessToken, spec.VaultURI, s.Name, s.Version)
		if err != nil {
			return nil, fmt.Errorf("secrets[%d] (parameter %s): secret %q: %w", i, s.Parameter, s.Name, err)
		}
		out[s.Parameter] = v
	}
	return out, nil
}

// tokenErr keeps what says why a token was refused: the token endpoint's error code and
// description, not the whole answer.
func tokenErr(err error) error {
	if re, ok := err.(*oauth2.RetrieveError); ok {
		code, desc := re.ErrorCode, re.ErrorDescription
		if code == "" {
			// Not every token source parses RFC 6749's error body (x/oauth2/jwt does not).
			var body struct {
				Error            string `json:"error"`
				ErrorDescription string `json:"error_description"`
			}
			_ = json.Unmarshal(re.Body, &body)
			code, desc = body.Error, body.ErrorDescription
		}
		desc, _, _ = strings.Cut(desc, "\r\n")
		return fmt.Errorf("status %d %s: %s", re.Response.StatusCode, code, clipText(desc, 300))
	}
	return err
}

func clipText(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// read GETs one secret version ("" is the latest) from the vault.
func (a *AzureKeyVault) read(ctx context.Context, token, vaultURI, name, version string) (string, error) {
	u := strings.TrimSuffix(vaultURI, "/") + "/secrets/" + url.PathEscape(name)
	if version != "" {
		u += "/" + url.PathEscape(version)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u+"?api-version="+azureKeyVaultAPIVersion, nil)
	if err != nil {
		return "", fmt.Errorf("vaultUri: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := a.httpClient().Do(req)
	if err != nil {
		return "", fmt.Errorf("failed to reach the vault: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("failed to read the vault's answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		hint := ""
		switch resp.StatusCode {
		case http.StatusNotFound:
			hint = " (check the secret's name and version in spec.azureKeyVault.secrets, and vaultUri)"
		case http.StatusUnauthorized, http.StatusForbidden:
			hint = " (grant the service principal get on secrets in the vault's access policy or RBAC, and check cloud)"
		}
		return "", fmt.Errorf("the vault answered %d %s: %s%s", resp.StatusCode, e.Error.Code, clipText(e.Error.Message, 300), hint)
	}
	var bundle struct {
		Value *string `json:"value"`
	}
	if err := json.Unmarshal(body, &bundle); err != nil || bundle.Value == nil {
		return "", fmt.Errorf("the vault's answer has no secret value")
	}
	return *bundle.Value, nil
}

// tokenSource returns the identity's token source, which keeps its token until near its expiry.
func (a *AzureKeyVault) tokenSource(id azureIdentity) (oauth2.TokenSource, error) {
	parts := []string{id.authority, id.resource, id.tenantID, id.clientID, id.secret, id.federatedTokenFile}
	return a.tokens.get(parts, func() (oauth2.TokenSource, func(), error) {
		tokenURL := strings.TrimSuffix(id.authority, "/") + "/" + url.PathEscape(id.tenantID) + "/oauth2/v2.0/token"
		conf := clientcredentials.Config{ClientID: id.clientID, ClientSecret: id.secret, TokenURL: tokenURL,
			Scopes: []string{strings.TrimSuffix(id.resource, "/") + "/.default"}, AuthStyle: oauth2.AuthStyleInParams}
		// The token source outlives the resolve that made it: its requests are bounded by the
		// HTTP client's timeout rather than by that resolve's context.
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, a.httpClient())
		if id.federatedTokenFile == "" {
			return conf.TokenSource(ctx), nil, nil
		}
		// The federated token is rotated on disk by the kubelet: read it for each new token.
		fresh := tokenFunc(func() (*oauth2.Token, error) {
			assertion, err := os.ReadFile(id.federatedTokenFile)
			if err != nil {
				return nil, fmt.Errorf("failed to read the federated token file: %w", err)
			}
			c := conf
			c.EndpointParams = url.Values{
				"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
				"client_assertion":      {strings.TrimSpace(string(assertion))},
			}
			return c.Token(ctx)
		})
		return oauth2.ReuseTokenSource(nil, fresh), nil, nil
	})
}

// tokenFunc is a function as an oauth2.TokenSource.
type tokenFunc func() (*oauth2.Token, error)

func (f tokenFunc) Token() (*oauth2.Token, error) { return f() }
