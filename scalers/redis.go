package scalers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/kedactl/kedactl/scalers/meta"
	"github.com/redis/go-redis/v9"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// The Redis family. redis, redis-cluster and redis-sentinel read the length of a list (this
// file); redis-streams, redis-cluster-streams and redis-sentinel-streams read a stream
// (redis_streams.go). All six share the connection parameters and client (redis_conn.go) and one
// scaler, redisScaler, which runs one measurement on whichever client the topology needs.

func newRedisScaler(_ context.Context, cfg *Config) (Scaler, error) {
	var m meta.RedisMetadata
	if err := ParseMetadata(cfg, &m); err != nil {
		return nil, err
	}
	return newRedisListScaler(&m, cfg), nil
}

func newRedisClusterScaler(_ context.Context, cfg *Config) (Scaler, error) {
	var m meta.RedisClusterMetadata
	if err := ParseMetadata(cfg, &m); err != nil {
		return nil, err
	}
	return newRedisListScaler((*meta.RedisMetadata)(&m), cfg), nil
}

func newRedisSentinelScaler(_ context.Context, cfg *Config) (Scaler, error) {
	var m meta.RedisSentinelMetadata
	if err := ParseMetadata(cfg, &m); err != nil {
		return nil, err
	}
	return newRedisListScaler((*meta.RedisMetadata)(&m), cfg), nil
}

// newRedisListScaler reads the list's length; KEDA names the metric s<index>-redis-<listName> whatever
// the topology.
func newRedisListScaler(m *meta.RedisMetadata, cfg *Config) *redisScaler {
	list := m.ListName
	s := newRedisFamilyScaler(cfg, m.Conn, MetricName(cfg.TriggerIndex, "redis-"+list), m.ListLength, m.ActivationListLength, redisMeasure{
		what: fmt.Sprintf("the length of list %q", list), keyParam: "listName", keyKind: "list",
		read: func(ctx context.Context, c redisClient) (int64, error) {
			n, err := c.LLen(ctx, list).Result()
			if errors.Is(err, redis.Nil) {
				return 0, nil
			}
			return n, err
		},
	})
	s.pushKey = list
	return s
}

// redisMeasure is the one read a Redis trigger makes per poll.
type redisMeasure struct {
	// what it reads, for errors: `the length of list "jobs"`.
	what string
	// keyParam is the parameter naming the key (listName, stream) and keyKind the type the key
	// must hold, for the fix of a WRONGTYPE error.
	keyParam, keyKind string
	read              func(ctx context.Context, c redisClient) (int64, error)
}

// redisScaler is every Redis trigger: one connection, one measurement, one metric.
type redisScaler struct {
	cfg        *Config
	conn       *meta.RedisConnection
	client     redisClient
	metricName string
	target     int64
	activation int64
	measure    redisMeasure
	// pushKey is the list whose keyspace notifications make the trigger push (redis_push.go);
	// empty for the streams triggers.
	pushKey string
}

func newRedisFamilyScaler(cfg *Config, conn *meta.RedisConnection, metricName string, target, activation int64, m redisMeasure) *redisScaler {
	return &redisScaler{cfg: cfg, conn: conn, client: redisNewClient(conn, cfg.Clients, cfg.Timeout), metricName: metricName, target: target, activation: activation, measure: m}
}

func (s *redisScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, float64(s.target))
}

// GetMetricsAndActivity reads the source once, within the trigger's timeout; the trigger is
// active when the value is above the activation threshold.
func (s *redisScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	n, err := s.measure.read(ctx, s.client)
	if err != nil {
		return nil, false, s.failure(ctx, err)
	}
	if n < 0 {
		// Redis counts nothing below 0; a proxy or another server on the port might answer so,
		// and a negative value would read as no backlog.
		return nil, false, redact(fmt.Errorf("%s: %s on %s is %d, which no count can be: check that the address is a Redis server", redisTrigger(s.cfg), s.measure.what, s.conn, n), s.conn.Secrets())
	}
	return []external_metrics.ExternalMetricValue{{MetricName: metricName, Value: *resource.NewQuantity(n, resource.DecimalSI)}},
		n > s.activation, nil
}

