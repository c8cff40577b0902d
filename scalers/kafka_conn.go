package scalers

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/client"
	krbconfig "github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/kedactl/kedactl/scalers/meta"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/kerberos"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	"golang.org/x/oauth2/clientcredentials"
)

// kafkaConnParams are the connection parameters of the kafka and apache-kafka triggers, gathered
// from either metadata struct (their tags differ in defaults and allowed values, the meaning does
// not), so that one function validates them and builds the client.
type kafkaConnParams struct {
	bootstrapServers []string
	version          string

	tls         string
	unsafeSsl   bool
	ca          string
	cert        string
	key         string
	keyPassword string

	sasl     string
	username string
	password string

	// OAUTHBEARER (kafka only).
	saslTokenProvider     string
	scopes                []string
	oauthTokenEndpointURI string
	oauthExtensions       []string

	// GSSAPI.
	keytab              string
	ccacheName          string
	realm               string
	kerberosConfig      string
	kerberosServiceName string
	kerberosDisableFAST bool

	awsRegion string
}

// kafkaConnection is a validated connection: the brokers and how to talk to them.
type kafkaConnection struct {
	brokers  []string
	tls      *tls.Config
	sasl     string
	mech     sasl.Mechanism
	versions *kversion.Versions
	// secrets are removed from every error text.
	secrets []string
	// identity is every parameter the connection is built from, for the pool (which hashes it).
	identity string
}

// SASL mechanisms, as KEDA names them.
const (
	kafkaSASLNone        = "none"
	kafkaSASLPlaintext   = "plaintext"
	kafkaSASLSCRAMSHA256 = "scram_sha256"
	kafkaSASLSCRAMSHA512 = "scram_sha512"
	kafkaSASLOAuthBearer = "oauthbearer"
	kafkaSASLGSSAPI      = "gssapi"
	kafkaSASLAWSMSKIAM   = "aws_msk_iam"
)

// resolve validates the parameters and builds the connection. Problems are ParamErrors naming the
// parameter and the fix; secret values never appear in them.
func (p *kafkaConnParams) resolve() (*kafkaConnection, error) {
	// %#v writes every field, in declaration order: the same parameters, the same text.
	c := &kafkaConnection{secrets: []string{p.password, p.keyPassword}, identity: fmt.Sprintf("%#v", *p)}
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
	c.brokers = p.bootstrapServers
	if p.version != "" {
		// KEDA's kafka trigger caps the protocol at this Kafka version; franz-go negotiates
		// within it.
		if c.versions = kversion.FromString(strings.TrimSpace(p.version)); c.versions == nil {
			return nil, &ParamError{Param: "version", Problem: fmt.Sprintf("is %q, which is not a known Kafka version", p.version),
				Fix: "use a Kafka release such as 1.0.0, 2.8.1 or 3.7.0, or remove it to negotiate with the broker"}
		}
	}
	var err error
	if p.tls == "enable" {
		if c.tls, err = kafkaTLSConfig(p); err != nil {
			return nil, err
		}
	}
	c.sasl = p.sasl
	if c.sasl == "" {
		c.sasl = kafkaSASLNone
	}
	if c.mech, err = p.mechanism(c.tls != nil); err != nil {
		return nil, err
	}
	return c, nil
}

