package scalers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// redisStreamsMetadata is the stream triggers' metadata (redis-streams, redis-cluster-streams,
// redis-sentinel-streams), with KEDA's parameter names. Which value is read depends on what is
// set, as in KEDA:
//   - no consumerGroup: the stream's length (XLEN), target streamLength;
//   - consumerGroup and lagCount: the group's lag (XINFO GROUPS, Redis 7+), target lagCount;
//   - consumerGroup alone: the group's pending entries (XPENDING), target pendingEntriesCount.
//
// Whatever is read, the trigger is active when it is above activationLagCount.
type redisStreamsMetadata struct {
	PendingEntriesCount int64  `keda:"name=pendingEntriesCount, order=triggerMetadata, default=5"`
	StreamLength        int64  `keda:"name=streamLength, order=triggerMetadata, default=5"`
	LagCount            *int64 `keda:"name=lagCount, order=triggerMetadata, optional"`
	Stream              string `keda:"name=stream, order=triggerMetadata"`
	ConsumerGroup       string `keda:"name=consumerGroup, order=triggerMetadata, optional"`
	ActivationLagCount  int64  `keda:"name=activationLagCount, order=triggerMetadata, default=0"`

	// The connection parameters every Redis trigger shares.
	redisConnectionParams

	// mode and conn are set by Validate.
	mode redisStreamsMode
	conn *redisConnection
}

// redisStreamsMode is what a stream trigger reads.
type redisStreamsMode int

const (
	redisStreamLength redisStreamsMode = iota
	redisStreamPending
	redisStreamLag
)

// redisClusterStreamsMetadata and redisSentinelStreamsMetadata have exactly
// redisStreamsMetadata's parameters; their types tell Validate the topology.
type (
	redisClusterStreamsMetadata  redisStreamsMetadata
	redisSentinelStreamsMetadata redisStreamsMetadata
)

func (m *redisStreamsMetadata) Validate() error { return m.validate(redisStandalone) }
func (m *redisClusterStreamsMetadata) Validate() error {
	return (*redisStreamsMetadata)(m).validate(redisCluster)
}
func (m *redisSentinelStreamsMetadata) Validate() error {
	return (*redisStreamsMetadata)(m).validate(redisSentinel)
}

// validate picks the mode and checks its target, then the connection.
func (m *redisStreamsMetadata) validate(topology redisTopology) error {
	switch {
	case m.ConsumerGroup == "":
		// KEDA ignores pendingEntriesCount and lagCount without a consumer group; so do we.
		m.mode = redisStreamLength
		if m.StreamLength <= 0 {
			return &ParamError{Param: "streamLength", Problem: fmt.Sprintf("is %d", m.StreamLength), Fix: "must be greater than 0"}
		}
	case m.LagCount != nil:
		m.mode = redisStreamLag
		if *m.LagCount <= 0 {
			return &ParamError{Param: "lagCount", Problem: fmt.Sprintf("is %d", *m.LagCount), Fix: "must be greater than 0; remove it to scale on pendingEntriesCount instead"}
		}
	default:
		m.mode = redisStreamPending
		if m.PendingEntriesCount <= 0 {
			return &ParamError{Param: "pendingEntriesCount", Problem: fmt.Sprintf("is %d", m.PendingEntriesCount), Fix: "must be greater than 0"}
		}
	}
	if m.ActivationLagCount < 0 {
		return &ParamError{Param: "activationLagCount", Problem: fmt.Sprintf("is %d", m.ActivationLagCount), Fix: "must not be negative"}
	}
	params := m.redisConnectionParams
	conn, err := params.resolve(topology)
	if err != nil {
		return err
	}
	m.conn = conn
	return nil
}

func newRedisStreamsScaler(_ context.Context, cfg *Config) (Scaler, error) {
	var m redisStreamsMetadata
	if err := ParseMetadata(cfg, &m); err != nil {
		return nil, err
	}
	return m.newScaler(cfg), nil
}

func newRedisClusterStreamsScaler(_ context.Context, cfg *Config) (Scaler, error) {
	var m redisClusterStreamsMetadata
	if err := ParseMetadata(cfg, &m); err != nil {
		return nil, err
	}
	return (*redisStreamsMetadata)(&m).newScaler(cfg), nil
}

func newRedisSentinelStreamsScaler(_ context.Context, cfg *Config) (Scaler, error) {
	var m redisSentinelStreamsMetadata
	if err := ParseMetadata(cfg, &m); err != nil {
		return nil, err
	}
	return (*redisStreamsMetadata)(&m).newScaler(cfg), nil
}

// newScaler reads what the mode says; KEDA names the metric s<index>-redis-streams-<stream>
// whatever the mode and topology.
func (m *redisStreamsMetadata) newScaler(cfg *Config) *redisScaler {
	stream, group := m.Stream, m.ConsumerGroup
	measure := redisMeasure{keyParam: "stream", keyKind: "stream"}
	var target int64
	switch m.mode {
	case redisStreamLength:
		target = m.StreamLength
		measure.what = fmt.Sprintf("the length of stream %q", stream)
		measure.read = func(ctx context.Context, c redisClient) (int64, error) {
			return c.XLen(ctx, stream).Result() // 0 for a missing stream
		}
	case redisStreamPending:
		target = m.PendingEntriesCount
		measure.what = fmt.Sprintf("the pending entries of consumer group %q of stream %q", group, stream)
		measure.read = func(ctx context.Context, c redisClient) (int64, error) {
			p, err := c.XPending(ctx, stream, group).Result()
			if isRedisMissing(err) {
				return 0, nil
			}
			if err != nil {
				return 0, err
			}
			return p.Count, nil
		}
	case redisStreamLag:
		target = *m.LagCount
		measure.what = fmt.Sprintf("the lag of consumer group %q of stream %q", group, stream)
		measure.read = func(ctx context.Context, c redisClient) (int64, error) {
			groups, err := c.XInfoGroups(ctx, stream).Result()
			if isRedisMissing(err) {
				return 0, nil
			}
			if err != nil {
				return 0, err
			}
			for _, g := range groups {
				if g.Name != group {
					continue
				}
				if g.Lag < 0 {
					return 0, errRedisLagUnknown
				}
				return g.Lag, nil
			}
			return 0, nil // no such group yet: nothing has been delivered to it
		}
	}
	return newRedisFamilyScaler(cfg, m.conn, MetricName(cfg.TriggerIndex, "redis-streams-"+stream), target, m.ActivationLagCount, measure)
}

// errRedisLagUnknown: Redis answers a NULL lag when entries were deleted from the stream in a
// way that keeps it from counting the undelivered ones.
var errRedisLagUnknown = errors.New("the group's lag is unknown to Redis (entries were deleted from the stream after the group's last delivered entry): " +
	"scale on pendingEntriesCount (remove lagCount) or streamLength (remove consumerGroup), or stop deleting entries that were not delivered yet")

// isRedisMissing reports a missing stream or consumer group, which KEDA reads as 0: a stream
// nobody wrote to yet, or a group its consumers have not created yet.
func isRedisMissing(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, redis.Nil) {
		return true
	}
	msg := strings.ToLower(err.Error())
	return strings.HasPrefix(msg, "nogroup") || strings.Contains(msg, "no such key")
}
