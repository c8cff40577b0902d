package meta

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// KEDA's values of mode, protocol, operation and tls.
const (
	RabbitModeUnknown     = "Unknown"
	RabbitModeQueueLength = "QueueLength"
	RabbitModeMessageRate = "MessageRate"

	RabbitProtocolAuto = "auto"
	RabbitProtocolAMQP = "amqp"
	RabbitProtocolHTTP = "http"

	RabbitOperationSum = "sum"
	RabbitOperationMax = "max"
	RabbitOperationAvg = "avg"

	RabbitTLSEnable  = "enable"
	RabbitTLSDisable = "disable"

	// RabbitDefaultQueueLength is the target when neither mode and value nor queueLength is set.
	RabbitDefaultQueueLength = 20
)

const rabbitHostExample = "amqp://user:password@rabbitmq.default:5672/vhost or http://user:password@rabbitmq.default:15672/vhost"

// RabbitMQMetadata is the rabbitmq trigger's metadata, with KEDA's parameter names.
type RabbitMQMetadata struct {
	QueueName string `keda:"name=queueName, order=triggerMetadata"`
	// Mode and Value replace queueLength, which KEDA still reads as mode QueueLength.
	Mode            string  `keda:"name=mode, order=triggerMetadata, optional, default=Unknown"`
	QueueLength     float64 `keda:"name=queueLength, order=triggerMetadata, optional"`
	Value           float64 `keda:"name=value, order=triggerMetadata, optional"`
	ActivationValue float64 `keda:"name=activationValue, order=triggerMetadata, optional"`
	// Host is a URL that usually holds a password.
	Host                  string `keda:"name=host, order=triggerMetadata;authParams;resolvedEnv, secret"`
	Protocol              string `keda:"name=protocol, order=triggerMetadata;authParams, default=auto"`
	VhostName             string `keda:"name=vhostName, order=triggerMetadata;authParams, optional"`
	UseRegex              bool   `keda:"name=useRegex, order=triggerMetadata, optional"`
	ExcludeUnacknowledged bool   `keda:"name=excludeUnacknowledged, order=triggerMetadata, optional"`
	PageSize              int64  `keda:"name=pageSize, order=triggerMetadata, default=100"`
	Operation             string `keda:"name=operation, order=triggerMetadata, default=sum"`
	// Timeout (milliseconds, or a duration) bounds each poll over either protocol; KEDA
	// refuses it with AMQP, where this trigger honours it instead.
	Timeout string `keda:"name=timeout, order=triggerMetadata, optional"`
	// Username and Password replace the credentials of Host. They hide HTTPAuthParams' fields of
	// the same names (KEDA declares both; these also read ...FromEnv), and Validate hands them on
	// to authModes basic.
	Username    string `keda:"name=username, order=authParams;resolvedEnv, optional"`
	Password    string `keda:"name=password, order=authParams;resolvedEnv, optional, secret"`
	KeyPassword string `keda:"name=keyPassword, order=authParams, optional, secret"`
	TLS         string `keda:"name=tls, order=authParams, default=disable"`
	UnsafeSsl   bool   `keda:"name=unsafeSsl, order=triggerMetadata, optional"`
	// WorkloadIdentityResource serves KEDA's Azure workload identity; it is accepted as KEDA
	// accepts it and, without that pod identity, changes nothing.
	WorkloadIdentityResource string `keda:"name=workloadIdentityResource, order=authParams, optional"`

	// ca, cert and key (for tls enable and authModes tls) and the management API's
	// authentication modes.
	HTTPAuthParams

	// Set by Validate.
	ResolvedMode     string
	ResolvedValue    float64
	ResolvedProtocol string
	// vhost is the vhost the queue is in: vhostName, else the last segment of host's path, else /.
	ResolvedVhost string
	// AmqpURI is host parsed as AMQP, its credentials replaced by username and password when
	// they are given.
	AmqpURI AMQPURI
	// HTTPBase is host without its vhost segment, credentials included; queueURL is the request.
	HTTPBase        *url.URL
	QueueURL        *url.URL
	ResolvedTimeout time.Duration
	TLSConfig       *tls.Config
	Auth            *HTTPAuth
}

