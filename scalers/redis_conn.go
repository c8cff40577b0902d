package scalers

import (
	"context"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
	"github.com/redis/go-redis/v9"
)

// redisClient is what the Redis scalers use of go-redis. *redis.Client (one server, or the
// master found through sentinels) and *redis.ClusterClient both provide it; tests use a fake.
type redisClient interface {
	LLen(ctx context.Context, key string) *redis.IntCmd
	XLen(ctx context.Context, stream string) *redis.IntCmd
	XPending(ctx context.Context, stream, group string) *redis.XPendingCmd
	XInfoGroups(ctx context.Context, key string) *redis.XInfoGroupsCmd
	Close() error
}

// Per trigger: a poll needs one connection (per cluster node); a second lets a poll proceed
// while a broken one is replaced.
const redisPoolSize = 2

// A client shared by many triggers: a poll holds a connection for one round trip, so eight let
// eight polls of one server run at once (more wait their turn, within their timeout), and
// bound what one operator opens to a server however many triggers read it.
const redisSharedPoolSize = 8

// redisNewClient returns the go-redis client of the trigger: with clients, the one client of
// every trigger of the same identity (addresses, topology, credentials, database, TLS material
// and timeout), closed when the last of them closes it. Every wait is bounded by timeout, and
// the context's deadline applies to reads and writes; there are no retries, so a failed poll
// returns within the timeout and the next poll tries again.
func redisNewClient(c *meta.RedisConnection, clients *ClientPool, timeout time.Duration) redisClient {
	if clients == nil {
		return redisBuild(c, timeout, redisPoolSize)
	}
	parts := []any{c.Topology, c.Addrs, c.Username, c.Password, c.SentinelMaster, c.SentinelUsername, c.SentinelPassword, c.DB, c.TLSIdentity, timeout.String()}
	client, release, err := acquirePooled(clients, "redis", parts, func() (redisClient, func(), error) {
		cl := redisBuild(c, timeout, redisSharedPoolSize)
		return cl, func() { _ = cl.Close() }, nil
	})
	if err != nil {
		// The identity is strings and numbers: encoding it cannot fail. Should it, the trigger
		// still works, on a client of its own.
		return redisBuild(c, timeout, redisPoolSize)
	}
	return &sharedRedisClient{redisClient: client, release: release}
}

// sharedRedisClient is a trigger's handle on a shared client: Close releases the trigger's
// reference instead of closing the connections other triggers use.
type sharedRedisClient struct {
	redisClient
	release func()
}

func (s *sharedRedisClient) Close() error {
	s.release()
	return nil
}

// redisBuild returns a go-redis client for the topology with at most poolSize connections (per node).
func redisBuild(c *meta.RedisConnection, timeout time.Duration, poolSize int) redisClient {
	switch c.Topology {
	case meta.RedisCluster:
		return redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: c.Addrs, Username: c.Username, Password: c.Password, TLSConfig: c.TLSConfig,
			DialTimeout: timeout, ReadTimeout: timeout, WriteTimeout: timeout, ContextTimeoutEnabled: true,
			PoolSize: poolSize, MaxRetries: -1, DialerRetries: 1, Dialer: guardedRedisDialer(timeout, c.TLSConfig),
		})
	case meta.RedisSentinel:
		return redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: c.SentinelMaster, SentinelAddrs: c.Addrs, SentinelUsername: c.SentinelUsername, SentinelPassword: c.SentinelPassword,
			Username: c.Username, Password: c.Password, DB: c.DB, TLSConfig: c.TLSConfig,
			DialTimeout: timeout, ReadTimeout: timeout, WriteTimeout: timeout, ContextTimeoutEnabled: true,
			PoolSize: poolSize, MaxRetries: -1, DialerRetries: 1, Dialer: guardedRedisDialer(timeout, c.TLSConfig),
		})
	default:
		return redis.NewClient(&redis.Options{
			Addr: c.Addrs[0], Username: c.Username, Password: c.Password, DB: c.DB, TLSConfig: c.TLSConfig,
			DialTimeout: timeout, ReadTimeout: timeout, WriteTimeout: timeout, ContextTimeoutEnabled: true,
			PoolSize: poolSize, MaxRetries: -1, DialerRetries: 1, Dialer: guardedRedisDialer(timeout, c.TLSConfig),
		})
	}
}
