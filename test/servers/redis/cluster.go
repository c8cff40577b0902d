package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// ClusterOptions configures a Redis Cluster.
type ClusterOptions struct {
	// Password is every node's requirepass (and masterauth); empty means no password.
	Password string
	// Masters is the number of master nodes, each serving an equal share of the 16384 slots
	// (default 3). There are no replicas.
	Masters int
}

// Cluster is a running Redis Cluster of masters on 127.0.0.1.
type Cluster struct {
	// Addrs are the nodes' host:port, in slot order: Addrs[0] serves the first slots.
	Addrs    []string
	Password string
	Nodes    []*Server
}

// StartCluster starts a cluster for one test and stops it when the test ends.
func StartCluster(t testing.TB, opts ClusterOptions) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := StartClusterProcess(ctx, opts)
	if err != nil {
		t.Fatalf("failed to start a redis cluster: %v", err)
	}
	t.Cleanup(c.Stop)
	return c
}

// StartClusterProcess starts opts.Masters servers with cluster-enabled on free ports (their
// cluster bus on other free ports), gives each its share of the slots, introduces them to each
// other with CLUSTER MEET and waits until every node reports cluster_state:ok and a cluster
// client can write to every master.
func StartClusterProcess(ctx context.Context, opts ClusterOptions) (*Cluster, error) {
	if opts.Masters <= 0 {
		opts.Masters = 3
	}
	c := &Cluster{Password: opts.Password}
	for range opts.Masters {
		node, err := startServer(ctx, Options{Password: opts.Password}, true)
		if err != nil {
			c.Stop()
			return nil, err
		}
		c.Nodes = append(c.Nodes, node)
		c.Addrs = append(c.Addrs, node.Addr)
	}
	if err := c.form(ctx); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// form assigns the slots and joins the nodes, then waits for the cluster to be usable.
func (c *Cluster) form(ctx context.Context) error {
	const slots = 16384
	n := len(c.Nodes)
	for i, node := range c.Nodes {
		first, last := i*slots/n, (i+1)*slots/n-1
		rc := node.Client()
		err := rc.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", first, last).Err()
		rc.Close()
		if err == nil && i > 0 {
			// The first node meets every other one; gossip tells the others about each other.
			first := c.Nodes[0].Client()
			err = first.Do(ctx, "CLUSTER", "MEET", node.Host, node.Port, node.busPort).Err()
			first.Close()
		}
		if err != nil {
			return fmt.Errorf("failed to set up cluster node %s: %w", node.Addr, err)
		}
	}
	for _, node := range c.Nodes {
		rc := node.Client()
		err := node.proc.WaitUntil(ctx, readyTimeout, "complete cluster view on node "+node.Addr, func(ctx context.Context) error {
			info, err := rc.ClusterInfo(ctx).Result()
			if err != nil {
				return err
			}
			for _, want := range []string{"cluster_state:ok", "cluster_slots_assigned:16384", "cluster_known_nodes:" + strconv.Itoa(n)} {
				if !strings.Contains(info, want+"\r\n") {
					return fmt.Errorf("CLUSTER INFO lacks %s:\n%s", want, info)
				}
			}
			return nil
		})
		rc.Close()
		if err != nil {
			return err
		}
	}
	// Every node agrees; make sure a client that learns the slot map from them reaches every
	// master and can write.
	cc := c.Client()
	defer cc.Close()
	return c.Nodes[0].proc.WaitUntil(ctx, readyTimeout, "cluster client reaching every master", func(ctx context.Context) error {
		cc.ReloadState(ctx)
		if err := cc.ForEachMaster(ctx, func(ctx context.Context, m *goredis.Client) error {
			return m.Ping(ctx).Err()
		}); err != nil {
			return err
		}
		return cc.Set(ctx, "kedactl-probe", "1", time.Minute).Err()
	})
}

// Client returns a cluster client seeded with every node; the caller closes it.
func (c *Cluster) Client() *goredis.ClusterClient {
	return goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: c.Addrs, Password: c.Password, DialTimeout: 2 * time.Second})
}

// Stop stops every node and removes their directories.
func (c *Cluster) Stop() {
	for _, node := range c.Nodes {
		node.Stop()
	}
}
