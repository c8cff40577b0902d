package scalers_test

import (
	"context"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kedactl/kedactl/scalers"
)

// TestRedisListsPushOnKeyspaceNotifications runs the list triggers' push stream against real
// servers: without notify-keyspace-events the stream ends at once and never pushes; with list
// events on (set by the test on its own servers, never by the scaler) a push and a pop of the
// list each cause a push, other keys none, and the stream ends with its context.
func TestRedisListsPushOnKeyspaceNotifications(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server")
	}
	for _, setup := range []struct {
		name  string
		start func(*testing.T) *redisSetup
	}{{"standalone", startStandalone}, {"cluster", startCluster}, {"sentinel", startSentinel}} {
		t.Run(setup.name, func(t *testing.T) {
			t.Parallel()
			r := setup.start(t)
			ctx := context.Background()
			meta := merge(r.conn, map[string]string{"listName": "push-jobs", "listLength": "5"})
			run := func(s scalers.Scaler) (pushes <-chan bool, returned <-chan struct{}, stop func() bool) {
				ps, ok := s.(scalers.PushScaler)
				if !ok {
					t.Fatalf("%s is not a PushScaler", r.listType)
				}
				ch := make(chan bool, 100)
				runCtx, cancel := context.WithCancel(ctx)
				done := make(chan struct{})
				go func() { ps.Run(runCtx, func(active bool) { ch <- active }); close(done) }()
				return ch, done, func() bool {
					cancel()
					select {
					case <-done:
						return true
					case <-time.After(10 * time.Second):
						return false
					}
				}
			}

			// Off: the stream gives up at once, and the trigger is polled as before.
			s := buildRedis(t, r.listType, meta, r.auth, nil)
			pushes, returned, stop := run(s)
			select {
			case <-returned:
			case <-time.After(10 * time.Second):
				t.Fatal("Run still runs without keyspace notifications")
			}
			if err := r.admin.LPush(ctx, "push-jobs", "a").Err(); err != nil {
				t.Fatal(err)
			}
			select {
			case <-pushes:
				t.Fatal("pushed without keyspace notifications")
			case <-time.After(time.Second):
			}
			if !stop() {
				t.Fatal("Run did not return")
			}
			if n, _ := readRedis(t, s); n != 1 {
				t.Errorf("polled length %d, want 1", n)
			}
			assertFlags(t, r.admin, "")

			// On: every change of the list pushes.
			if err := forEachMaster(ctx, r.admin, func(c *goredis.Client) error {
				return c.ConfigSet(ctx, "notify-keyspace-events", "Kl").Err()
			}); err != nil {
				t.Fatal(err)
			}
			pushes, _, stop = run(buildRedis(t, r.listType, meta, r.auth, nil))
			// The subscription is in place once a change is heard: push until one is.
			deadline := time.Now().Add(20 * time.Second)
		subscribed:
			for {
				if err := r.admin.LPush(ctx, "push-jobs", "b").Err(); err != nil {
					t.Fatal(err)
				}
				select {
				case <-pushes:
					break subscribed
				case <-time.After(200 * time.Millisecond):
				}
				if time.Now().After(deadline) {
					t.Fatal("no push after LPUSH with notifications on")
				}
			}
			for len(pushes) > 0 {
				<-pushes
			}
			if err := r.admin.LPush(ctx, "other-list", "x").Err(); err != nil {
				t.Fatal(err)
			}
			if err := r.admin.RPop(ctx, "push-jobs").Err(); err != nil {
				t.Fatal(err)
			}
			select {
			case <-pushes:
			case <-time.After(10 * time.Second):
				t.Fatal("no push after RPOP")
			}
			select {
			case <-pushes:
				t.Error("pushed for another key")
			case <-time.After(500 * time.Millisecond):
			}
			if !stop() {
				t.Fatal("Run did not return when its context ended")
			}
			assertFlags(t, r.admin, "lK")
		})
	}
}

// forEachMaster runs f on the server, the sentinel's master, or every master of a cluster.
func forEachMaster(ctx context.Context, admin goredis.UniversalClient, f func(*goredis.Client) error) error {
	if c, ok := admin.(*goredis.ClusterClient); ok {
		return c.ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error { return f(c) })
	}
	return f(admin.(*goredis.Client))
}

// assertFlags checks notify-keyspace-events on every master: the scaler must leave it as the
// test set it (Redis reorders the flags it reports).
func assertFlags(t *testing.T, admin goredis.UniversalClient, want string) {
	t.Helper()
	err := forEachMaster(context.Background(), admin, func(c *goredis.Client) error {
		got, err := c.ConfigGet(context.Background(), "notify-keyspace-events").Result()
		if err != nil {
			return err
		}
		if got["notify-keyspace-events"] != want {
			t.Errorf("notify-keyspace-events = %q, want %q", got["notify-keyspace-events"], want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
