package meta

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
)

// KafkaConnParams are the connection parameters of the kafka and apache-kafka triggers, gathered
// from either metadata struct (their tags differ in defaults and allowed values, the meaning does
// not), so that one function validates them and builds the client.
type KafkaConnParams struct {
	bootstrapServers []string
	Version          string

	tls         string
	unsafeSsl   bool
	ca          string
	cert        string
	key         string
	keyPassword string

	Sasl     string
	Username string
	Password string

	// OAUTHBEARER (kafka only).
	saslTokenProvider     string
	Scopes                []string
	OauthTokenEndpointURI string
	OauthExtensions       []string

	// GSSAPI.
	Keytab              string
	CcacheName          string
	Realm               string
	KerberosConfig      string
	KerberosServiceName string
	KerberosDisableFAST bool

	awsRegion string
}

// KafkaConnection is a validated connection: the brokers and how to talk to them. The SASL
// mechanism and the protocol versions are the client library's values, built from params where
// the client is made (kafkaClientSettings).
type KafkaConnection struct {
	Brokers []string
	TLS     *tls.Config
	Sasl    string
	Params  KafkaConnParams
	// Secrets are removed from every error text.
	Secrets []string
	// Identity is every parameter the connection is built from, for the pool (which hashes it).
	Identity string
}

// SASL mechanisms, as KEDA names them.
const (
	KafkaSASLNone        = "none"
	KafkaSASLPlaintext   = "plaintext"
	KafkaSASLSCRAMSHA256 = "scram_sha256"
	KafkaSASLSCRAMSHA512 = "scram_sha512"
	KafkaSASLOAuthBearer = "oauthbearer"
	KafkaSASLGSSAPI      = "gssapi"
	KafkaSASLAWSMSKIAM   = "aws_msk_iam"
)

// resolve validates the parameters and builds the connection. Problems are ParamErrors naming the
// parameter and the fix; secret values never appear in them.
func (p *KafkaConnParams) resolve() (*KafkaConnection, error) {
	// %#v writes every field, in declaration order: the same parameters, the same text.
	c := &KafkaConnection{Params: *p, Secrets: []string{p.Password, p.keyPassword}, Identity: fmt.Sprintf("%#v", *p)}
	if len(p.bootstrapServers) == 0 {
		return nil, &ParamError{Param: "bootstrapServers", Problem: "is required",
			Fix: "set metadata.bootstrapServers (host1:port1,host2:port2) or bootstrapServersFromEnv"}
	}
	for _, b := range p.bootstrapServers {
		host, port, err := net.SplitHostPort(b)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			return nil, &ParamError{Param: "bootstrapServers", Problem: fmt.Sprintf("has %q, which is not host:port", b),
				Fix: "write each broker as host:port, comma-separated, e.g. kafka-0.kafka:9092,kafka-1.kafka:9092"}
		}
	}
	c.Brokers = p.bootstrapServers
	if p.Version != "" {
		// KEDA's kafka trigger caps the protocol at this Kafka version; franz-go negotiates
		// within it.
		if !kafkaVersionSyntax.MatchString(strings.TrimSpace(p.Version)) {
			return nil, KafkaVersionError(p.Version)
		}
	}
	var err error
	if p.tls == "enable" {
		if c.TLS, err = kafkaTLSConfig(p); err != nil {
			return nil, err
		}
	}
	c.Sasl = p.Sasl
	if c.Sasl == "" {
		c.Sasl = KafkaSASLNone
	}
	if err = p.CheckSASL(c.TLS != nil); err != nil {
		return nil, err
	}
	return c, nil
}

// kafkaVersionSyntax is how a Kafka release is written (2.8.1, v3.7, 0.11.0.2); which releases
// the client library knows it checks itself (kafkaClientSettings).
var kafkaVersionSyntax = regexp.MustCompile(`^v?(?:0\.\d+\.\d+(?:\.\d+)?|[1-9]\d*\.\d+(?:\.\d+)?)$`)

func KafkaVersionError(version string) *ParamError {
	return &ParamError{Param: "version", Problem: fmt.Sprintf("is %q, which is not a known Kafka version", version),
		Fix: "use a Kafka release such as 1.0.0, 2.8.1 or 3.7.0, or remove it to negotiate with the broker"}
}

// kafkaTLSConfig builds the client TLS settings from the TriggerAuthentication's ca, cert, key
// and keyPassword, as KEDA does when tls is enable.
func kafkaTLSConfig(p *KafkaConnParams) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: p.unsafeSsl} //nolint:gosec // unsafeSsl is the user's explicit choice
	if p.ca != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(p.ca)) {
			return nil, &ParamError{Param: "ca", Problem: "holds no PEM certificate",
				Fix: "put the PEM text of the CA certificate that signed the brokers' (-----BEGIN CERTIFICATE-----...) in the TriggerAuthentication parameter ca"}
		}
		cfg.RootCAs = pool
	}
	switch {
	case p.cert == "" && p.key == "":
		return cfg, nil
	case p.cert == "":
		return nil, &ParamError{Param: "cert", Problem: "is required when key is set", Fix: "put the client certificate (PEM) in the TriggerAuthentication parameter cert, next to key"}
	case p.key == "":
		return nil, &ParamError{Param: "key", Problem: "is required when cert is set", Fix: "put the client certificate's private key (PEM) in the TriggerAuthentication parameter key, next to cert"}
	}
	key, err := DecryptKey(p.key, p.keyPassword)
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair([]byte(p.cert), key)
	if err != nil {
		// crypto/tls words these without any key material.
		return nil, &ParamError{Param: "cert", Problem: "and key are not a usable certificate and private key (" + err.Error() + ")",
			Fix: "give the PEM texts of the client certificate and of its private key"}
	}
	cfg.Certificates = []tls.Certificate{pair}
	return cfg, nil
}

