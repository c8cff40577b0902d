package scalers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// The beanstalkd trigger counts the jobs of one tube with beanstalkd's stats-tube command: the
// ready and the reserved ones, and the delayed ones with includeDelayed. A tube the server does
// not know (NOT_FOUND: beanstalkd drops a tube once it is empty and unwatched) counts 0 jobs, as in
// KEDA. The protocol client is beanstalkd_conn.go.

// beanstalkdMetadata is the beanstalkd trigger's metadata, with KEDA's parameter names.
type beanstalkdMetadata struct {
	Server          string  `keda:"name=server, order=triggerMetadata"`
	Tube            string  `keda:"name=tube, order=triggerMetadata"`
	Value           float64 `keda:"name=value, order=triggerMetadata"`
	ActivationValue float64 `keda:"name=activationValue, order=triggerMetadata, optional"`
	IncludeDelayed  bool    `keda:"name=includeDelayed, order=triggerMetadata, optional"`
	// Timeout bounds the connection's dial, as in KEDA, which reads a bare number as milliseconds:
	// its default of 30 is 30ms.
	Timeout string `keda:"name=timeout, order=triggerMetadata, default=30"`

	// dialTimeout is Timeout read, set by Validate.
	dialTimeout time.Duration
}

// Validate checks what the metadata alone decides. The tube's name is checked against the
// protocol's rules because it is written into the command line: a space or a line break in it
// would make another command.
func (m *beanstalkdMetadata) Validate() error {
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
	d, err := parseTriggerTimeout(m.Timeout)
	if err != nil {
		return err
	}
	m.dialTimeout = d
	return nil
}

// checkBeanstalkdServer refuses a server that is not host:port; KEDA would fail at its dial.
func checkBeanstalkdServer(server string) error {
	const fix = "use host:port, such as beanstalkd.default.svc:11300"
	host, port, err := net.SplitHostPort(server)
	if err != nil {
		return &ParamError{Param: "server", Problem: strconv.Quote(clip(server, 100)) + " is not host:port", Fix: fix}
	}
	if host == "" {
		return &ParamError{Param: "server", Problem: strconv.Quote(clip(server, 100)) + " has no host", Fix: fix}
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 {
		return &ParamError{Param: "server", Problem: strconv.Quote(clip(server, 100)) + " has no valid port", Fix: fix}
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
			return fmt.Sprintf("%q holds %q", clip(name, 100), r)
		}
	}
	return ""
}

// beanstalkdScaler reads one tube's counts on each poll, on the connection it shares with the
// other triggers of the same server.
type beanstalkdScaler struct {
	cfg        *Config
	meta       beanstalkdMetadata
	conn       *beanstalkdConn
	release    func()
	metricName string
}

func newBeanstalkdScaler(_ context.Context, cfg *Config) (Scaler, error) {
	s := &beanstalkdScaler{cfg: cfg}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	// KEDA query-escapes the tube before normalizing it: "a/b" is s0-beanstalkd-a-2Fb.
	s.metricName = MetricName(cfg.TriggerIndex, "beanstalkd-"+url.QueryEscape(s.meta.Tube))
	// The connection is the server's alone: beanstalkd has no credentials, and the tube and the
	// timeouts belong to each request.
	conn, release, err := acquirePooled(cfg.Clients, "beanstalkd", []any{s.meta.Server}, func() (*beanstalkdConn, func(), error) {
		c := newBeanstalkdConn(s.meta.Server)
		return c, c.close, nil
	})
	if err != nil {
		return nil, err
	}
	s.conn, s.release = conn, release
	return s, nil
}

func (s *beanstalkdScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, s.meta.Value)
}

// GetMetricsAndActivity reads the tube's counts once, within the trigger's timeout; the trigger
// is active when the count is above activationValue.
func (s *beanstalkdScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	stats, found, err := s.conn.statsTube(ctx, s.meta.Tube, s.meta.dialTimeout)
	if err != nil {
		return nil, false, s.fail(ctx, err)
	}
	var n int64
	if found {
		n = stats.jobs(s.meta.IncludeDelayed)
	}
	return []external_metrics.ExternalMetricValue{{MetricName: metricName, Value: *resource.NewQuantity(n, resource.DecimalSI)}},
		float64(n) > s.meta.ActivationValue, nil
}

func (s *beanstalkdScaler) Close(context.Context) error {
	s.release()
	return nil
}

// fail names the trigger, the tube and the server, the cause and, when it is recognised, what to
// check.
func (s *beanstalkdScaler) fail(ctx context.Context, err error) error {
	msg := fmt.Sprintf("%s: could not read the stats of tube %q from beanstalkd at %s: %v", triggerWho(s.cfg), s.meta.Tube, s.meta.Server, clipErr(err, 300))
	if fix := s.fix(ctx, err); fix != "" {
		msg += ": " + fix
	}
	return &rewordedError{msg: msg, err: err}
}

func (s *beanstalkdScaler) fix(ctx context.Context, err error) string {
	var dial *beanstalkdDialError
	var netErr net.Error
	timedOut := errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout())
	msg := err.Error()
	switch {
	case errors.As(err, &dial) && timedOut && dial.timeout < s.cfg.Timeout:
		return fmt.Sprintf("no connection within metadata.timeout of %s (a bare number is milliseconds, as in KEDA): check metadata.server, or raise metadata.timeout, such as 5s", dial.timeout)
	case timedOut:
		return fmt.Sprintf("no answer within the trigger's timeout of %s: check metadata.server, and that beanstalkd listens there", s.cfg.Timeout)
	case strings.Contains(msg, "connection refused"):
		return "nothing listens there: check metadata.server"
	case strings.Contains(msg, "no such host"):
		return "the host name does not resolve: check metadata.server"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(msg, "connection reset"):
		return "the server closed the connection: check that metadata.server is beanstalkd's address"
	case errors.Is(err, errBeanstalkdNotBeanstalkd):
		return "check that metadata.server is beanstalkd's address"
	}
	return ""
}
