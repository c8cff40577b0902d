package scalers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
	"github.com/redis/go-redis/v9"
)

// The Redis list triggers push when the server publishes keyspace notifications for the list:
// an LPUSH from the producer is seen at once instead of at the next poll. Redis sends them only
// when notify-keyspace-events enables them, which is the operator's choice: the scaler reads the
// setting and never changes it. Without them, Run returns and the trigger is polled as before.

// redisPushRetryMin and redisPushRetryMax bound the wait before subscribing again after a broken
// connection; it doubles after each attempt that heard nothing.
const (
	redisPushRetryMin = time.Second
	redisPushRetryMax = time.Minute
)

// redisPushIdle is how long a subscription may hear nothing before the connection is checked
// with a PING: a connection that died silently must not leave the trigger without pushes.
const redisPushIdle = time.Minute

// listKeyspaceEvents reports whether a notify-keyspace-events value makes Redis publish list
// events on keyspace channels: K (keyspace channels) and l (list commands), or A (every class,
// l included).
func listKeyspaceEvents(flags string) bool {
	return strings.Contains(flags, "K") && strings.ContainsAny(flags, "lA")
}

// Run subscribes to the list's keyspace channel and pushes on every event of the list. It returns
// when the server does not publish list events, or does not let the trigger's user read the
// setting: the trigger is then polled only.
func (s *redisScaler) Run(ctx context.Context, push func(active bool)) {
	if s.pushKey == "" {
		return // streams: their commands are not list events
	}
	wait := redisPushRetryMin
	for ctx.Err() == nil {
		got, err := s.listen(ctx, push)
		var refused redis.Error
		switch {
		case err == nil || errors.As(err, &refused):
			// Notifications are off, or the server refused a command (CONFIG or SUBSCRIBE not
			// allowed to this user): asking again would be refused again.
			return
		case got:
			wait = redisPushRetryMin
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, redisPushRetryMax)
	}
}

// listen checks the server's notification setting and, when list events are on, subscribes and
// pushes until the connection breaks or ctx ends. A nil error means notifications are off (or ctx
// ended); got reports whether the subscription delivered anything.
func (s *redisScaler) listen(ctx context.Context, push func(active bool)) (got bool, err error) {
	client, err := s.pushClient(ctx)
	if err != nil {
		return false, err
	}
	defer client.Close()
	on, err := keyspaceNotificationsOn(ctx, client, s.cfg.Timeout)
	if err != nil || !on {
		return false, err
	}
	channel := "__keyspace@" + strconv.Itoa(s.conn.DB) + "__:" + s.pushKey
	sub := client.Subscribe(ctx, channel)
	defer sub.Close()
	// A read blocked on the subscription does not see ctx end; closing the subscription ends it.
	stop := context.AfterFunc(ctx, func() { _ = sub.Close() })
	defer stop()
	// The subscription is confirmed before anything is read: a refused SUBSCRIBE is an error here.
	if _, err := sub.ReceiveTimeout(ctx, s.cfg.Timeout); err != nil {
		return false, s.pushFailure("subscribe to "+channel, err)
	}
	for {
		msg, err := sub.ReceiveTimeout(ctx, redisPushIdle)
		var netErr net.Error
		switch {
		case ctx.Err() != nil:
			return got, nil
		case errors.As(err, &netErr) && netErr.Timeout():
			if err := sub.Ping(ctx); err != nil {
				return got, s.pushFailure("check the subscription to "+channel, err)
			}
		case err != nil:
			return got, s.pushFailure("read the subscription to "+channel, err)
		default:
			if _, ok := msg.(*redis.Message); ok {
				got = true
				push(true)
			}
		}
	}
}

// keyspaceNotificationsOn reads notify-keyspace-events.
func keyspaceNotificationsOn(ctx context.Context, c *redis.Client, timeout time.Duration) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	vals, err := c.ConfigGet(ctx, "notify-keyspace-events").Result()
	if err != nil {
		return false, fmt.Errorf("failed to read notify-keyspace-events: %w", err)
	}
	return listKeyspaceEvents(vals["notify-keyspace-events"]), nil
}

// pushClient connects to the server that publishes the list's notifications: the server, the
// master the sentinels name, or the cluster master that holds the list's slot (keyspace
// notifications are not propagated between cluster nodes). Its one connection is the
// subscription's, apart from the pool the polls use.
func (s *redisScaler) pushClient(ctx context.Context) (*redis.Client, error) {
	c, timeout := s.conn, s.cfg.Timeout
	switch c.Topology {
	case meta.RedisCluster:
		cluster := redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: c.Addrs, Username: c.Username, Password: c.Password, TLSConfig: c.TLSConfig,
			DialTimeout: timeout, ReadTimeout: timeout, WriteTimeout: timeout, PoolSize: 1, MaxRetries: -1,
		})
		defer cluster.Close()
		lookup, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		master, err := cluster.MasterForKey(lookup, s.pushKey)
		if err != nil {
			return nil, s.pushFailure(fmt.Sprintf("find the master of list %q", s.pushKey), err)
		}
		return redis.NewClient(&redis.Options{
			Addr: master.Options().Addr, Username: c.Username, Password: c.Password, TLSConfig: c.TLSConfig,
			DialTimeout: timeout, ReadTimeout: timeout, WriteTimeout: timeout, PoolSize: 1, MaxRetries: -1,
		}), nil
	case meta.RedisSentinel:
		return redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: c.SentinelMaster, SentinelAddrs: c.Addrs, SentinelUsername: c.SentinelUsername, SentinelPassword: c.SentinelPassword,
			Username: c.Username, Password: c.Password, DB: c.DB, TLSConfig: c.TLSConfig,
			DialTimeout: timeout, ReadTimeout: timeout, WriteTimeout: timeout, PoolSize: 1, MaxRetries: -1,
		}), nil
	default:
		return redis.NewClient(&redis.Options{
			Addr: c.Addrs[0], Username: c.Username, Password: c.Password, DB: c.DB, TLSConfig: c.TLSConfig,
			DialTimeout: timeout, ReadTimeout: timeout, WriteTimeout: timeout, PoolSize: 1, MaxRetries: -1,
		}), nil
	}
}

// pushFailure words an error of the push stream without the passwords.
func (s *redisScaler) pushFailure(doing string, err error) error {
	return redact(fmt.Errorf("%s: failed to %s on %s: %w", redisTrigger(s.cfg), doing, s.conn, err), s.conn.Secrets())
}
