package meta

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2/clientcredentials"
)

// KEDA's authentication modes, as authModes and authMode spell them.
const (
	AuthModeAPIKey = "apiKey"
	AuthModeBasic  = "basic"
	authModeTLS    = "tls"
	AuthModeBearer = "bearer"
	AuthModeCustom = "custom"
	authModeOAuth  = "oauth"
)

var allAuthModes = []string{AuthModeAPIKey, AuthModeBasic, authModeTLS, AuthModeBearer, AuthModeCustom, authModeOAuth}

// HTTPAuthParams are the authentication parameters KEDA's HTTP scalers share; each HTTP trigger's
// metadata struct embeds them.
type HTTPAuthParams struct {
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

// HTTPAuth is a validated authentication: which modes are on and what they need.
type HTTPAuth struct {
	Modes []string
	// header credentials
	BearerToken        string
	Username, Password string
	CustomHeader       string
	CustomValue        string
	APIKey             string
	APIKeyInQuery      bool
	KeyParamName       string
	// transport credentials
	ClientCert *tls.Certificate
	RootCAs    *x509.CertPool
	Oauth      *clientcredentials.Config
}

// Has reports whether mode is on.
func (a *HTTPAuth) Has(mode string) bool { return slices.Contains(a.Modes, mode) }

// Secrets are the texts no error may show.
func (p *HTTPAuthParams) Secrets() []string {
	s := []string{p.BearerToken, p.Token, p.Password, p.Key, p.ClientSecret, p.CustomAuthValue, p.APIKey, url.QueryEscape(p.APIKey)}
	if p.Password != "" {
		s = append(s, base64.StdEncoding.EncodeToString([]byte(p.Username+":"+p.Password)))
	}
	return s
}

// Validate checks the modes and that each has what it needs, and loads certificates. Missing
// parameters are reported as "is required ..." so that offline validation, where a
// TriggerAuthentication may hold them, lets them pass.
func (p *HTTPAuthParams) Validate() (*HTTPAuth, error) {
	a := &HTTPAuth{}
	for _, list := range []struct {
		param string
		modes []string
	}{{"authModes", p.AuthModes}, {"authMode", p.AuthMode}} {
		for _, m := range list.modes {
			if !slices.Contains(allAuthModes, m) {
				return nil, &ParamError{Param: list.param, Problem: strconv.Quote(m) + " is not an authentication mode",
					Fix: "use a comma-separated list of " + strings.Join(allAuthModes, ", ")}
			}
			if !slices.Contains(a.Modes, m) {
				a.Modes = append(a.Modes, m)
			}
		}
	}
	var exclusive []string
	for _, m := range []string{AuthModeBearer, AuthModeBasic, authModeOAuth} {
		if a.Has(m) {
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
		a.RootCAs = pool
	}
	if p.Method == "query" {
		a.APIKeyInQuery = true
	}
	a.KeyParamName = p.KeyParamName
	for _, mode := range a.Modes {
		if err := p.validateMode(mode, a); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// validateMode checks that one mode has its parameters and copies them into a.
func (p *HTTPAuthParams) validateMode(mode string, a *HTTPAuth) error {
	required := func(param, also string) error {
		return &ParamError{Param: param, Problem: "is required for authModes " + mode,
			Fix: "set parameter " + param + also + " in the TriggerAuthentication (secretTargetRef), or remove " + mode + " from authModes"}
	}
	switch mode {
	case AuthModeBearer:
		a.BearerToken = p.BearerToken
		if a.BearerToken == "" {
			a.BearerToken = p.Token
		}
		if a.BearerToken == "" {
			return required("bearerToken", " (or token)")
		}
	case AuthModeBasic:
		if p.Username == "" {
			return required("username", " (and password)")
		}
		a.Username, a.Password = p.Username, p.Password
	case AuthModeCustom:
		if p.CustomAuthHeader == "" {
			return required("customAuthHeader", "")
		}
		if p.CustomAuthValue == "" {
			return required("customAuthValue", "")
		}
		if !validHeaderName(p.CustomAuthHeader) {
			return &ParamError{Param: "customAuthHeader", Problem: strconv.Quote(p.CustomAuthHeader) + " is not an HTTP header name", Fix: "use a name such as X-Auth-Token"}
		}
		a.CustomHeader, a.CustomValue = p.CustomAuthHeader, p.CustomAuthValue
	case AuthModeAPIKey:
		if p.APIKey == "" {
			return required("apiKey", "")
		}
		a.APIKey = p.APIKey
		if a.KeyParamName != "" && !a.APIKeyInQuery && !validHeaderName(a.KeyParamName) {
			return &ParamError{Param: "keyParamName", Problem: strconv.Quote(a.KeyParamName) + " is not an HTTP header name", Fix: "use a header name such as X-API-KEY, or method: query"}
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
		a.ClientCert = &pair
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
		a.Oauth = &clientcredentials.Config{ClientID: p.ClientID, ClientSecret: p.ClientSecret, TokenURL: p.OAuthTokenURI,
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

// ParseTriggerTimeout reads a trigger's timeout parameter as KEDA does: milliseconds ("1500") or
// a duration ("1.5s"); empty is 0, for "the operator's timeout".
func ParseTriggerTimeout(raw string) (time.Duration, error) {
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
