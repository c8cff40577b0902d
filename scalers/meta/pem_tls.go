package meta

import (
	"crypto/tls"
	"crypto/x509"
)

// pemTLSConfig builds a client's TLS from a TriggerAuthentication's ca, cert, key and keyPassword
// (PEM texts, as KEDA takes them): ca to trust the server's certificate (the system's roots
// otherwise), and a client certificate for a server that asks for one. server names whose
// certificate ca signs, for the fix ("etcd server's").
func pemTLSConfig(server, ca, cert, key, keyPassword string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(ca)) {
			return nil, &ParamError{Param: "ca", Problem: "holds no PEM certificate",
				Fix: "put the PEM text of the CA certificate that signed the " + server + " (-----BEGIN CERTIFICATE-----...) in the TriggerAuthentication parameter ca"}
		}
		cfg.RootCAs = pool
	}
	switch {
	case cert == "" && key == "":
		return cfg, nil
	case cert == "":
		return nil, &ParamError{Param: "cert", Problem: "is required when key is set", Fix: "put the client certificate (PEM) in the TriggerAuthentication parameter cert, next to key"}
	case key == "":
		return nil, &ParamError{Param: "key", Problem: "is required when cert is set", Fix: "put the client certificate's private key (PEM) in the TriggerAuthentication parameter key, next to cert"}
	}
	plain, err := DecryptKey(key, keyPassword)
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair([]byte(cert), plain)
	if err != nil {
		// crypto/tls words these without any key material.
		return nil, &ParamError{Param: "cert", Problem: "and key are not a usable certificate and private key (" + err.Error() + ")",
			Fix: "give the PEM texts of the client certificate and of its private key"}
	}
	cfg.Certificates = []tls.Certificate{pair}
	return cfg, nil
}
