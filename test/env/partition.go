package env

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"sync"

	"k8s.io/client-go/tools/clientcmd"
)

// Cut is a loopback TCP proxy to one address that a test can cut, standing in for a network
// partition between one replica and the apiserver: Cut closes the listener and every connection
// through it, so that the replica's requests fail as they would across a broken network.
type Cut struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	cut   bool
}

// NewCut listens on a free loopback port and relays every connection to target (host:port).
func NewCut(target string) (*Cut, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("failed to listen for the proxy to %s: %w", target, err)
	}
	c := &Cut{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go c.serve()
	return c, nil
}

// Addr is host:port where the proxy listens.
func (c *Cut) Addr() string { return c.ln.Addr().String() }

// Cut closes the listener and every relayed connection; nothing gets through afterwards.
func (c *Cut) Cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cut = true
	c.ln.Close()
	for conn := range c.conns {
		conn.Close()
	}
}

func (c *Cut) serve() {
	for {
		in, err := c.ln.Accept()
		if err != nil {
			return
		}
		go c.relay(in)
	}
}

// track adds conns to those Cut closes, or closes them at once if already cut.
func (c *Cut) track(conns ...net.Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cut {
		for _, conn := range conns {
			conn.Close()
		}
		return false
	}
	for _, conn := range conns {
		c.conns[conn] = struct{}{}
	}
	return true
}

func (c *Cut) untrack(conns ...net.Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range conns {
		delete(c.conns, conn)
		conn.Close()
	}
}

func (c *Cut) relay(in net.Conn) {
	out, err := net.Dial("tcp", c.target)
	if err != nil {
		in.Close()
		return
	}
	if !c.track(in, out) {
		return
	}
	defer c.untrack(in, out)
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(out, in); done <- struct{}{} }()
	go func() { _, _ = io.Copy(in, out); done <- struct{}{} }()
	<-done
}

// AddReplicaBehindCut starts one more replica whose every request to the apiserver goes through
// a Cut: the test partitions it from the apiserver with Cut.Cut, and nothing else.
func (e *Env) AddReplicaBehindCut(ctx context.Context) (*Replica, *Cut, error) {
	if !e.leaderElection {
		return nil, nil, fmt.Errorf("replicas need leader election: start the environment with the chart's ServiceAccount identity")
	}
	cfg, err := clientcmd.LoadFromFile(e.OperatorKubeconfig)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to read the operator's kubeconfig: %w", err)
	}
	var target string
	for _, cluster := range cfg.Clusters {
		u, err := url.Parse(cluster.Server)
		if err != nil {
			return nil, nil, fmt.Errorf("failed to parse the apiserver address %q: %w", cluster.Server, err)
		}
		target = u.Host
	}
	cut, err := NewCut(target)
	if err != nil {
		return nil, nil, err
	}
	for _, cluster := range cfg.Clusters {
		// The apiserver's certificate holds 127.0.0.1 whatever the port.
		cluster.Server = "https://" + cut.Addr()
	}
	r, err := e.newReplica(len(e.replicas))
	if err != nil {
		cut.Cut()
		return nil, nil, err
	}
	r.kubeconfig = filepath.Join(e.Cluster.Dir(), fmt.Sprintf("operator-%d.kubeconfig", r.Index))
	if err := clientcmd.WriteToFile(*cfg, r.kubeconfig); err != nil {
		cut.Cut()
		return nil, nil, fmt.Errorf("failed to write %s: %w", r.kubeconfig, err)
	}
	if err := e.startReplica(ctx, r); err != nil {
		cut.Cut()
		return nil, nil, err
	}
	e.replicas = append(e.replicas, r)
	return r, cut, nil
}
