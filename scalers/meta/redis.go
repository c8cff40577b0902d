package meta

import (
	"fmt"
)

// RedisMetadata is the list triggers' metadata, with KEDA's parameter names.
type RedisMetadata struct {
	ListLength           int64  `keda:"name=listLength, order=triggerMetadata, default=5"`
	ActivationListLength int64  `keda:"name=activationListLength, order=triggerMetadata, optional"`
	ListName             string `keda:"name=listName, order=triggerMetadata"`

	// The connection parameters every Redis trigger shares.
	RedisConnectionParams

	// Conn is the validated connection, set by Validate.
	Conn *RedisConnection
}

// redisClusterMetadata and redisSentinelMetadata have exactly redisMetadata's parameters; their
// types tell Validate which topology to check them for.
type (
	RedisClusterMetadata  RedisMetadata
	RedisSentinelMetadata RedisMetadata
)

func (m *RedisMetadata) Validate() error { return m.validate(RedisStandalone) }

func (m *RedisClusterMetadata) Validate() error { return (*RedisMetadata)(m).validate(RedisCluster) }

func (m *RedisSentinelMetadata) Validate() error { return (*RedisMetadata)(m).validate(RedisSentinel) }

// validate checks the list parameters first (offline, a missing connection parameter ends
// validation), then the connection.
func (m *RedisMetadata) validate(topology RedisTopology) error {
	if m.ListLength <= 0 {
		return &ParamError{Param: "listLength", Problem: fmt.Sprintf("is %d", m.ListLength), Fix: "must be greater than 0"}
	}
	if m.ActivationListLength < 0 {
		return &ParamError{Param: "activationListLength", Problem: fmt.Sprintf("is %d", m.ActivationListLength), Fix: "must not be negative"}
	}
	params := m.RedisConnectionParams
	conn, err := params.resolve(topology)
	if err != nil {
		return err
	}
	m.Conn = conn
	if topology == RedisStandalone {
		m.Address = conn.Addrs[0] // host and port, joined
	}
	return nil
}
