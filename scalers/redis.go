package scalers

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"

	"github.com/redis/go-redis/v9"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// redisMetadata is the redis (Lists) trigger's metadata, with KEDA's parameter names. The
// sentinel and multi-address parameters are shared with the redis-cluster and redis-sentinel
// variants; they are accepted here as KEDA accepts them.
type redisMetadata struct {
	ListLength           int64  `keda:"name=listLength, order=triggerMetadata, default=5"`
	ActivationListLength int64  `keda:"name=activationListLength, order=triggerMetadata, optional"`
	ListName             string `keda:"name=listName, order=triggerMetadata"`
	DatabaseIndex        int    `keda:"name=databaseIndex, order=triggerMetadata, optional"`
	EnableTLS            bool   `keda:"name=enableTLS, order=triggerMetadata, optional"`
	TLS                  string `keda:"name=tls, order=authParams, optional, enum=enable;disable"`

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

// Validate checks the parameters that depend on each other.
func (m *redisMetadata) Validate() error {
	if m.Address == "" {
		if m.Host == "" {
			return &ParamError{Param: "address", Problem: "is required", Fix: "set metadata.address (host:port), or metadata.host and metadata.port, directly, through ...FromEnv or a TriggerAuthentication"}
		}
		if m.Port == "" {
			return &ParamError{Param: "port", Problem: "is required when host is set", Fix: "set metadata.port, or use metadata.address (host:port)"}
		}
		m.Address = net.JoinHostPort(m.Host, m.Port)
	}
	if m.ListLength <= 0 {
		return &ParamError{Param: "listLength", Problem: fmt.Sprintf("is %d", m.ListLength), Fix: "must be greater than 0"}
	}
	if m.ActivationListLength < 0 {
		return &ParamError{Param: "activationListLength", Problem: fmt.Sprintf("is %d", m.ActivationListLength), Fix: "must not be negative"}
	}
	return nil
}

type redisScaler struct {
	cfg        *Config
	meta       redisMetadata
	metricName string
	client     *redis.Client
}

func newRedisScaler(_ context.Context, cfg *Config) (Scaler, error) {
	s := &redisScaler{cfg: cfg}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	s.metricName = MetricName(cfg.TriggerIndex, "redis-"+s.meta.ListName)
	opts := &redis.Options{
		Addr:         s.meta.Address,
		Username:     s.meta.Username,
		Password:     s.meta.Password,
		DB:           s.meta.DatabaseIndex,
		DialTimeout:  cfg.Timeout,
		ReadTimeout:  cfg.Timeout,
		WriteTimeout: cfg.Timeout,
		PoolSize:     2,
		MaxRetries:   -1,
	}
	if s.meta.EnableTLS || s.meta.TLS == "enable" {
		opts.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: s.meta.UnsafeSsl} //nolint:gosec // unsafeSsl is the user's explicit choice
	}
	s.client = redis.NewClient(opts)
	return s, nil
}

func (s *redisScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	spec, err := ExternalMetricSpec(s.cfg, s.metricName, float64(s.meta.ListLength))
	if err != nil {
		return nil
	}
	return []autoscalingv2.MetricSpec{spec}
}

func (s *redisScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	n, err := s.client.LLen(ctx, s.meta.ListName).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, false, fmt.Errorf("failed to read the length of redis list %q at %s: %w", s.meta.ListName, s.meta.Address, err)
	}
	return []external_metrics.ExternalMetricValue{{MetricName: metricName, Value: *resource.NewQuantity(n, resource.DecimalSI)}},
		n > s.meta.ActivationListLength, nil
}

func (s *redisScaler) Close(context.Context) error {
	return s.client.Close()
}
