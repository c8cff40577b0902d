package meta

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// RedisTopology is how a Redis trigger reaches its data: one server, a Redis Cluster, or the
// master that a set of sentinels names.
type RedisTopology int

const (
	RedisStandalone RedisTopology = iota
	RedisCluster
	RedisSentinel
)

// RedisConnectionParams are the connection parameters every Redis trigger shares, with KEDA's
// names; each metadata struct of the family embeds them.
type RedisConnectionParams struct {
	DatabaseIndex int    `keda:"name=databaseIndex, order=triggerMetadata, optional"`
	EnableTLS     *bool  `keda:"name=enableTLS, order=triggerMetadata, optional"`
	TLS           string `keda:"name=tls, order=authParams, optional, enum=enable;disable"`

	Address          string   `keda:"name=address, order=authParams;resolvedEnv;triggerMetadata, optional"`
	Addresses        []string `keda:"name=addresses, order=authParams;resolvedEnv;triggerMetadata, optional"`
	Username         string   `keda:"name=username, order=authParams;resolvedEnv;triggerMetadata, optional"`
	Password         string   `keda:"name=password, order=authParams;resolvedEnv;triggerMetadata, optional, secret"`
	SentinelUsername string   `keda:"name=sentinelUsername, order=authParams;resolvedEnv;triggerMetadata, optional"`
	SentinelPassword string   `keda:"name=sentinelPassword, order=authParams;resolvedEnv;triggerMetadata, optional, secret"`
	SentinelMaster   string   `keda:"name=sentinelMaster, order=authParams;resolvedEnv;triggerMetadata, optional"`
	Host             string   `keda:"name=host, order=authParams;resolvedEnv;triggerMetadata, optional"`
	Hosts            []string `keda:"name=hosts, order=authParams;resolvedEnv;triggerMetadata, optional"`
	Port             string   `keda:"name=port, order=authParams;resolvedEnv;triggerMetadata, optional"`
	Ports            []string `keda:"name=ports, order=authParams;resolvedEnv;triggerMetadata, optional"`
	UnsafeSsl        bool     `keda:"name=unsafeSsl, order=triggerMetadata, optional, default=false"`

	CertLegacy  string `keda:"name=Cert, order=authParams, optional, secret"`
	Cert        string `keda:"name=cert, order=authParams, optional, secret"`
	Key         string `keda:"name=key, order=authParams, optional, secret"`
	KeyPassword string `keda:"name=keyPassword, order=authParams, optional, secret"`
	CA          string `keda:"name=ca, order=authParams, optional, secret"`
}

// RedisConnection is a validated connection: where, as whom, and how.
type RedisConnection struct {
	Topology RedisTopology
	// Addrs are host:port: the server, the cluster nodes to learn the slots from, or the sentinels.
	Addrs            []string
	Username         string
	Password         string
	SentinelMaster   string
	SentinelUsername string
	SentinelPassword string
	DB               int
	TLSConfig        *tls.Config
	// TLSIdentity is the TLS material tls was built from, for the pool's identity (hashed there).
	TLSIdentity []string
}

// resolve validates the parameters for topology and builds the connection. Problems are
// ParamErrors naming the parameter and the fix; secret values never appear in them.
func (p *RedisConnectionParams) resolve(topology RedisTopology) (*RedisConnection, error) {
	c := &RedisConnection{Topology: topology, Username: p.Username, Password: p.Password, DB: p.DatabaseIndex}
	var err error
	if c.Addrs, err = p.addresses(topology); err != nil {
		return nil, err
	}
	switch {
	case p.DatabaseIndex < 0:
		return nil, &ParamError{Param: "databaseIndex", Problem: fmt.Sprintf("is %d", p.DatabaseIndex), Fix: "must not be negative"}
	case topology == RedisCluster && p.DatabaseIndex != 0:
		return nil, &ParamError{Param: "databaseIndex", Problem: fmt.Sprintf("is %d", p.DatabaseIndex), Fix: "a Redis Cluster has only database 0: remove databaseIndex"}
	}
	if topology == RedisSentinel {
		if p.SentinelMaster == "" {
			return nil, &ParamError{Param: "sentinelMaster", Problem: "is required for a Redis Sentinel trigger",
				Fix: "set metadata.sentinelMaster (or sentinelMasterFromEnv, or the TriggerAuthentication parameter sentinelMaster) to the name the sentinels monitor the master under"}
		}
		c.SentinelMaster, c.SentinelUsername, c.SentinelPassword = p.SentinelMaster, p.SentinelUsername, p.SentinelPassword
	}
	if c.TLSConfig, err = p.tlsConfig(); err != nil {
		return nil, err
	}
	if c.TLSConfig != nil {
		c.TLSIdentity = []string{strconv.FormatBool(p.UnsafeSsl), p.CA, p.Cert, p.CertLegacy, p.Key, p.KeyPassword}
	}
	return c, nil
}

