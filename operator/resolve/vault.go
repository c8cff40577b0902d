package resolve

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// DefaultVaultTokenPath is the ServiceAccount token file that kubernetes authentication to Vault
// reads when the authentication names no credential, where KEDA 2.21's chart projects it.
const DefaultVaultTokenPath = "/var/run/secrets/keda-vault/token"

// Vault reads the secrets of spec.hashiCorpVault. Values are read again on every resolve, so a
// secret changed in Vault reaches the scaler at the next resync without a restart. What is kept
// between resolves is only what would otherwise cost Vault work or churn the scaler: the Vault
// token of a kubernetes login (a login per resync would mint a Vault token each time) and PKI
// certificates (a new certificate per resync would rebuild the scaler each time); both until a
// third of their lifetime is left.
type Vault struct {
	// Tokens requests the ServiceAccount tokens of credential.serviceAccountName.
	Tokens *Tokens
	// Audience is the audience of those tokens; the Vault role's audience must match it (KEDA 2.21
	// uses "vault"). Empty requests the apiserver's own audience, a token that could also be used
	// against the Kubernetes API.
	Audience string
	// DefaultTokenPath is read for kubernetes authentication without credential; DefaultVaultTokenPath
	// when empty.
	DefaultTokenPath string
	// Timeout bounds each request to Vault; 10s when zero.
	Timeout time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	mu     sync.Mutex
	logins map[string]expiring
	pki    map[string]pkiResult
	// clients holds one Vault client per address, namespace and authentication (keyed by an
	// HMAC under clientKey, so no token is kept in clear as a key), all on httpClient, so that a
	// resync of many TriggerAuthentications reuses connections instead of opening new ones.
	clients    map[string]*vaultClient
	clientKey  []byte
	httpClient *http.Client
}

// vaultClient is a client kept between resolves, dropped when unused for vaultClientIdle.
type vaultClient struct {
	client *vaultapi.Client
	used   time.Time
}

// vaultClientIdle is how long a client is kept unused: a TriggerAuthentication resolves at
// every resync, far more often; one deleted leaves nothing behind after that.
const vaultClientIdle = 15 * time.Minute

type expiring struct {
	value   string
	expires time.Time
}

type pkiResult struct {
	data    map[string]any
	expires time.Time
}

func (v *Vault) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// Resolve returns the parameters of spec.hashiCorpVault. namespace is that of the scaled object.
func (v *Vault) Resolve(ctx context.Context, namespace string, spec *kedav1alpha1.HashiCorpVault) (map[string]string, error) {
	client, err := v.client(namespace, spec)
	if err != nil {
		return nil, err
	}
	loginKey, err := v.authenticate(ctx, client, namespace, spec, false)
	if err != nil {
		return nil, err
	}
	out, err := v.readAll(ctx, client, spec)
	var re *vaultapi.ResponseError
	if loginKey != "" && errors.As(err, &re) && re.StatusCode == http.StatusForbidden {
		// The cached Vault token was revoked or expired early: log in again, once.
		v.forget(loginKey)
		if _, err = v.authenticate(ctx, client, namespace, spec, true); err != nil {
			return nil, err
		}
		out, err = v.readAll(ctx, client, spec)
	}
	return out, err
}

// client returns the Vault client of spec's address, namespace and authentication, made at the
// first resolve that needs it. Resolves of the same identity share it: they set it the same
// token (a kubernetes login's is cached per identity too), and its calls are safe for
// concurrent use.
func (v *Vault) client(namespace string, spec *kedav1alpha1.HashiCorpVault) (*vaultapi.Client, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.clients == nil {
		v.clients = map[string]*vaultClient{}
		v.clientKey = make([]byte, 32)
		// crypto/rand.Read does not fail on supported platforms.
		_, _ = rand.Read(v.clientKey)
		// DefaultConfig's client: the transport Vault's library sets up (pooled, HTTP/2, and
		// the TLS settings of VAULT_CACERT and the like, as each client read them before), made
		// once for every client instead of once per resolve.
		def := vaultapi.DefaultConfig()
		if def.Error != nil {
			return nil, fmt.Errorf("failed to set up the Vault HTTP client: %w", def.Error)
		}
		v.httpClient = def.HttpClient
	}
	now := v.now()
	for k, c := range v.clients {
		if now.Sub(c.used) > vaultClientIdle {
			delete(v.clients, k)
		}
	}
	key := v.clientIdentity(namespace, spec)
	if c, ok := v.clients[key]; ok {
		c.used = now
		return c.client, nil
	}
	timeout := v.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	// Not DefaultConfig's other settings: it reads VAULT_* variables of the operator's
	// environment (address, token, namespace), which must not change what an authentication
	// object means.
	cfg := &vaultapi.Config{Address: spec.Address, Timeout: timeout, MaxRetries: 1, HttpClient: v.httpClient}
	client, err := vaultapi.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("address %s: %w", spec.Address, err)
	}
	client.ClearToken() // NewClient takes VAULT_TOKEN from the environment
	client.ClearNamespace()
	if spec.Namespace != "" {
		client.SetNamespace(spec.Namespace)
	}
	v.clients[key] = &vaultClient{client: client, used: now}
	return client, nil
}