func (s *redisScaler) Close(context.Context) error {
	return s.client.Close()
}

// failure words a failed read: the trigger, what was read from where, the cause and, when the
// cause is recognised, the parameters to check. Passwords are removed from the text.
func (s *redisScaler) failure(ctx context.Context, err error) error {
	fix := s.fix(ctx, err)
	if fix != "" {
		fix = ": " + fix
	}
	return redact(fmt.Errorf("%s: could not read %s from %s: %w%s", redisTrigger(s.cfg), s.measure.what, s.conn, clipErr(redact(err, s.conn.Secrets()), 300), fix), s.conn.Secrets())
}

// fix recognises the usual causes of a failed read and names the parameters to check.
func (s *redisScaler) fix(ctx context.Context, err error) string {
	where := "address (or host and port)"
	switch s.conn.Topology {
	case meta.RedisCluster:
		where = "addresses (or hosts and ports)"
	case meta.RedisSentinel:
		where = "addresses (or hosts and ports) of the sentinels"
	}
	msg := err.Error()
	refused := strings.Contains(msg, "WRONGPASS") || strings.Contains(msg, "NOAUTH") || strings.Contains(msg, "invalid password") ||
		strings.Contains(msg, "invalid username-password") || strings.Contains(msg, "without any password configured")
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		return fmt.Sprintf("no answer within the trigger's timeout of %s: check %s, and that enableTLS matches the server", s.cfg.Timeout, where)
	case strings.Contains(msg, "connection refused"):
		return "nothing listens there: check " + where
	case strings.Contains(msg, "no such host"):
		return "the host name does not resolve: check " + where
	case s.conn.Topology == meta.RedisSentinel && strings.Contains(msg, "sentinels"):
		// go-redis asked the sentinels for the master and none answered it.
		switch {
		case refused:
			return "the sentinels refused the credentials: check sentinelUsername and sentinelPassword (set directly, with ...FromEnv or in a TriggerAuthentication)"
		case strings.Contains(msg, "redis: nil"):
			return fmt.Sprintf("the sentinels monitor no master named %q: check sentinelMaster", s.conn.SentinelMaster)
		}
		return "check " + where + ", sentinelMaster, sentinelUsername and sentinelPassword"
	case refused:
		return "Redis refused the credentials: check username and password (set directly, with usernameFromEnv/passwordFromEnv or in a TriggerAuthentication)"
	case strings.Contains(msg, "WRONGTYPE"):
		return fmt.Sprintf("the key holds another type than a %s: check %s", s.measure.keyKind, s.measure.keyParam)
	case strings.Contains(msg, "x509:") || strings.Contains(msg, "tls:"):
		return `TLS failed: put the CA that signed the server's certificate in the TriggerAuthentication parameter ca (or set unsafeSsl: "true" to skip verification), a client certificate in cert and key if the server asks for one, and check that the server serves TLS`
	case (errors.Is(err, io.EOF) || strings.Contains(msg, "connection reset")) && s.conn.TLSConfig != nil:
		// A TLS 1.3 server refuses a client certificate after the client's side of the handshake
		// is done: the client may see its alert, or only the closed connection.
		return "the server closed the connection: if it asks for a client certificate, put one in the TriggerAuthentication parameters cert and key"
	case errors.Is(err, io.EOF) || strings.Contains(msg, "connection reset"):
		return `the server closed the connection: if it serves TLS only, set enableTLS: "true"`
	}
	return ""
}

// redisTrigger names the trigger as ParamError does: `trigger 0 (redis-cluster "orders")`.
func redisTrigger(cfg *Config) string {
	who := fmt.Sprintf("trigger %d (%s", cfg.TriggerIndex, cfg.TriggerType)
	if cfg.TriggerName != "" {
		who += " " + strconv.Quote(cfg.TriggerName)
	}
	return who + ")"
}