// Validate resolves mode, value, protocol, vhost and TLS. Parameters only the metadata holds
// are checked first: offline, a missing host or credential ends validation.
func (m *RabbitMQMetadata) Validate() error {
	if err := m.validateMode(); err != nil {
		return err
	}
	switch m.Operation {
	case RabbitOperationSum, RabbitOperationMax, RabbitOperationAvg:
	default:
		return &ParamError{Param: "operation", Problem: strconv.Quote(m.Operation) + " is not an operation", Fix: "use sum, max or avg (how the queues useRegex matches are combined)"}
	}
	if m.PageSize < 1 {
		return &ParamError{Param: "pageSize", Problem: fmt.Sprintf("is %d", m.PageSize), Fix: "use 1 or more: it is how many queues one request may return when useRegex is true"}
	}
	var err error
	if m.ResolvedTimeout, err = ParseTriggerTimeout(m.Timeout); err != nil {
		return err
	}
	if m.TLS != RabbitTLSEnable && m.TLS != RabbitTLSDisable {
		return &ParamError{Param: "tls", Problem: strconv.Quote(m.TLS) + " is not enable or disable", Fix: "set the TriggerAuthentication parameter tls to enable or disable"}
	}
	switch m.Protocol {
	case RabbitProtocolAuto, RabbitProtocolAMQP, RabbitProtocolHTTP:
	default:
		return &ParamError{Param: "protocol", Problem: strconv.Quote(m.Protocol) + " is not a protocol", Fix: "use auto (from host's scheme), amqp or http"}
	}
	if m.Protocol == RabbitProtocolAMQP {
		if err := m.needsHTTP(); err != nil {
			return err
		}
	}
	if m.Host == "" {
		return &ParamError{Param: "host", Problem: "is required", Fix: "set metadata.host, metadata.hostFromEnv or the TriggerAuthentication parameter host, such as " + rabbitHostExample}
	}
	if (m.Username == "") != (m.Password == "") {
		missing, other := "password", "username"
		if m.Username == "" {
			missing, other = "username", "password"
		}
		return &ParamError{Param: missing, Problem: "is required when " + other + " is set",
			Fix: "give username and password together (TriggerAuthentication or ...FromEnv), or put both in host"}
	}
	if err := m.resolveHost(); err != nil {
		return err
	}
	if err := m.needsHTTP(); err != nil {
		return err
	}
	return m.resolveTLS()
}

// validateMode turns mode, value and the deprecated queueLength into m.mode and m.value.
func (m *RabbitMQMetadata) validateMode() error {
	switch m.Mode {
	case RabbitModeUnknown, RabbitModeQueueLength, RabbitModeMessageRate:
	default:
		return &ParamError{Param: "mode", Problem: strconv.Quote(m.Mode) + " is not a mode", Fix: "use QueueLength (messages in the queue) or MessageRate (messages published per second)"}
	}
	modeSet := m.Mode != RabbitModeUnknown
	switch {
	case m.QueueLength != 0 && (modeSet || m.Value != 0):
		return &ParamError{Param: "queueLength", Problem: "is set together with mode and value", Fix: "queueLength is deprecated: keep only mode and value"}
	case m.QueueLength < 0:
		return &ParamError{Param: "queueLength", Problem: fmt.Sprintf("is %g", m.QueueLength), Fix: "must be above 0: it is the messages per replica the HPA aims at"}
	case m.QueueLength > 0:
		m.ResolvedMode, m.ResolvedValue = RabbitModeQueueLength, m.QueueLength
	case !modeSet && m.Value == 0:
		m.ResolvedMode, m.ResolvedValue = RabbitModeQueueLength, RabbitDefaultQueueLength
	case !modeSet:
		return &ParamError{Param: "mode", Problem: "is not set, but value is", Fix: "set metadata.mode to QueueLength or MessageRate"}
	case m.Value == 0:
		return &ParamError{Param: "value", Problem: "is 0 or not set, but mode is", Fix: "set metadata.value above 0: the " + map[string]string{RabbitModeQueueLength: "messages", RabbitModeMessageRate: "messages per second"}[m.Mode] + " per replica the HPA aims at"}
	case m.Value < 0:
		return &ParamError{Param: "value", Problem: fmt.Sprintf("is %g", m.Value), Fix: "must be above 0: it is the per-replica target the HPA aims at"}
	default:
		m.ResolvedMode, m.ResolvedValue = m.Mode, m.Value
	}
	return nil
}

// needsHTTP rejects, for the AMQP protocol, what only the management API can tell.
func (m *RabbitMQMetadata) needsHTTP() error {
	if m.Protocol != RabbitProtocolAMQP && m.ResolvedProtocol != RabbitProtocolAMQP {
		return nil
	}
	const fix = "use the management API: an http(s) host such as http://user:password@rabbitmq.default:15672/vhost (and protocol http or auto)"
	switch {
	case m.ResolvedMode == RabbitModeMessageRate:
		return &ParamError{Param: "mode", Problem: "MessageRate needs the management API, not AMQP", Fix: fix}
	case m.UseRegex:
		return &ParamError{Param: "useRegex", Problem: "needs the management API, not AMQP", Fix: fix}
	case m.ExcludeUnacknowledged:
		return &ParamError{Param: "excludeUnacknowledged", Problem: "needs the management API, not AMQP (which counts only ready messages anyway)", Fix: fix + ", or remove it"}
	}
	return nil
}

