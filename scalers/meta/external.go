package meta

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"regexp"
	"strings"
)

// ExternalMetadata is the metadata of the external and external-push triggers, with KEDA's
// parameter names. Every other metadata key is handed to the external scaler as it is.
type ExternalMetadata struct {
	ScalerAddress string `keda:"name=scalerAddress, order=triggerMetadata"`
	EnableTLS     bool   `keda:"name=enableTLS, order=triggerMetadata, optional"`
	UnsafeSsl     bool   `keda:"name=unsafeSsl, order=triggerMetadata, optional"`
	CACert        string `keda:"name=caCert, order=authParams, optional"`
	TLSClientCert string `keda:"name=tlsClientCert, order=authParams, optional"`
	TLSClientKey  string `keda:"name=tlsClientKey, order=authParams, optional, secret"`

	// Set by Validate: nil means plaintext.
	TLSConfig *tls.Config
}

// Validate checks the address and builds the TLS configuration: TLS is on with enableTLS, a CA
// or a client certificate, as KEDA turns it on.
func (m *ExternalMetadata) Validate() error {
	if err := checkGRPCTarget(m.ScalerAddress); err != nil {
		return err
	}
	if !m.EnableTLS && m.CACert == "" && m.TLSClientCert == "" && m.TLSClientKey == "" {
		return nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: m.UnsafeSsl} //nolint:gosec // unsafeSsl is the user's explicit choice
	if m.CACert != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM([]byte(m.CACert)) {
			return &ParamError{Param: "caCert", Problem: "holds no PEM certificate", Fix: "put the PEM text of the external scaler's CA certificate in the TriggerAuthentication's caCert parameter"}
		}
		cfg.RootCAs = pool
	}
	switch {
	case m.TLSClientCert != "" && m.TLSClientKey != "":
		pair, err := tls.X509KeyPair([]byte(m.TLSClientCert), []byte(m.TLSClientKey))
		if err != nil {
			return &ParamError{Param: "tlsClientCert", Problem: "and tlsClientKey do not make a client certificate",
				Fix: "put the PEM texts of the client certificate and of its private key in the TriggerAuthentication's tlsClientCert and tlsClientKey parameters"}
		}
		cfg.Certificates = []tls.Certificate{pair}
	case m.TLSClientCert != "":
		return &ParamError{Param: "tlsClientKey", Problem: "is required with tlsClientCert", Fix: "set the TriggerAuthentication parameter tlsClientKey to the client certificate's private key (PEM)"}
	case m.TLSClientKey != "":
		return &ParamError{Param: "tlsClientCert", Problem: "is required with tlsClientKey", Fix: "set the TriggerAuthentication parameter tlsClientCert to the client certificate (PEM)"}
	}
	m.TLSConfig = cfg
	return nil
}

// grpcScheme matches the scheme of a gRPC target such as dns:///scaler:6000.
var grpcScheme = regexp.MustCompile(`^[a-z][a-z0-9+.-]*:`)

// checkGRPCTarget accepts host:port, as KEDA documents scalerAddress, and gRPC's own target
// forms (dns:///host:port, unix:///path).
func checkGRPCTarget(addr string) error {
	if strings.Contains(addr, "://") && grpcScheme.MatchString(addr) && !strings.HasPrefix(addr, "http") {
		return nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" || port == "" {
		return &ParamError{Param: "scalerAddress", Problem: fmt.Sprintf("%q is not host:port", addr),
			Fix: "use the gRPC address of the external scaler without a scheme, such as external-scaler.keda:6000"}
	}
	return nil
}
