package meta

// basicTLSAuth is the credentials of the triggers that take KEDA's username and password for HTTP
// basic authentication and an optional ca, cert, key and keyPassword for TLS (artemis-queue,
// activemq, ibmmq), as the shared HTTP client reads them: basic always (KEDA sends the header even
// with an empty password), the client certificate when cert and key are set, ca to trust the
// server's certificate.
func basicTLSAuth(username, password, ca, cert, key, keyPassword string) (HTTPAuthParams, *HTTPAuth, error) {
	p := HTTPAuthParams{Username: username, Password: password, CA: ca}
	switch {
	case cert != "" && key == "":
		return p, nil, &ParamError{Param: "key", Problem: "is required when cert is set", Fix: "put the client certificate's private key (PEM) in the TriggerAuthentication parameter key, next to cert"}
	case key != "" && cert == "":
		return p, nil, &ParamError{Param: "cert", Problem: "is required when key is set", Fix: "put the client certificate (PEM) in the TriggerAuthentication parameter cert, next to key"}
	case cert != "":
		plain, err := DecryptKey(key, keyPassword)
		if err != nil {
			return p, nil, err
		}
		p.AuthModes, p.Cert, p.Key = []string{authModeTLS}, cert, string(plain)
	}
	a, err := p.Validate()
	if err != nil {
		return p, nil, err
	}
	a.Modes = append(a.Modes, AuthModeBasic)
	a.Username, a.Password = username, password
	return p, a, nil
}