// resolveHost parses host for its protocol, applies username and password, and finds the vhost.
// Parse errors are not quoted: they would show the host, password included.
func (m *RabbitMQMetadata) resolveHost() error {
	badHost := RabbitBadHost()
	u, err := url.Parse(m.Host)
	if err != nil || u.Host == "" {
		return badHost
	}
	var scheme string
	switch u.Scheme {
	case "amqp", "amqps":
		scheme = RabbitProtocolAMQP
	case "http", "https":
		scheme = RabbitProtocolHTTP
	default:
		return badHost
	}
	m.ResolvedProtocol = m.Protocol
	if m.ResolvedProtocol == RabbitProtocolAuto {
		m.ResolvedProtocol = scheme
	}
	if m.ResolvedProtocol != scheme {
		return &ParamError{Param: "protocol", Problem: "is " + m.ResolvedProtocol + ", but host is a " + u.Scheme + " URL",
			Fix: map[string]string{RabbitProtocolAMQP: "use an amqp:// or amqps:// host for protocol amqp, or protocol http", RabbitProtocolHTTP: "use an http:// or https:// host (the management API) for protocol http, or protocol amqp"}[m.ResolvedProtocol]}
	}
	if m.ResolvedProtocol == RabbitProtocolAMQP {
		if m.AmqpURI, err = parseAMQPURI(m.Host); err != nil {
			return badHost
		}
		if m.Username != "" {
			m.AmqpURI.Username, m.AmqpURI.Password = m.Username, m.Password
		}
		m.ResolvedVhost = m.AmqpURI.Vhost
		if m.VhostName != "" {
			m.ResolvedVhost = m.VhostName
		}
		if m.ResolvedVhost == "" {
			// amqp://host:5672/ names the empty vhost, which cannot exist; the default is meant.
			m.ResolvedVhost = "/"
		}
		return nil
	}
	if m.Username != "" {
		u.User = url.UserPassword(m.Username, m.Password)
	}
	// The path's last segment is the vhost (empty or %2F: the default vhost); what comes before
	// it is the management API's path prefix.
	segments := strings.Split(u.EscapedPath(), "/")
	last := segments[len(segments)-1]
	prefix := strings.Join(segments[:len(segments)-1], "/")
	vhost, err := url.PathUnescape(last)
	if err != nil {
		return badHost
	}
	if m.VhostName != "" {
		vhost = m.VhostName
	}
	if vhost == "" {
		vhost = "/"
	}
	m.ResolvedVhost = vhost
	base := *u
	if base.Path, err = url.PathUnescape(prefix); err != nil {
		return badHost
	}
	base.RawPath, base.RawQuery, base.Fragment = prefix, "", ""
	m.HTTPBase = &base
	m.QueueURL = m.managementURL()
	return nil
}

// RabbitBadHost is the refusal of a host that is not a usable URL. It does not quote the host,
// which usually holds a password.
func RabbitBadHost() *ParamError {
	return &ParamError{Param: "host", Problem: "is not an AMQP or HTTP URL", Fix: "use an address such as " + rabbitHostExample}
}

// rabbitAMQPURI is an amqp:// or amqps:// host, read as the AMQP 0-9-1 URI scheme reads it:
// default port 5672 (5671 for amqps), default credentials guest:guest, the path naming the vhost.
type AMQPURI struct {
	Scheme             string
	Host               string
	Port               int
	Username, Password string
	Vhost              string
}

// rabbitAMQPIntParams are the URI's query parameters that hold whole numbers.
var rabbitAMQPIntParams = []string{"heartbeat", "connection_timeout", "channel_max", "frame_size"}

// parseAMQPURI parses an AMQP URI without the client library, to the same verdict. The client
// parses it again where it dials.
func parseAMQPURI(s string) (AMQPURI, error) {
	uri := AMQPURI{Host: "localhost", Username: "guest", Password: "guest", Vhost: "/"}
	if strings.Contains(s, " ") {
		return uri, errors.New("the URI holds a blank")
	}
	u, err := url.Parse(s)
	if err != nil {
		return uri, err
	}
	switch u.Scheme {
	case "amqp":
		uri.Port = 5672
	case "amqps":
		uri.Port = 5671
	default:
		return uri, errors.New("the scheme is not amqp or amqps")
	}
	uri.Scheme = u.Scheme
	if h := u.Hostname(); h != "" {
		uri.Host = h
	}
	if p := u.Port(); p != "" {
		n, err := strconv.ParseInt(p, 10, 32)
		if err != nil {
			return uri, errors.New("the port is not a number")
		}
		uri.Port = int(n)
	}
	if u.User != nil {
		uri.Username = u.User.Username()
		if pw, ok := u.User.Password(); ok {
			uri.Password = pw
		}
	}
	switch {
	case u.Host == "" && strings.HasPrefix(u.Path, "///"):
		if len(u.Path) > 3 {
			uri.Vhost = u.Path[3:]
		}
	case strings.HasPrefix(u.Path, "/"):
		if len(u.Path) > 1 {
			uri.Vhost = u.Path[1:]
		}
	case u.Path != "":
		uri.Vhost = u.Path
	}
	q := u.Query()
	for _, name := range rabbitAMQPIntParams {
		if !q.Has(name) {
			continue
		}
		if _, err := strconv.Atoi(q.Get(name)); err != nil {
			return uri, fmt.Errorf("%s is not a whole number", name)
		}
	}
	return uri, nil
}

