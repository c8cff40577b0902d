package meta

import (
	"fmt"
)

// RedisStreamsMetadata is the stream triggers' metadata (redis-streams, redis-cluster-streams,
// redis-sentinel-streams), with KEDA's parameter names. Which value is read depends on what is
// set, as in KEDA:
//   - no consumerGroup: the stream's length (XLEN), target streamLength;
//   - consumerGroup and lagCount: the group's lag (XINFO GROUPS, Redis 7+), target lagCount;
//   - consumerGroup alone: the group's pending entries (XPENDING), target pendingEntriesCount.
//
// Whatever is read, the trigger is active when it is above activationLagCount.
type RedisStreamsMetadata struct {
	PendingEntriesCount int64  `keda:"name=pendingEntriesCount, order=triggerMetadata, default=5"`
	StreamLength        int64  `keda:"name=streamLength, order=triggerMetadata, default=5"`
	LagCount            *int64 `keda:"name=lagCount, order=triggerMetadata, optional"`
	Stream              string `keda:"name=stream, order=triggerMetadata"`
	ConsumerGroup       string `keda:"name=consumerGroup, order=triggerMetadata, optional"`
	ActivationLagCount  int64  `keda:"name=activationLagCount, order=triggerMetadata, default=0"`

	// The connection parameters every Redis trigger shares.
	RedisConnectionParams

	// Mode and conn are set by Validate.
	Mode RedisStreamsMode
	Conn *RedisConnection
}

// RedisStreamsMode is what a stream trigger reads.
type RedisStreamsMode int

const (
	RedisStreamLength RedisStreamsMode = iota
	RedisStreamPending
	RedisStreamLag
)

// redisClusterStreamsMetadata and redisSentinelStreamsMetadata have exactly
// redisStreamsMetadata's parameters; their types tell Validate the topology.
type (
	RedisClusterStreamsMetadata  RedisStreamsMetadata
	RedisSentinelStreamsMetadata RedisStreamsMetadata
)

func (m *RedisStreamsMetadata) Validate() error { return m.validate(RedisStandalone) }

func (m *RedisClusterStreamsMetadata) Validate() error {
	return (*RedisStreamsMetadata)(m).validate(RedisCluster)
}

func (m *RedisSentinelStreamsMetadata) Validate() error {
	return (*RedisStreamsMetadata)(m).validate(RedisSentinel)
}

// validate picks the mode and checks its target, then the connection.
func (m *RedisStreamsMetadata) validate(topology RedisTopology) error {
	switch {
	case m.ConsumerGroup == "":
		// KEDA ignores pendingEntriesCount and lagCount without a consumer group; so do we.
		m.Mode = RedisStreamLength
		if m.StreamLength <= 0 {
			return &ParamError{Param: "streamLength", Problem: fmt.Sprintf("is %d", m.StreamLength), Fix: "must be greater than 0"}
		}
	case m.LagCount != nil:
		m.Mode = RedisStreamLag
		if *m.LagCount <= 0 {
			return &ParamError{Param: "lagCount", Problem: fmt.Sprintf("is %d", *m.LagCount), Fix: "must be greater than 0; remove it to scale on pendingEntriesCount instead"}
		}
	default:
		m.Mode = RedisStreamPending
		if m.PendingEntriesCount <= 0 {
			return &ParamError{Param: "pendingEntriesCount", Problem: fmt.Sprintf("is %d", m.PendingEntriesCount), Fix: "must be greater than 0"}
		}
	}
	if m.ActivationLagCount < 0 {
		return &ParamError{Param: "activationLagCount", Problem: fmt.Sprintf("is %d", m.ActivationLagCount), Fix: "must not be negative"}
	}
	params := m.RedisConnectionParams
	conn, err := params.resolve(topology)
	if err != nil {
		return err
	}
	m.Conn = conn
	return nil
}
