package scalers

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// The etcd trigger reads one key whose value is a number (a queue length a producer keeps up to
// date, say) and scales on it. It also watches the key (etcd_push.go), so that a change is seen at
// once rather than at the next poll.

// etcdMaxResponse bounds one answer of the server: the value of one key is all a poll reads, and a
// value of a megabyte is no number anyway.
const etcdMaxResponse = 1 << 20

// parseEtcdValue reads a key's value as the trigger's number. Blanks around it are allowed
// (`echo 5 | etcdctl put k` stores "5\n"); NaN and infinities are not, since every comparison
// with NaN is false and an infinite value has no quantity.
func parseEtcdValue(raw []byte) (float64, error) {
	text := strings.TrimSpace(string(raw))
	v, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("the value %s is not a finite number", meta.Quote(text, 64))
	}
	return v, nil
}

// etcdConn is the client of one source identity, dialled at its first use: the client
// authenticates as it is made, which must not happen under the pool's lock, and a failed attempt
// is made again at the next use.
type etcdConn struct {
	cfg clientv3.Config

	mu     sync.Mutex
	client *clientv3.Client
	closed bool
}

func (c *etcdConn) get() (*clientv3.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errors.New("the client is closed")
	}
	if c.client == nil {
		cl, err := clientv3.New(c.cfg)
		if err != nil {
			return nil, err
		}
		c.client = cl
	}
	return c.client, nil
}

func (c *etcdConn) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.client != nil {
		_ = c.client.Close()
		c.client = nil
	}
}

// etcdScaler reads the key once per poll.
type etcdScaler struct {
	cfg        *Config
	meta       meta.EtcdMetadata
	metricName string
	conn       *etcdConn
	release    func()
	// where names the source in errors: `etcd http://a:2379,http://b:2379`.
	where string
}

func newEtcdScaler(_ context.Context, cfg *Config) (Scaler, error) {
	s := &etcdScaler{cfg: cfg}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	// KEDA's name: the key, made safe for a metric name.
	s.metricName = MetricName(cfg.TriggerIndex, "etcd-"+s.meta.WatchKey)
	s.where = "etcd " + strings.Join(s.meta.Endpoints, ",")
	m := &s.meta
	parts := []any{m.Endpoints, m.Username, m.Password, m.TLS, m.CA, m.Cert, m.Key, m.KeyPassword, cfg.Timeout.String()}
	conn, release, err := acquirePooled(cfg.Clients, "etcd", parts, func() (*etcdConn, func(), error) {
		c := &etcdConn{cfg: clientv3.Config{
			Endpoints: m.Endpoints, Username: m.Username, Password: m.Password, TLS: m.TLSConfig,
			DialTimeout: cfg.Timeout,
			// A connection that died silently is noticed within a minute, for the watch.
			DialKeepAliveTime: 30 * time.Second, DialKeepAliveTimeout: cfg.Timeout,
			MaxCallRecvMsgSize: etcdMaxResponse,
			// The client's own log would go to the operator's stderr in another format.
			Logger: zap.NewNop(),
		}}
		return c, c.close, nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", triggerWho(cfg), err)
	}
	s.conn, s.release = conn, release
	return s, nil
}

func (s *etcdScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, s.meta.Value)
}

// GetMetricsAndActivity reads the key once, within the trigger's timeout; the trigger is active
// when the value is above activationValue.
func (s *etcdScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	v, err := s.read(ctx)
	if err != nil {
		return nil, false, err
	}
	return oneMetricValue(metricName, v), v > s.meta.ActivationValue, nil
}

func (s *etcdScaler) read(ctx context.Context) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	client, err := s.conn.get()
	if err != nil {
		return 0, s.failure(ctx, "connect to", err)
	}
	resp, err := client.Get(ctx, s.meta.WatchKey)
	if err != nil {
		return 0, s.failure(ctx, fmt.Sprintf("read key %q from", s.meta.WatchKey), err)
	}
	if len(resp.Kvs) == 0 {
		// As in KEDA: a missing key is an error, not 0 (the fallback applies, if any).
		return 0, fmt.Errorf("%s: key %q does not exist on %s: check watchKey, and that the producer has written it", triggerWho(s.cfg), s.meta.WatchKey, s.where)
	}
	v, err := parseEtcdValue(resp.Kvs[0].Value)
	if err != nil {
		return 0, fmt.Errorf("%s: key %q on %s: %w: the key must hold a number such as 12 or 0.5", triggerWho(s.cfg), s.meta.WatchKey, s.where, err)
	}
	return v, nil
}

