package meta

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// EtcdMetadata is the etcd trigger's metadata, with KEDA's parameter names and sources.
type EtcdMetadata struct {
	Endpoints                   []string `keda:"name=endpoints, order=triggerMetadata"`
	WatchKey                    string   `keda:"name=watchKey, order=triggerMetadata"`
	Value                       float64  `keda:"name=value, order=triggerMetadata"`
	ActivationValue             float64  `keda:"name=activationValue, order=triggerMetadata, default=0"`
	WatchProgressNotifyInterval int      `keda:"name=watchProgressNotifyInterval, order=triggerMetadata, default=600"`

	Username string `keda:"name=username, order=authParams;resolvedEnv, optional"`
	Password string `keda:"name=password, order=authParams;resolvedEnv, optional, secret"`

	TLS         string `keda:"name=tls, order=authParams, default=disable, enum=enable;disable"`
	Cert        string `keda:"name=cert, order=authParams, optional, secret"`
	Key         string `keda:"name=key, order=authParams, optional, secret"`
	KeyPassword string `keda:"name=keyPassword, order=authParams, optional, secret"`
	CA          string `keda:"name=ca, order=authParams, optional, secret"`

	// Set by Validate.
	TLSConfig *tls.Config
}

// Validate checks the parameters together. Those only the metadata holds come first: offline, a
// missing credential ends validation.
func (m *EtcdMetadata) Validate() error {
	if len(m.Endpoints) == 0 {
		return &ParamError{Param: "endpoints", Problem: "lists no endpoint", Fix: "set a comma-separated list of the etcd members' client URLs, e.g. http://etcd-0.etcd:2379,http://etcd-1.etcd:2379"}
	}
	for _, ep := range m.Endpoints {
		if err := checkEtcdEndpoint(ep); err != nil {
			return err
		}
	}
	if m.Value <= 0 {
		// KEDA takes any number, but the HPA refuses a target that is not above 0.
		return &ParamError{Param: "value", Problem: fmt.Sprintf("is %g", m.Value), Fix: "must be above 0: it is the key's value per replica the HPA aims at"}
	}
	if m.WatchProgressNotifyInterval <= 0 {
		return &ParamError{Param: "watchProgressNotifyInterval", Problem: fmt.Sprintf("is %d", m.WatchProgressNotifyInterval),
			Fix: "must be a number of seconds above 0: the etcd server's --experimental-watch-progress-notify-interval (600 by default)"}
	}
	if m.TLS == "enable" {
		cfg, err := pemTLSConfig("etcd server's", m.CA, m.Cert, m.Key, m.KeyPassword)
		if err != nil {
			return err
		}
		m.TLSConfig = cfg
	}
	switch {
	case m.Password != "" && m.Username == "":
		return &ParamError{Param: "username", Problem: "is required when password is set", Fix: "set the TriggerAuthentication parameter username (or metadata.usernameFromEnv) next to password"}
	case m.Username != "" && m.Password == "":
		return &ParamError{Param: "password", Problem: "is required when username is set", Fix: "set the TriggerAuthentication parameter password (or metadata.passwordFromEnv) next to username"}
	}
	return nil
}

// checkEtcdEndpoint accepts what the etcd client dials: host:port, or an http, https, unix or
// unixs URL.
func checkEtcdEndpoint(ep string) error {
	bad := func(why string) error {
		return &ParamError{Param: "endpoints", Problem: fmt.Sprintf("has %s, %s", Quote(ep, 100), why),
			Fix: "write each endpoint as host:port or http(s)://host:port, e.g. http://etcd.default.svc:2379"}
	}
	hostPort := ep
	if strings.Contains(ep, "://") {
		u, err := url.Parse(ep)
		if err != nil {
			return bad("which is not a URL")
		}
		switch u.Scheme {
		case "unix", "unixs":
			return nil
		case "http", "https":
		default:
			return bad("whose scheme is neither http nor https")
		}
		hostPort = u.Host
	}
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil || host == "" {
		return bad("which has no host and port")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return bad("whose port is not a number from 1 to 65535")
	}
	return nil
}