// kafkaTLSConfig builds the client TLS settings from the TriggerAuthentication's ca, cert, key
// and keyPassword, as KEDA does when tls is enable.
func kafkaTLSConfig(p *kafkaConnParams) (*tls.Config, error) {
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
	key, err := meta.DecryptKey(p.key, p.keyPassword)
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

// mechanism builds the SASL mechanism; nil means no SASL.
func (p *kafkaConnParams) mechanism(tlsOn bool) (sasl.Mechanism, error) {
	const credsFix = "put username and password in the TriggerAuthentication (parameters username and password)"
	needCreds := func() error {
		switch {
		case p.username == "":
			return &ParamError{Param: "username", Problem: "is required with sasl " + p.sasl, Fix: credsFix}
		case p.password == "":
			return &ParamError{Param: "password", Problem: "is required with sasl " + p.sasl, Fix: credsFix}
		}
		return nil
	}
	switch p.sasl {
	case "", kafkaSASLNone:
		return nil, nil
	case kafkaSASLPlaintext:
		if err := needCreds(); err != nil {
			return nil, err
		}
		return plain.Auth{User: p.username, Pass: p.password}.AsMechanism(), nil
	case kafkaSASLSCRAMSHA256, kafkaSASLSCRAMSHA512:
		if err := needCreds(); err != nil {
			return nil, err
		}
		a := scram.Auth{User: p.username, Pass: p.password}
		if p.sasl == kafkaSASLSCRAMSHA256 {
			return a.AsSha256Mechanism(), nil
		}
		return a.AsSha512Mechanism(), nil
	case kafkaSASLOAuthBearer:
		return p.oauthMechanism(tlsOn, needCreds)
	case kafkaSASLGSSAPI:
		return p.kerberosMechanism()
	case kafkaSASLAWSMSKIAM:
		return nil, p.awsMSKIAMUnsupported("sasl", tlsOn)
	}
	return nil, &ParamError{Param: "sasl", Problem: fmt.Sprintf("is %q", p.sasl), Fix: "use none, plaintext, scram_sha256, scram_sha512, oauthbearer or gssapi"}
}

// awsMSKIAMUnsupported is the answer to AWS MSK IAM: its parameters are checked as KEDA checks
// them, but this build has no AWS credential chain to sign with.
func (p *kafkaConnParams) awsMSKIAMUnsupported(param string, tlsOn bool) error {
	switch {
	case !tlsOn:
		return &ParamError{Param: "tls", Problem: "must be enable for AWS MSK IAM", Fix: `set tls: "enable" (AWS MSK IAM needs TLS)`}
	case p.awsRegion == "":
		return &ParamError{Param: "awsRegion", Problem: "is required for AWS MSK IAM", Fix: "set metadata.awsRegion to the cluster's region"}
	}
	return &ParamError{Param: param, Problem: "is aws_msk_iam, which this build does not support yet",
		Fix: "use SASL/SCRAM or mutual TLS to reach the cluster, or KEDA itself for MSK IAM"}
}

// oauthMechanism is SASL/OAUTHBEARER with a token from an OAuth2 client-credentials grant
// (username = client id, password = client secret), cached until it expires.
func (p *kafkaConnParams) oauthMechanism(tlsOn bool, needCreds func() error) (sasl.Mechanism, error) {
	switch p.saslTokenProvider {
	case "", "bearer":
	case kafkaSASLAWSMSKIAM:
		return nil, p.awsMSKIAMUnsupported("saslTokenProvider", tlsOn)
	default:
		return nil, &ParamError{Param: "saslTokenProvider", Problem: fmt.Sprintf("is %q", p.saslTokenProvider), Fix: "use bearer or aws_msk_iam"}
	}
	if err := needCreds(); err != nil {
		return nil, err
	}
	if p.oauthTokenEndpointURI == "" {
		return nil, &ParamError{Param: "oauthTokenEndpointUri", Problem: "is required with sasl oauthbearer",
			Fix: "put the token endpoint of the OAuth2 server (https://.../token) in the TriggerAuthentication parameter oauthTokenEndpointUri"}
	}
	extensions := map[string]string{}
	for _, e := range p.oauthExtensions {
		k, v, ok := strings.Cut(e, "=")
		if !ok || k == "" || strings.Contains(v, "=") {
			// The value may be a secret: name only the key.
			return nil, &ParamError{Param: "oauthExtensions", Problem: fmt.Sprintf("has an entry for %q that is not key=value", k),
				Fix: "write extensions as key1=value1,key2=value2"}
		}
		extensions[k] = v
	}
	var scopes []string
	for _, s := range p.scopes {
		if s = strings.TrimSpace(s); s != "" {
			scopes = append(scopes, s)
		}
	}
	cc := &clientcredentials.Config{ClientID: p.username, ClientSecret: p.password, TokenURL: p.oauthTokenEndpointURI, Scopes: scopes}
	// One token source per trigger: the token is fetched once and renewed when it expires, not
	// at every connection.
	src := cc.TokenSource(context.Background())
	return oauth.Oauth(func(ctx context.Context) (oauth.Auth, error) {
		tok, err := src.Token()
		if err != nil {
			return oauth.Auth{}, fmt.Errorf("could not get an OAuth token from %s: %w", p.oauthTokenEndpointURI, err)
		}
		return oauth.Auth{Token: tok.AccessToken, Extensions: extensions}, nil
	}), nil
}

// kerberosMechanism is SASL/GSSAPI with a password, a keytab or a credential cache, and the
// krb5.conf text of kerberosConfig.
func (p *kafkaConnParams) kerberosMechanism() (sasl.Mechanism, error) {
	if p.username == "" && p.ccacheName == "" {
		return nil, &ParamError{Param: "username", Problem: "is required with sasl gssapi", Fix: "put the Kerberos principal's name in the TriggerAuthentication parameter username"}
	}
	if p.realm == "" && p.ccacheName == "" {
		return nil, &ParamError{Param: "realm", Problem: "is required with sasl gssapi", Fix: "put the Kerberos realm in the TriggerAuthentication parameter realm"}
	}
	if p.kerberosConfig == "" {
		return nil, &ParamError{Param: "kerberosConfig", Problem: "is required with sasl gssapi", Fix: "put the text of krb5.conf in the TriggerAuthentication parameter kerberosConfig"}
	}
	krb5, err := krbconfig.NewFromString(p.kerberosConfig)
	if err != nil {
		return nil, &ParamError{Param: "kerberosConfig", Problem: "is not a valid krb5.conf (" + err.Error() + ")", Fix: "put the text of krb5.conf in the TriggerAuthentication parameter kerberosConfig"}
	}
	opts := []func(*client.Settings){client.DisablePAFXFAST(p.kerberosDisableFAST)}
	var newClient func() (*client.Client, error)
	switch n := btoi(p.password != "") + btoi(p.keytab != "") + btoi(p.ccacheName != ""); {
	case n != 1:
		return nil, &ParamError{Param: "password", Problem: "or keytab (or ccacheName) must be given, exactly one of them, with sasl gssapi",
			Fix: "put either the principal's password or its keytab in the TriggerAuthentication"}
	case p.keytab != "":
		kt := keytab.New()
		if err := kt.Unmarshal([]byte(p.keytab)); err != nil {
			return nil, &ParamError{Param: "keytab", Problem: "is not a Kerberos keytab", Fix: "put the binary content of the keytab file in the Secret the TriggerAuthentication reads keytab from"}
		}
		newClient = func() (*client.Client, error) {
			return client.NewWithKeytab(p.username, p.realm, kt, krb5, opts...), nil
		}
	case p.ccacheName != "":
		newClient = func() (*client.Client, error) {
			cc, err := credentials.LoadCCache(p.ccacheName)
			if err != nil {
				return nil, fmt.Errorf("could not load the Kerberos credential cache %s: %w", p.ccacheName, err)
			}
			return client.NewFromCCache(cc, krb5, opts...)
		}
	default:
		newClient = func() (*client.Client, error) {
			return client.NewWithPassword(p.username, p.realm, p.password, krb5, opts...), nil
		}
	}
	service := p.kerberosServiceName
	if service == "" {
		service = "kafka"
	}
	return kerberos.Kerberos(func(context.Context) (kerberos.Auth, error) {
		cl, err := newClient()
		if err != nil {
			return kerberos.Auth{}, err
		}
		return kerberos.Auth{Client: cl, Service: service}, nil
	}), nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// newClient returns the franz-go client of the trigger: with clients, the one client of every
// trigger of the same connection parameters and timeout, and the function that releases it (the
// last release closes the client). The client keeps no per-trigger state: the group, topics and
// partitions are named in each request. It dials nothing until the first request; every dial is
// bounded by timeout and every request by the caller's context, and a failed request is not
// retried beyond the context's deadline, so a poll ends within the trigger's timeout.
func (c *kafkaConnection) newClient(clients *ClientPool, timeout time.Duration) (*kafkaShared, func(), error) {
	return acquirePooled(clients, "kafka", []any{c.identity, timeout.String()}, func() (*kafkaShared, func(), error) {
		cl, err := c.build(timeout)
		if err != nil {
			return nil, nil, err
		}
		shared := newKafkaShared(cl)
		return shared, shared.close, nil
	})
}

func (c *kafkaConnection) build(timeout time.Duration) (*kgo.Client, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.brokers...),
		kgo.DialTimeout(timeout),
		kgo.RequestTimeoutOverhead(timeout),
		kgo.RetryTimeout(timeout),
		kgo.MetadataMinAge(time.Second),
		kgo.ClientID("kedactl"),
	}
	if c.tls != nil {
		opts = append(opts, kgo.DialTLSConfig(c.tls.Clone()))
	}
	if c.mech != nil {
		opts = append(opts, kgo.SASL(c.mech))
	}
	if c.versions != nil {
		opts = append(opts, kgo.MaxVersions(c.versions))
	}
	return kgo.NewClient(opts...)
}

// String names the brokers for errors; it never holds a credential.
func (c *kafkaConnection) String() string {
	return "Kafka " + strings.Join(c.brokers, ",")
}