func (s *etcdScaler) Close(context.Context) error {
	s.release()
	return nil
}

// failure words a failed call: the trigger, what it did where, the cause (without the password)
// and, when the cause is recognised, the parameters to check.
func (s *etcdScaler) failure(ctx context.Context, doing string, err error) error {
	timedOut := ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded)
	if timedOut && s.meta.TLSConfig != nil {
		// The client retries a failed handshake until the deadline and then reports only the
		// deadline: a handshake of our own tells why.
		if herr := etcdProbeTLS(s.meta.Endpoints[0], s.meta.TLSConfig); herr != nil {
			err = fmt.Errorf("%w (a TLS handshake with the first endpoint failed: %w)", err, herr)
		}
	}
	fix := etcdFix(err, timedOut, s.meta.TLS == "enable", s.cfg.Timeout)
	if fix != "" {
		fix = ": " + fix
	}
	secrets := []string{s.meta.Password, s.meta.KeyPassword}
	return redact(fmt.Errorf("%s: failed to %s %s: %w%s", triggerWho(s.cfg), doing, s.where, clipErr(redact(err, secrets), 300), fix), secrets)
}

// etcdProbeTLS makes a TLS handshake with endpoint (host:port or a URL) and reads once briefly: a
// TLS 1.3 server refuses a client certificate only after the client's side of the handshake is
// done. A read that times out means the handshake was accepted.
func etcdProbeTLS(endpoint string, cfg *tls.Config) error {
	hostPort := endpoint
	if u, err := url.Parse(endpoint); err == nil && u.Host != "" {
		if u.Scheme != "http" && u.Scheme != "https" {
			return nil
		}
		hostPort = u.Host
	}
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		return nil
	}
	c := cfg.Clone()
	if c.ServerName == "" {
		c.ServerName = host
	}
	c.NextProtos = []string{"h2"}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: etcdProbeTimeout}, "tcp", hostPort, c)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(etcdProbeTimeout))
	var b [1]byte
	if _, err := conn.Read(b[:]); err != nil {
		var netErr net.Error
		if errors.As(err, &netErr) && netErr.Timeout() {
			return nil
		}
		if strings.Contains(err.Error(), "tls:") {
			return err
		}
	}
	return nil
}

// etcdProbeTimeout bounds each step of the diagnostic handshake.
const etcdProbeTimeout = time.Second

// etcdFix recognises the usual causes of a failed call and names the parameters to check.
func etcdFix(err error, timedOut, tlsOn bool, timeout time.Duration) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "authentication failed") || strings.Contains(msg, "invalid auth token"):
		return "etcd refused the credentials: check username and password (in the TriggerAuthentication, or usernameFromEnv/passwordFromEnv)"
	case strings.Contains(msg, "user name is empty") || strings.Contains(msg, "user name not found"):
		return "etcd has authentication enabled: set username and password in the TriggerAuthentication"
	case strings.Contains(msg, "permission denied"):
		return "the user may not read the key: grant its role read on watchKey (etcdctl role grant-permission ROLE read KEY)"
	case strings.Contains(msg, "certificate required") || strings.Contains(msg, "bad certificate"):
		return "the server asks for a client certificate: put one its CA signed in the TriggerAuthentication parameters cert and key"
	case strings.Contains(msg, "x509:") || strings.Contains(msg, "tls:") || strings.Contains(msg, "handshake"):
		if !tlsOn {
			return `TLS failed: if the server serves TLS, set the TriggerAuthentication parameter tls to "enable" with ca (and cert and key if it asks for a client certificate)`
		}
		return "TLS failed: put the CA that signed the server's certificate in the TriggerAuthentication parameter ca, and a client certificate in cert and key if the server asks for one"
	case strings.Contains(msg, "connection refused"):
		return "nothing listens there: check endpoints"
	case strings.Contains(msg, "no such host"):
		return "a host name does not resolve: check endpoints"
	case timedOut || errors.Is(err, context.DeadlineExceeded):
		hint := "check endpoints"
		if !tlsOn {
			hint += `, and set tls to "enable" if the server serves TLS only`
		}
		return fmt.Sprintf("no answer within the trigger's timeout of %s: %s", timeout, hint)
	}
	return ""
}
