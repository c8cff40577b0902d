package redis

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

func gone(t *testing.T, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s still exists after Stop: %v", d, err)
		}
	}
}

// TestServer: a password-protected server answers with the password only, and Stop leaves
// nothing behind.
func TestServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server")
	}
	ctx := context.Background()
	s := Start(t, Options{Password: "pw with spaces"})
	c := s.Client()
	defer c.Close()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	anon := goredis.NewClient(&goredis.Options{Addr: s.Addr})
	defer anon.Close()
	if err := anon.Get(ctx, "k").Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Errorf("without the password: %v, want NOAUTH", err)
	}
	s.Stop()
	if s.proc.Running() {
		t.Error("redis-server still runs after Stop")
	}
	gone(t, s.dir)
}

// TestTLSServer: a TLS-only server requiring client certificates serves a client with the CA
// and the client certificate, and refuses plain connections.
func TestTLSServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server")
	}
	ctx := context.Background()
	s := Start(t, Options{Password: "tls-pw", TLS: true, TLSClientAuth: true})
	c := s.Client()
	defer c.Close()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("TLS client: %v", err)
	}
	plain := goredis.NewClient(&goredis.Options{Addr: s.Addr, Password: s.Password, DialTimeout: time.Second, ReadTimeout: time.Second, MaxRetries: -1})
	defer plain.Close()
	if err := plain.Ping(ctx).Err(); err == nil {
		t.Error("a plain client reached the TLS-only server")
	}
}

// TestCluster: three masters share the slots; a cluster client reads and writes keys of every
// node, and Stop stops every node.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server")
	}
	ctx := context.Background()
	start := time.Now()
	c := StartCluster(t, ClusterOptions{Password: "cluster-pw"})
	t.Logf("cluster of %d masters ready in %s", len(c.Nodes), time.Since(start).Round(time.Millisecond))
	if len(c.Addrs) != 3 {
		t.Fatalf("%d nodes, want 3", len(c.Addrs))
	}
	cc := c.Client()
	defer cc.Close()
	owners := map[string]bool{}
	for i := range 30 {
		key := "key-" + string(rune('a'+i))
		if err := cc.RPush(ctx, key, "x").Err(); err != nil {
			t.Fatal(err)
		}
		node, err := cc.MasterForKey(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		owners[node.Options().Addr] = true
	}
	if len(owners) != 3 {
		t.Errorf("30 keys landed on %d masters, want all 3", len(owners))
	}
	c.Stop()
	for _, n := range c.Nodes {
		if n.proc.Running() {
			t.Errorf("node %s still runs after Stop", n.Addr)
		}
		gone(t, n.dir)
	}
}

// TestSentinel: a failover client finds the master through the password-protected sentinel.
func TestSentinel(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server")
	}
	ctx := context.Background()
	start := time.Now()
	s := StartSentinel(t, SentinelOptions{Password: "data-pw", SentinelPassword: "sentinel-pw", MasterName: "jobs-master"})
	t.Logf("master and sentinel ready in %s", time.Since(start).Round(time.Millisecond))
	fc := s.Client()
	defer fc.Close()
	if err := fc.RPush(ctx, "jobs", "x").Err(); err != nil {
		t.Fatal(err)
	}
	mc := s.Master.Client()
	defer mc.Close()
	if n, err := mc.LLen(ctx, "jobs").Result(); err != nil || n != 1 {
		t.Errorf("LLEN on the master = %d, %v; want 1", n, err)
	}
	s.Stop()
	if s.proc.Running() || s.Master.proc.Running() {
		t.Error("the sentinel or the master still runs after Stop")
	}
	gone(t, s.dir, s.Master.dir)
}
