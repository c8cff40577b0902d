package scalers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kedactl/kedactl/scalers/meta"
	"github.com/redis/go-redis/v9"
)

func newRedisStreamsScaler(_ context.Context, cfg *Config) (Scaler, error) {
	var m meta.RedisStreamsMetadata
	if err := ParseMetadata(cfg, &m); err != nil {
		return nil, err
	}
	return newRedisStreamsScalerOf(&m, cfg), nil
}

func newRedisClusterStreamsScaler(_ context.Context, cfg *Config) (Scaler, error) {
	var m meta.RedisClusterStreamsMetadata
	if err := ParseMetadata(cfg, &m); err != nil {
		return nil, err
	}
	return newRedisStreamsScalerOf((*meta.RedisStreamsMetadata)(&m), cfg), nil
}

func newRedisSentinelStreamsScaler(_ context.Context, cfg *Config) (Scaler, error) {
	var m meta.RedisSentinelStreamsMetadata
	if err := ParseMetadata(cfg, &m); err != nil {
		return nil, err
	}
	return newRedisStreamsScalerOf((*meta.RedisStreamsMetadata)(&m), cfg), nil
}

// newRedisStreamsScalerOf reads what the mode says; KEDA names the metric s<index>-redis-streams-<stream>
// whatever the mode and topology.
func newRedisStreamsScalerOf(m *meta.RedisStreamsMetadata, cfg *Config) *redisScaler {
	stream, group := m.Stream, m.ConsumerGroup
	measure := redisMeasure{keyParam: "stream", keyKind: "stream"}
	var target int64
	switch m.Mode {
	case meta.RedisStreamLength:
		target = m.StreamLength
		measure.what = fmt.Sprintf("the length of stream %q", stream)
		measure.read = func(ctx context.Context, c redisClient) (int64, error) {
			return c.XLen(ctx, stream).Result() // 0 for a missing stream
		}
	case meta.RedisStreamPending:
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
	case meta.RedisStreamLag:
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
	return newRedisFamilyScaler(cfg, m.Conn, MetricName(cfg.TriggerIndex, "redis-streams-"+stream), target, m.ActivationLagCount, measure)
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
