package meta

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// BeanstalkdMetadata is the beanstalkd trigger's metadata, with KEDA's parameter names.
type BeanstalkdMetadata struct {
	Server          string  `keda:"name=server, order=triggerMetadata"`
	Tube            string  `keda:"name=tube, order=triggerMetadata"`
	Value           float64 `keda:"name=value, order=triggerMetadata"`
	ActivationValue float64 `keda:"name=activationValue, order=triggerMetadata, optional"`
	IncludeDelayed  bool    `keda:"name=includeDelayed, order=triggerMetadata, optional"`
	// Timeout bounds the connection's dial, as in KEDA, which reads a bare number as milliseconds:
	// its default of 30 is 30ms.
	Timeout string `keda:"name=timeout, order=triggerMetadata, default=30"`

	// DialTimeout is Timeout read, set by Validate.
	DialTimeout time.Duration
}

// Validate checks what the metadata alone decides. The tube's name is checked against the
// protocol's rules because it is written into the command line: a space or a line break in it
// would make another command.
func (m *BeanstalkdMetadata) Validate() error {
	if err := checkBeanstalkdServer(m.Server); err != nil {
		return err
	}
	if problem := beanstalkdNameProblem(m.Tube); problem != "" {
		return &ParamError{Param: "tube", Problem: problem,
			Fix: "a tube name is 1 to 200 letters, digits and - + / ; . $ _ ( ), not starting with -"}
	}
	if m.Value <= 0 {
		return &ParamError{Param: "value", Problem: fmt.Sprintf("is %g", m.Value), Fix: "must be greater than 0: it is the number of jobs per replica the HPA aims at"}
	}
	if m.ActivationValue < 0 {
		return &ParamError{Param: "activationValue", Problem: fmt.Sprintf("is %g", m.ActivationValue), Fix: "must not be negative"}
	}
	d, err := ParseTriggerTimeout(m.Timeout)
	if err != nil {
		return err
	}
	m.DialTimeout = d
	return nil
}

// checkBeanstalkdServer refuses a server that is not host:port; KEDA would fail at its dial.
func checkBeanstalkdServer(server string) error {
	const fix = "use host:port, such as beanstalkd.default.svc:11300"
	host, port, err := net.SplitHostPort(server)
	if err != nil {
		return &ParamError{Param: "server", Problem: Quote(server, 100) + " is not host:port", Fix: fix}
	}
	if host == "" {
		return &ParamError{Param: "server", Problem: Quote(server, 100) + " has no host", Fix: fix}
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 {
		return &ParamError{Param: "server", Problem: Quote(server, 100) + " has no valid port", Fix: fix}
	}
	return nil
}

// beanstalkdNameProblem says what is wrong with a tube name under the protocol's rules, or "".
func beanstalkdNameProblem(name string) string {
	switch {
	case len(name) > 200:
		return fmt.Sprintf("is %d bytes long", len(name))
	case strings.HasPrefix(name, "-"):
		return "starts with -"
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-+/;.$_()", r)
		if !ok {
			return fmt.Sprintf("%s holds %q", Quote(name, 100), r)
		}
	}
	return ""
}
