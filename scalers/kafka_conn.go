package scalers

import (
	"context"
	"fmt"
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

// kafkaClientSettings are the client library's values of a checked connection: the protocol
// versions of version and the SASL mechanism. The library refuses what only it knows: a Kafka
// release it has no versions of, a krb5.conf or keytab it cannot read.
type kafkaClientSettings struct {
	mech     sasl.Mechanism
	versions *kversion.Versions
}

func newKafkaClientSettings(c *meta.KafkaConnection) (kafkaClientSettings, error) {
	var s kafkaClientSettings
	if v := strings.TrimSpace(c.Params.Version); v != "" {
		if s.versions = kversion.FromString(v); s.versions == nil {
			return s, meta.KafkaVersionError(c.Params.Version)
		}
	}
	var err error
	s.mech, err = kafkaMechanism(&c.Params)
	return s, err
}

// kafkaDriverCheck builds the client settings of a checked kafka or apache-kafka trigger, for the
// webhook's check; nothing is dialled.
func kafkaDriverCheck(metadata any) error {
	var t *meta.KafkaTrigger
	switch m := metadata.(type) {
	case *meta.KafkaMetadata:
		t = m.Trigger
	case *meta.ApacheKafkaMetadata:
		t = m.Trigger
	}
	if t == nil || t.Conn == nil {
		return nil // offline validation lacked the connection
	}
	_, err := newKafkaClientSettings(t.Conn)
	return err
}

// kafkaMechanism builds the SASL mechanism of checked parameters; nil means no SASL.
func kafkaMechanism(p *meta.KafkaConnParams) (sasl.Mechanism, error) {
	switch p.Sasl {
	case meta.KafkaSASLPlaintext:
		return plain.Auth{User: p.Username, Pass: p.Password}.AsMechanism(), nil
	case meta.KafkaSASLSCRAMSHA256:
		return scram.Auth{User: p.Username, Pass: p.Password}.AsSha256Mechanism(), nil
	case meta.KafkaSASLSCRAMSHA512:
		return scram.Auth{User: p.Username, Pass: p.Password}.AsSha512Mechanism(), nil
	case meta.KafkaSASLOAuthBearer:
		return kafkaOAuthMechanism(p)
	case meta.KafkaSASLGSSAPI:
		return kafkaKerberosMechanism(p)
	}
	return nil, nil
}

// kafkaOAuthMechanism is SASL/OAUTHBEARER with a token from an OAuth2 client-credentials grant,
// cached until it expires.
func kafkaOAuthMechanism(p *meta.KafkaConnParams) (sasl.Mechanism, error) {
	extensions, err := p.OauthExtensionMap()
	if err != nil {
		return nil, err
	}
	var scopes []string
	for _, s := range p.Scopes {
		if s = strings.TrimSpace(s); s != "" {
			scopes = append(scopes, s)
		}
	}
	cc := &clientcredentials.Config{ClientID: p.Username, ClientSecret: p.Password, TokenURL: p.OauthTokenEndpointURI, Scopes: scopes}
	// One token source per trigger: the token is fetched once and renewed when it expires, not
	// at every connection.
	src := cc.TokenSource(context.Background())
	return oauth.Oauth(func(ctx context.Context) (oauth.Auth, error) {
		tok, err := src.Token()
		if err != nil {
			return oauth.Auth{}, fmt.Errorf("could not get an OAuth token from %s: %w", p.OauthTokenEndpointURI, err)
		}
		return oauth.Auth{Token: tok.AccessToken, Extensions: extensions}, nil
	}), nil
}

// kafkaKerberosMechanism is SASL/GSSAPI for checked parameters.
func kafkaKerberosMechanism(p *meta.KafkaConnParams) (sasl.Mechanism, error) {
	krb5, err := krbconfig.NewFromString(p.KerberosConfig)
	if err != nil {
		return nil, &ParamError{Param: "kerberosConfig", Problem: "is not a valid krb5.conf (" + err.Error() + ")", Fix: "put the text of krb5.conf in the TriggerAuthentication parameter kerberosConfig"}
	}
	opts := []func(*client.Settings){client.DisablePAFXFAST(p.KerberosDisableFAST)}
	var newClient func() (*client.Client, error)
	switch {
	case p.Keytab != "":
		kt := keytab.New()
		if err := kt.Unmarshal([]byte(p.Keytab)); err != nil {
			return nil, &ParamError{Param: "keytab", Problem: "is not a Kerberos keytab", Fix: "put the binary content of the keytab file in the Secret the TriggerAuthentication reads keytab from"}
		}
		newClient = func() (*client.Client, error) {
			return client.NewWithKeytab(p.Username, p.Realm, kt, krb5, opts...), nil
		}
	case p.CcacheName != "":
		newClient = func() (*client.Client, error) {
			cc, err := credentials.LoadCCache(p.CcacheName)
			if err != nil {
				return nil, fmt.Errorf("could not load the Kerberos credential cache %s: %w", p.CcacheName, err)
			}
			return client.NewFromCCache(cc, krb5, opts...)
		}
	default:
		newClient = func() (*client.Client, error) {
			return client.NewWithPassword(p.Username, p.Realm, p.Password, krb5, opts...), nil
		}
	}
	service := p.KerberosServiceName
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

// kafkaNewClient returns the franz-go client of the trigger: with clients, the one client of every
// trigger of the same connection parameters and timeout, and the function that releases it (the
// last release closes the client). The client keeps no per-trigger state: the group, topics and
// partitions are named in each request. It dials nothing until the first request; every dial is
// bounded by timeout and every request by the caller's context, and a failed request is not
// retried beyond the context's deadline, so a poll ends within the trigger's timeout.
func kafkaNewClient(c *meta.KafkaConnection, settings kafkaClientSettings, clients *ClientPool, timeout time.Duration) (*kafkaShared, func(), error) {
	return acquirePooled(clients, "kafka", []any{c.Identity, timeout.String()}, func() (*kafkaShared, func(), error) {
		cl, err := kafkaBuild(c, settings, timeout)
		if err != nil {
			return nil, nil, err
		}
		shared := newKafkaShared(cl)
		return shared, shared.close, nil
	})
}

func kafkaBuild(c *meta.KafkaConnection, settings kafkaClientSettings, timeout time.Duration) (*kgo.Client, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.DialTimeout(timeout),
		kgo.RequestTimeoutOverhead(timeout),
		kgo.RetryTimeout(timeout),
		kgo.MetadataMinAge(time.Second),
		kgo.ClientID("kedactl"),
	}
	if c.TLS != nil {
		opts = append(opts, kgo.DialTLSConfig(c.TLS.Clone()))
	}
	if settings.mech != nil {
		opts = append(opts, kgo.SASL(settings.mech))
	}
	if settings.versions != nil {
		opts = append(opts, kgo.MaxVersions(settings.versions))
	}
	return kgo.NewClient(opts...)
}
