// Package nats runs Debian's nats-server with JetStream for tests: one server, or a JetStream
// cluster of nodes each on its own loopback address (127.0.0.1, 127.0.0.2, ...) with the same
// ports, as the nodes of a real cluster share ports on different hosts. Client and monitoring
// ports are free loopback ports; the JetStream store is in a temporary directory. Every process
// is in its own process group, dies with the test binary and is stopped by Stop.
package nats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kedactl/kedactl/test/servers/internal/proc"
)

const readyTimeout = 60 * time.Second

// Server is one running nats-server.
type Server struct {
	// Name is the server_name (the name a clustered consumer's leader is reported by).
	Name string
	Host string
	// URL is the client address (nats://host:port).
	URL string
	// MonitoringAddr is the monitoring host:port, what natsServerMonitoringEndpoint names.
	MonitoringAddr string

	proc *proc.Process
	dir  string
}

// Start starts a single JetStream server for one test and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return proc.ForTest(t, "nats-server", StartProcess)
}

// StartProcess installs nats-server if needed (hack/tools.sh nats) and starts it with JetStream
// on free 127.0.0.1 ports, waiting until its monitoring endpoint reports JetStream healthy.
func StartProcess(ctx context.Context) (*Server, error) {
	ports, err := freePorts([]string{"127.0.0.1"}, 2)
	if err != nil {
		return nil, err
	}
	s, err := startNode(ctx, node{name: "nats-0", host: "127.0.0.1", clientPort: ports[0], monitorPort: ports[1]})
	if err != nil {
		return nil, err
	}
	if err := s.waitReady(ctx, 0); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// Cluster is a running JetStream cluster.
type Cluster struct {
	Nodes []*Server
}

// StartCluster starts a cluster of size nodes for one test and stops it when the test ends.
func StartCluster(t testing.TB, size int) *Cluster {
	t.Helper()
	return proc.ForTest(t, "a nats cluster", func(ctx context.Context) (*Cluster, error) { return StartClusterProcess(ctx, size) })
}

// StartClusterProcess starts size nodes named nats-0, nats-1, ... on 127.0.0.1, 127.0.0.2, ...,
// sharing client, monitoring and route ports, each routing to all the others, and waits until
// every node sees a JetStream meta leader and the whole cluster.
func StartClusterProcess(ctx context.Context, size int) (*Cluster, error) {
	if size < 1 || size > 9 {
		return nil, fmt.Errorf("a test cluster has 1 to 9 nodes, not %d", size)
	}
	hosts := make([]string, size)
	for i := range hosts {
		hosts[i] = "127.0.0." + strconv.Itoa(i+1)
	}
	ports, err := freePorts(hosts, 3)
	if err != nil {
		return nil, err
	}
	routes := make([]string, size)
	for i, h := range hosts {
		routes[i] = "nats-route://" + net.JoinHostPort(h, strconv.Itoa(ports[2]))
	}
	c := &Cluster{}
	for i, h := range hosts {
		s, err := startNode(ctx, node{name: "nats-" + strconv.Itoa(i), host: h, clientPort: ports[0], monitorPort: ports[1], clusterPort: ports[2], routes: routes})
		if err != nil {
			c.Stop()
			return nil, err
		}
		c.Nodes = append(c.Nodes, s)
	}
	for _, s := range c.Nodes {
		if err := s.waitReady(ctx, size); err != nil {
			c.Stop()
			return nil, err
		}
	}
	return c, nil
}

// Stop stops every node and removes their directories.
func (c *Cluster) Stop() {
	for _, s := range c.Nodes {
		s.Stop()
	}
}

// Node returns the node named name, or nil.
func (c *Cluster) Node(name string) *Server {
	for _, s := range c.Nodes {
		if s.Name == name {
			return s
		}
	}
	return nil
}

type node struct {
	name                                 string
	host                                 string
	clientPort, monitorPort, clusterPort int
	routes                               []string
}

func startNode(ctx context.Context, n node) (*Server, error) {
	bin, err := ensureBinary(ctx)
	if err != nil {
		return nil, err
	}
	cred, err := proc.Unprivileged("nats")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kedactl-nats-")
	if err != nil {
		return nil, fmt.Errorf("failed to create the nats dir: %w", err)
	}
	store := filepath.Join(dir, "store")
	if err := os.Mkdir(store, 0o755); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := proc.ChownAll(dir, cred); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	args := []string{"--jetstream", "--store_dir", store, "--server_name", n.name,
		"--addr", n.host, "--port", strconv.Itoa(n.clientPort),
		"--http_port", strconv.Itoa(n.monitorPort)}
	if n.clusterPort != 0 {
		args = append(args, "--cluster_name", "kedactl", "--cluster", "nats://"+net.JoinHostPort(n.host, strconv.Itoa(n.clusterPort)),
			"--routes", strings.Join(n.routes, ","))
	}
	s := &Server{Name: n.name, Host: n.host, URL: "nats://" + net.JoinHostPort(n.host, strconv.Itoa(n.clientPort)),
		MonitoringAddr: net.JoinHostPort(n.host, strconv.Itoa(n.monitorPort)), dir: dir}
	// The monitoring listener binds to --addr as well.
	s.proc, err = proc.Start(bin, args, dir, n.name, cred)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// waitReady waits until /healthz says JetStream is up and, for a cluster of size > 0, /jsz
// reports a meta leader and the whole cluster.
func (s *Server) waitReady(ctx context.Context, size int) error {
	client := &http.Client{Timeout: 2 * time.Second}
	return s.proc.WaitUntil(ctx, readyTimeout, "JetStream readiness on "+s.MonitoringAddr, func(ctx context.Context) error {
		if _, err := get(ctx, client, "http://"+s.MonitoringAddr+"/healthz"); err != nil {
			return err
		}
		if size == 0 {
			return nil
		}
		body, err := get(ctx, client, "http://"+s.MonitoringAddr+"/jsz")
		if err != nil {
			return err
		}
		var jsz struct {
			MetaCluster struct {
				Leader      string `json:"leader"`
				ClusterSize int    `json:"cluster_size"`
			} `json:"meta_cluster"`
		}
		if err := json.Unmarshal(body, &jsz); err != nil {
			return err
		}
		if jsz.MetaCluster.Leader == "" || jsz.MetaCluster.ClusterSize != size {
			return fmt.Errorf("meta cluster not formed yet: %s", body)
		}
		return nil
	})
}

func get(ctx context.Context, client *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %d: %s", u, resp.StatusCode, body)
	}
	return body, nil
}

// Stop stops the server and removes its directory.
func (s *Server) Stop() {
	s.proc.Stop(syscall.SIGTERM)
	_ = os.RemoveAll(s.dir)
}

// Tail is the end of the server's log, for failure messages.
func (s *Server) Tail() string { return s.proc.Tail() }

// freePorts returns n ports that were free a moment ago on every one of hosts.
func freePorts(hosts []string, n int) ([]int, error) {
	var ports []int
	taken := map[int]bool{}
	for attempt := 0; len(ports) < n && attempt < 50; attempt++ {
		p, err := proc.FreePort()
		if err != nil {
			return nil, err
		}
		if taken[p] || !freeOnAll(hosts, p) {
			continue
		}
		taken[p] = true
		ports = append(ports, p)
	}
	if len(ports) < n {
		return nil, fmt.Errorf("found no %d ports free on all of %s", n, strings.Join(hosts, ", "))
	}
	return ports, nil
}

func freeOnAll(hosts []string, port int) bool {
	for _, h := range hosts {
		l, err := net.Listen("tcp", net.JoinHostPort(h, strconv.Itoa(port)))
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}

// ensureBinary finds nats-server, installing Debian's package with hack/tools.sh when missing.
func ensureBinary(ctx context.Context) (string, error) {
	if p, err := exec.LookPath("nats-server"); err == nil {
		return p, nil
	}
	if err := proc.Install(ctx, "nats"); err != nil {
		return "", err
	}
	p, err := exec.LookPath("nats-server")
	if err != nil {
		return "", errors.New("nats-server is still not on PATH after installing Debian's nats-server package")
	}
	return p, nil
}