// clientIdentity is everything a client's requests depend on: where, in which Vault namespace,
// and as whom (the token, or the kubernetes login's mount, role and ServiceAccount), hashed.
func (v *Vault) clientIdentity(namespace string, spec *kedav1alpha1.HashiCorpVault) string {
	mac := hmac.New(sha256.New, v.clientKey)
	parts := []string{spec.Address, spec.Namespace, spec.Authentication, spec.Mount, spec.Role}
	if c := spec.Credential; c != nil {
		parts = append(parts, c.Token, c.ServiceAccount, c.ServiceAccountName)
		if c.ServiceAccountName != "" {
			// The ServiceAccount is the scaled object's namespace's.
			parts = append(parts, namespace)
		}
	}
	for _, p := range parts {
		// Length-prefixed, so that no two lists of parts write the same bytes.
		fmt.Fprintf(mac, "%d:%s", len(p), p)
	}
	return hex.EncodeToString(mac.Sum(nil))
}

// authenticate sets the client's Vault token. For kubernetes authentication it returns the key of
// the cached login, so that a refused read can drop it.
func (v *Vault) authenticate(ctx context.Context, client *vaultapi.Client, namespace string, spec *kedav1alpha1.HashiCorpVault, fresh bool) (string, error) {
	switch spec.Authentication {
	case "token":
		client.SetToken(spec.Credential.Token)
		return "", nil
	case "kubernetes":
	default:
		return "", fmt.Errorf("authentication %q is not supported: use token or kubernetes", spec.Authentication)
	}
	source, jwt := "", func(context.Context) (string, error) { return "", nil }
	cred := spec.Credential
	switch {
	case cred != nil && cred.ServiceAccountName != "":
		if v.Tokens == nil {
			return "", fmt.Errorf("credential.serviceAccountName: ServiceAccount tokens are not available in this operator")
		}
		source = "sa:" + namespace + "/" + cred.ServiceAccountName
		jwt = func(ctx context.Context) (string, error) {
			t, err := v.Tokens.TokenFor(ctx, namespace, cred.ServiceAccountName, v.Audience)
			if err != nil {
				return "", fmt.Errorf("credential.serviceAccountName: %w", err)
			}
			return t, nil
		}
	default:
		path := v.DefaultTokenPath
		if path == "" {
			path = DefaultVaultTokenPath
		}
		if cred != nil && cred.ServiceAccount != "" {
			path = cred.ServiceAccount
		}
		source = "file:" + path
		jwt = func(context.Context) (string, error) {
			data, err := os.ReadFile(path)
			if err != nil {
				return "", fmt.Errorf("credential.serviceAccount: failed to read the ServiceAccount token file: %w", err)
			}
			return strings.TrimSpace(string(data)), nil
		}
	}
	key := strings.Join([]string{spec.Address, spec.Namespace, spec.Mount, spec.Role, source}, "\x00")
	if !fresh {
		v.mu.Lock()
		cached, ok := v.logins[key]
		v.mu.Unlock()
		if ok && v.now().Before(cached.expires) {
			client.SetToken(cached.value)
			return key, nil
		}
	}
	token, err := jwt(ctx)
	if err != nil {
		return "", err
	}
	mount := strings.Trim(spec.Mount, "/")
	secret, err := client.Logical().WriteWithContext(ctx, "auth/"+mount+"/login", map[string]any{"role": spec.Role, "jwt": token})
	if err != nil {
		return "", fmt.Errorf("failed to log in to %s with the kubernetes auth method at auth/%s as role %q: %w", spec.Address, mount, spec.Role, err)
	}
	if secret == nil || secret.Auth == nil || secret.Auth.ClientToken == "" {
		return "", fmt.Errorf("logging in to %s at auth/%s as role %q returned no Vault token", spec.Address, mount, spec.Role)
	}
	client.SetToken(secret.Auth.ClientToken)
	lease := time.Duration(secret.Auth.LeaseDuration) * time.Second
	if lease > 0 {
		v.mu.Lock()
		if v.logins == nil {
			v.logins = map[string]expiring{}
		}
		v.logins[key] = expiring{value: secret.Auth.ClientToken, expires: v.now().Add(lease * 2 / 3)}
		v.mu.Unlock()
	}
	return key, nil
}

func (v *Vault) forget(key string) {
	v.mu.Lock()
	delete(v.logins, key)
	v.mu.Unlock()
}

