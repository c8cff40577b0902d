package meta

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
)

// NSQMetadata is the nsq trigger's metadata, with KEDA's parameter names. KEDA's nsq scaler has no
// credentials and no scalingModifiers exception (depthThreshold keeps its default there too).
type NSQMetadata struct {
	NSQLookupdHTTPAddresses  []string `keda:"name=nsqLookupdHTTPAddresses, order=triggerMetadata;resolvedEnv"`
	Topic                    string   `keda:"name=topic, order=triggerMetadata;resolvedEnv"`
	Channel                  string   `keda:"name=channel, order=triggerMetadata;resolvedEnv"`
	DepthThreshold           int64    `keda:"name=depthThreshold, order=triggerMetadata;resolvedEnv, default=10"`
	ActivationDepthThreshold int64    `keda:"name=activationDepthThreshold, order=triggerMetadata;resolvedEnv, default=0"`
	UseHTTPS                 bool     `keda:"name=useHttps, order=triggerMetadata;resolvedEnv, default=false"`
	UnsafeSSL                bool     `keda:"name=unsafeSsl, order=triggerMetadata;resolvedEnv, default=false"`
}

// Validate checks what the metadata alone decides.
func (m *NSQMetadata) Validate() error {
	// The list parser keeps empty items ("a,,b"): they name no server.
	m.NSQLookupdHTTPAddresses = slices.DeleteFunc(m.NSQLookupdHTTPAddresses, func(s string) bool { return strings.TrimSpace(s) == "" })
	if len(m.NSQLookupdHTTPAddresses) == 0 {
		return &ParamError{Param: "nsqLookupdHTTPAddresses", Problem: "is required",
			Fix: "set the host:port of each nsqlookupd's HTTP listener, comma-separated, such as nsqlookupd-0.nsqlookupd:4161,nsqlookupd-1.nsqlookupd:4161"}
	}
	for i, a := range m.NSQLookupdHTTPAddresses {
		a = strings.TrimSpace(a)
		m.NSQLookupdHTTPAddresses[i] = a
		if err := checkNSQAddress(a); err != nil {
			return &ParamError{Param: "nsqLookupdHTTPAddresses", Problem: "has " + strconv.Quote(a) + ", which " + err.Error(),
				Fix: "use host:port of nsqlookupd's HTTP listener (4161 by default), without a scheme or path: metadata.useHttps \"true\" selects https"}
		}
	}
	if m.DepthThreshold <= 0 {
		return &ParamError{Param: "depthThreshold", Problem: fmt.Sprintf("is %d", m.DepthThreshold),
			Fix: "must be at least 1: it is the number of waiting messages per replica the HPA aims at"}
	}
	if m.ActivationDepthThreshold < 0 {
		return &ParamError{Param: "activationDepthThreshold", Problem: fmt.Sprintf("is %d", m.ActivationDepthThreshold),
			Fix: "must be 0 or more: the trigger is active when the depth is above it"}
	}
	return nil
}

// checkNSQAddress accepts host or host:port. KEDA puts the value in a URL's host as it is, so
// anything else (a scheme, a path) fails every poll there; here it fails at admission.
func checkNSQAddress(a string) error {
	if strings.ContainsAny(a, "/?#@ ") {
		return errors.New("is not host:port")
	}
	host := a
	if h, port, err := net.SplitHostPort(a); err == nil {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return errors.New("has no port number between 1 and 65535")
		}
		host = h
	} else if strings.Contains(a, ":") && !strings.HasPrefix(a, "[") {
		// host:port with a bad port, or an IPv6 address without brackets.
		return errors.New("is not host:port")
	}
	if host == "" {
		return errors.New("has no host")
	}
	return nil
}