// CheckSASL checks the SASL parameters of p.sasl.
func (p *KafkaConnParams) CheckSASL(tlsOn bool) error {
	const credsFix = "put username and password in the TriggerAuthentication (parameters username and password)"
	needCreds := func() error {
		switch {
		case p.Username == "":
			return &ParamError{Param: "username", Problem: "is required with sasl " + p.Sasl, Fix: credsFix}
		case p.Password == "":
			return &ParamError{Param: "password", Problem: "is required with sasl " + p.Sasl, Fix: credsFix}
		}
		return nil
	}
	switch p.Sasl {
	case "", KafkaSASLNone:
		return nil
	case KafkaSASLPlaintext, KafkaSASLSCRAMSHA256, KafkaSASLSCRAMSHA512:
		return needCreds()
	case KafkaSASLOAuthBearer:
		return p.checkOAuth(tlsOn, needCreds)
	case KafkaSASLGSSAPI:
		return p.checkKerberos()
	case KafkaSASLAWSMSKIAM:
		return p.awsMSKIAMUnsupported("sasl", tlsOn)
	}
	return &ParamError{Param: "sasl", Problem: fmt.Sprintf("is %q", p.Sasl), Fix: "use none, plaintext, scram_sha256, scram_sha512, oauthbearer or gssapi"}
}

// awsMSKIAMUnsupported is the answer to AWS MSK IAM: its parameters are checked as KEDA checks
// them, but this build has no AWS credential chain to sign with.
func (p *KafkaConnParams) awsMSKIAMUnsupported(param string, tlsOn bool) error {
	switch {
	case !tlsOn:
		return &ParamError{Param: "tls", Problem: "must be enable for AWS MSK IAM", Fix: `set tls: "enable" (AWS MSK IAM needs TLS)`}
	case p.awsRegion == "":
		return &ParamError{Param: "awsRegion", Problem: "is required for AWS MSK IAM", Fix: "set metadata.awsRegion to the cluster's region"}
	}
	return &ParamError{Param: param, Problem: "is aws_msk_iam, which this build does not support yet",
		Fix: "use SASL/SCRAM or mutual TLS to reach the cluster, or KEDA itself for MSK IAM"}
}

// checkOAuth checks SASL/OAUTHBEARER's parameters: a client-credentials grant (username =
// client id, password = client secret) at oauthTokenEndpointUri.
func (p *KafkaConnParams) checkOAuth(tlsOn bool, needCreds func() error) error {
	switch p.saslTokenProvider {
	case "", "bearer":
	case KafkaSASLAWSMSKIAM:
		return p.awsMSKIAMUnsupported("saslTokenProvider", tlsOn)
	default:
		return &ParamError{Param: "saslTokenProvider", Problem: fmt.Sprintf("is %q", p.saslTokenProvider), Fix: "use bearer or aws_msk_iam"}
	}
	if err := needCreds(); err != nil {
		return err
	}
	if p.OauthTokenEndpointURI == "" {
		return &ParamError{Param: "oauthTokenEndpointUri", Problem: "is required with sasl oauthbearer",
			Fix: "put the token endpoint of the OAuth2 server (https://.../token) in the TriggerAuthentication parameter oauthTokenEndpointUri"}
	}
	_, err := p.OauthExtensionMap()
	return err
}

// OauthExtensionMap reads oauthExtensions, key1=value1,key2=value2.
func (p *KafkaConnParams) OauthExtensionMap() (map[string]string, error) {
	extensions := map[string]string{}
	for _, e := range p.OauthExtensions {
		k, v, ok := strings.Cut(e, "=")
		if !ok || k == "" || strings.Contains(v, "=") {
			// The value may be a secret: name only the key.
			return nil, &ParamError{Param: "oauthExtensions", Problem: fmt.Sprintf("has an entry for %q that is not key=value", k),
				Fix: "write extensions as key1=value1,key2=value2"}
		}
		extensions[k] = v
	}
	return extensions, nil
}

// checkKerberos checks SASL/GSSAPI's parameters: a password, a keytab or a credential cache, and
// the krb5.conf text of kerberosConfig (which the Kerberos library reads where the mechanism is
// built).
func (p *KafkaConnParams) checkKerberos() error {
	if p.Username == "" && p.CcacheName == "" {
		return &ParamError{Param: "username", Problem: "is required with sasl gssapi", Fix: "put the Kerberos principal's name in the TriggerAuthentication parameter username"}
	}
	if p.Realm == "" && p.CcacheName == "" {
		return &ParamError{Param: "realm", Problem: "is required with sasl gssapi", Fix: "put the Kerberos realm in the TriggerAuthentication parameter realm"}
	}
	if p.KerberosConfig == "" {
		return &ParamError{Param: "kerberosConfig", Problem: "is required with sasl gssapi", Fix: "put the text of krb5.conf in the TriggerAuthentication parameter kerberosConfig"}
	}
	if btoi(p.Password != "")+btoi(p.Keytab != "")+btoi(p.CcacheName != "") != 1 {
		return &ParamError{Param: "password", Problem: "or keytab (or ccacheName) must be given, exactly one of them, with sasl gssapi",
			Fix: "put either the principal's password or its keytab in the TriggerAuthentication"}
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// String names the brokers for errors; it never holds a credential.
func (c *KafkaConnection) String() string {
	return "Kafka " + strings.Join(c.Brokers, ",")
}