// readAll reads each distinct (type, path, pkiData) once and picks every parameter's key from it.
func (v *Vault) readAll(ctx context.Context, client *vaultapi.Client, spec *kedav1alpha1.HashiCorpVault) (map[string]string, error) {
	type group struct {
		typ, path string
		pki       kedav1alpha1.VaultPkiData
	}
	fetched := map[group]map[string]any{}
	out := make(map[string]string, len(spec.Secrets))
	for _, s := range spec.Secrets {
		g := group{s.Type, strings.TrimPrefix(s.Path, "/"), s.PkiData}
		data, ok := fetched[g]
		if !ok {
			var err error
			if s.Type == "pki" {
				data, err = v.issue(ctx, client, spec, g.path, s.PkiData)
			} else {
				data, err = read(ctx, client, g.path)
			}
			if err != nil {
				return nil, fmt.Errorf("secrets parameter %s: %w", s.Parameter, err)
			}
			fetched[g] = data
		}
		value, err := pick(s.Type, data, s.Key)
		if err != nil {
			return nil, fmt.Errorf("secrets parameter %s: path %s: %w", s.Parameter, g.path, err)
		}
		out[s.Parameter] = value
	}
	return out, nil
}

func read(ctx context.Context, client *vaultapi.Client, path string) (map[string]any, error) {
	secret, err := client.Logical().ReadWithContext(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", path, err)
	}
	if secret == nil || secret.Data == nil {
		return nil, fmt.Errorf("Vault has no secret at %s: check the path (a KV version 2 engine reads at <mount>/data/<name>)", path)
	}
	return secret.Data, nil
}

// issue asks the PKI engine at path for a certificate, or returns the one issued before while a
// third of its lifetime is left.
func (v *Vault) issue(ctx context.Context, client *vaultapi.Client, spec *kedav1alpha1.HashiCorpVault, path string, p kedav1alpha1.VaultPkiData) (map[string]any, error) {
	key := strings.Join([]string{spec.Address, spec.Namespace, path, p.CommonName, p.AltNames, p.IPSans, p.URISans, p.OtherSans, p.TTL, p.Format}, "\x00")
	v.mu.Lock()
	cached, ok := v.pki[key]
	v.mu.Unlock()
	if ok && v.now().Before(cached.expires) {
		return cached.data, nil
	}
	req := map[string]any{}
	for name, val := range map[string]string{"common_name": p.CommonName, "alt_names": p.AltNames, "ip_sans": p.IPSans,
		"uri_sans": p.URISans, "other_sans": p.OtherSans, "ttl": p.TTL, "format": p.Format} {
		if val != "" {
			req[name] = val
		}
	}
	secret, err := client.Logical().WriteWithContext(ctx, path, req)
	if err != nil {
		return nil, fmt.Errorf("failed to issue a certificate at %s: %w", path, err)
	}
	if secret == nil || secret.Data == nil {
		return nil, fmt.Errorf("Vault issued no certificate at %s", path)
	}
	now := v.now()
	expires := now
	if exp, ok := secret.Data["expiration"]; ok {
		if sec, err := strconv.ParseInt(fmt.Sprint(exp), 10, 64); err == nil {
			expires = now.Add(time.Unix(sec, 0).Sub(now) * 2 / 3)
		}
	}
	v.mu.Lock()
	if v.pki == nil {
		v.pki = map[string]pkiResult{}
	}
	v.pki[key] = pkiResult{data: secret.Data, expires: expires}
	v.mu.Unlock()
	return secret.Data, nil
}

// pick takes key from a secret's data. KV version 2 answers {"data": {...}, "metadata": {...}};
// type "" tells the versions apart by that "data" map, as KEDA does.
func pick(typ string, data map[string]any, key string) (string, error) {
	if typ == "" {
		typ = "secret"
		if _, ok := data["data"].(map[string]any); ok {
			typ = "secretV2"
		}
	}
	if typ == "secretV2" {
		inner, ok := data["data"].(map[string]any)
		if !ok {
			return "", fmt.Errorf("is not a KV version 2 secret (no data map): use type secret for a KV version 1 engine")
		}
		data = inner
	}
	raw, ok := data[key]
	if !ok {
		return "", fmt.Errorf("the secret has no key %q", key)
	}
	switch val := raw.(type) {
	case string:
		return val, nil
	case []any: // the PKI engine's ca_chain
		parts := make([]string, 0, len(val))
		for _, p := range val {
			s, ok := p.(string)
			if !ok {
				return "", fmt.Errorf("key %q is a list of non-strings", key)
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, "\n"), nil
	case bool, float64, int, int64:
		return fmt.Sprint(val), nil
	default:
		if n, ok := raw.(interface{ String() string }); ok { // json.Number
			return n.String(), nil
		}
		return "", fmt.Errorf("key %q is not a string", key)
	}
}