// addresses returns the host:port list: address (or host and port) for one server; addresses
// (or hosts and ports) for a cluster or sentinels, falling back to address (or host and port).
func (p *RedisConnectionParams) addresses(topology RedisTopology) ([]string, error) {
	const one = "set metadata.address (host:port), or metadata.host and metadata.port, directly, through ...FromEnv or a TriggerAuthentication"
	const many = "set metadata.addresses (host1:port1,host2:port2), or metadata.hosts and metadata.ports (comma-separated, in the same order), directly, through ...FromEnv or a TriggerAuthentication"
	var addrs []string
	param := "address"
	if topology != RedisStandalone {
		switch {
		case len(p.Addresses) > 0:
			addrs, param = p.Addresses, "addresses"
		case len(p.Hosts) > 0 || len(p.Ports) > 0:
			// One list missing is worded "is required", which offline validation lets pass: the
			// target's env (hostsFromEnv, portsFromEnv) may hold it.
			switch {
			case len(p.Hosts) == 0:
				return nil, &ParamError{Param: "hosts", Problem: "is required when ports is set", Fix: many}
			case len(p.Ports) == 0:
				return nil, &ParamError{Param: "ports", Problem: "is required when hosts is set", Fix: many}
			}
			if len(p.Hosts) != len(p.Ports) {
				return nil, &ParamError{Param: "ports", Problem: fmt.Sprintf("has %d entries for %d hosts", len(p.Ports), len(p.Hosts)),
					Fix: "give one port per host, in the same order, or use metadata.addresses (host1:port1,host2:port2)"}
			}
			for i := range p.Hosts {
				addrs = append(addrs, net.JoinHostPort(p.Hosts[i], p.Ports[i]))
			}
			param = "hosts"
		}
	}
	if len(addrs) == 0 {
		switch {
		case p.Address != "":
			addrs = []string{p.Address}
		case p.Host != "" && p.Port == "":
			return nil, &ParamError{Param: "port", Problem: "is required when host is set", Fix: "set metadata.port, or use metadata.address (host:port)"}
		case p.Host != "":
			addrs, param = []string{net.JoinHostPort(p.Host, p.Port)}, "host"
		case topology == RedisStandalone:
			fix := one
			if len(p.Addresses) > 0 || len(p.Hosts) > 0 {
				fix += " (addresses, hosts and ports are for the redis-cluster and redis-sentinel triggers)"
			}
			return nil, &ParamError{Param: "address", Problem: "is required", Fix: fix}
		default:
			return nil, &ParamError{Param: "addresses", Problem: "is required", Fix: many}
		}
	}
	for _, a := range addrs {
		host, port, err := net.SplitHostPort(a)
		if err != nil || host == "" {
			return nil, &ParamError{Param: param, Problem: fmt.Sprintf("has %q, which is not host:port", a), Fix: "write each address as host:port, e.g. redis.default.svc:6379"}
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, &ParamError{Param: param, Problem: fmt.Sprintf("has %q, whose port is not a number from 1 to 65535", a), Fix: "write each address as host:port, e.g. redis.default.svc:6379"}
		}
	}
	return addrs, nil
}

// tlsConfig returns nil when TLS is off: metadata.enableTLS or the TriggerAuthentication's tls
// turns it on; ca, cert and key (from the TriggerAuthentication) are used only then, as in KEDA.
func (p *RedisConnectionParams) tlsConfig() (*tls.Config, error) {
	fromAuth := p.TLS == "enable"
	if p.EnableTLS != nil && p.TLS != "" && *p.EnableTLS != fromAuth {
		return nil, &ParamError{Param: "tls", Problem: fmt.Sprintf("is %q in the TriggerAuthentication while metadata.enableTLS is %t", p.TLS, *p.EnableTLS),
			Fix: "set TLS in one place: metadata.enableTLS or the TriggerAuthentication parameter tls"}
	}
	if !fromAuth && (p.EnableTLS == nil || !*p.EnableTLS) {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: p.UnsafeSsl} //nolint:gosec // unsafeSsl is the user's explicit choice
	if p.CA != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(p.CA)) {
			return nil, &ParamError{Param: "ca", Problem: "holds no PEM certificate",
				Fix: "put the PEM text of the CA certificate that signed the server's (-----BEGIN CERTIFICATE-----...) in the TriggerAuthentication parameter ca"}
		}
		cfg.RootCAs = pool
	}
	cert := p.Cert
	if cert == "" {
		cert = p.CertLegacy
	}
	switch {
	case cert == "" && p.Key == "":
		return cfg, nil
	case cert == "":
		return nil, &ParamError{Param: "cert", Problem: "is required when key is set", Fix: "put the client certificate (PEM) in the TriggerAuthentication parameter cert, next to key"}
	case p.Key == "":
		return nil, &ParamError{Param: "key", Problem: "is required when cert is set", Fix: "put the client certificate's private key (PEM) in the TriggerAuthentication parameter key, next to cert"}
	}
	key, err := DecryptKey(p.Key, p.KeyPassword)
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair([]byte(cert), key)
	if err != nil {
		// crypto/tls words these without any key material.
		return nil, &ParamError{Param: "cert", Problem: "and key are not a usable certificate and private key (" + err.Error() + ")",
			Fix: "give the PEM texts of the client certificate and of its private key"}
	}
	cfg.Certificates = []tls.Certificate{pair}
	return cfg, nil
}

// String names the source for errors: `Redis 10.0.0.1:6379 (database 2)`, `Redis Cluster
// a:1,b:2`, `master "mymaster" of Redis Sentinel a:26379`. It never holds a password.
func (c *RedisConnection) String() string {
	addrs := strings.Join(c.Addrs, ",")
	switch c.Topology {
	case RedisCluster:
		return "Redis Cluster " + addrs
	case RedisSentinel:
		s := fmt.Sprintf("master %q of Redis Sentinel %s", c.SentinelMaster, addrs)
		if c.DB != 0 {
			s += fmt.Sprintf(" (database %d)", c.DB)
		}
		return s
	default:
		s := "Redis " + addrs
		if c.DB != 0 {
			s += fmt.Sprintf(" (database %d)", c.DB)
		}
		return s
	}
}

// Secrets are removed from every error text.
func (c *RedisConnection) Secrets() []string {
	return []string{c.Password, c.SentinelPassword}
}