// rabbitQueueColumns are the only fields a poll reads, so the management API sends no more.
const rabbitQueueColumns = "name,messages,messages_ready,message_stats.publish_details.rate"

// managementURL is the request for the queue, or with useRegex for the vhost's queues whose
// names match queueName.
func (m *RabbitMQMetadata) managementURL() *url.URL {
	u := *m.HTTPBase
	rawPath := u.RawPath + "/api/queues/" + url.PathEscape(m.ResolvedVhost)
	path := u.Path + "/api/queues/" + m.ResolvedVhost
	q := url.Values{"columns": {rabbitQueueColumns}}
	if m.UseRegex {
		q.Set("page", "1")
		q.Set("page_size", strconv.FormatInt(m.PageSize, 10))
		q.Set("use_regex", "true")
		q.Set("name", m.QueueName)
	} else {
		rawPath += "/" + url.PathEscape(m.QueueName)
		path += "/" + m.QueueName
	}
	u.Path, u.RawPath, u.RawQuery = path, rawPath, q.Encode()
	return &u
}

// resolveTLS builds the TLS settings: ca and unsafeSsl apply to every amqps or https
// connection; tls enable adds the client certificate (cert, key, keyPassword). The
// management API's authentication modes are checked last.
func (m *RabbitMQMetadata) resolveTLS() error {
	p := &m.HTTPAuthParams
	p.Username, p.Password = m.Username, m.Password
	var err error
	if m.Auth, err = p.Validate(); err != nil {
		return err
	}
	secure := m.AmqpURI.Scheme == "amqps" || (m.HTTPBase != nil && m.HTTPBase.Scheme == "https")
	if m.TLS == RabbitTLSEnable {
		if !secure {
			return &ParamError{Param: "tls", Problem: "is enable, but host is not an amqps:// or https:// URL", Fix: "use amqps:// (or https:// for the management API) in host, or set tls to disable"}
		}
		switch {
		case m.Cert != "" && m.Key == "":
			return &ParamError{Param: "key", Problem: "is required when cert is set", Fix: "put the client certificate's private key (PEM) in the TriggerAuthentication parameter key, next to cert"}
		case m.Cert == "" && m.Key != "":
			return &ParamError{Param: "cert", Problem: "is required when key is set", Fix: "put the client certificate (PEM) in the TriggerAuthentication parameter cert, next to key"}
		case m.Cert != "":
			key, err := DecryptKey(m.Key, m.KeyPassword)
			if err != nil {
				return err
			}
			pair, err := tls.X509KeyPair([]byte(m.Cert), key)
			if err != nil {
				return &ParamError{Param: "cert", Problem: "and key are not a usable certificate and private key (" + err.Error() + ")",
					Fix: "give the PEM texts of the client certificate and of its private key"}
			}
			m.Auth.ClientCert = &pair
		}
	}
	if m.ResolvedProtocol == RabbitProtocolAMQP && secure {
		m.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: m.UnsafeSsl, RootCAs: m.Auth.RootCAs, ServerName: m.AmqpURI.Host} //nolint:gosec // unsafeSsl is the user's explicit choice
		if m.Auth.ClientCert != nil {
			m.TLSConfig.Certificates = []tls.Certificate{*m.Auth.ClientCert}
		}
	}
	return nil
}

// AllSecrets are the texts no error may show: the password of host (as written and escaped),
// username and password's, keyPassword and the management API's credentials.
func (m *RabbitMQMetadata) AllSecrets() []string {
	s := append(m.HTTPAuthParams.Secrets(), m.KeyPassword)
	var pws []string
	if u, err := url.Parse(m.Host); err == nil {
		if pw, ok := u.User.Password(); ok {
			pws = append(pws, pw)
		}
	}
	pws = append(pws, m.Password, m.AmqpURI.Password)
	for _, pw := range pws {
		if pw != "" {
			s = append(s, pw, url.PathEscape(pw), url.QueryEscape(pw), url.UserPassword("u", pw).String()[2:])
		}
	}
	// Longest first, so that a longer secret goes whole before a shorter one inside it.
	slices.SortFunc(s, func(a, b string) int { return len(b) - len(a) })
	return s
}
