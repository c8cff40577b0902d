package scalers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// The beanstalkd trigger counts the jobs of one tube with beanstalkd's stats-tube command: the
// ready and the reserved ones, and the delayed ones with includeDelayed. A tube the server does
// not know (NOT_FOUND: beanstalkd drops a tube once it is empty and unwatched) counts 0 jobs, as in
// KEDA. The protocol client is beanstalkd_conn.go.

// beanstalkdScaler reads one tube's counts on each poll, on the connection it shares with the
// other triggers of the same server.
type beanstalkdScaler struct {
	cfg        *Config
	meta       meta.BeanstalkdMetadata
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
	stats, found, err := s.conn.statsTube(ctx, s.meta.Tube, s.meta.DialTimeout)
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
