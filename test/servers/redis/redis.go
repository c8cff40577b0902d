// Package redis runs Debian's redis-server on free loopback ports for tests and the demo: a
// single server (optionally TLS only), a Redis Cluster of masters, and a master watched by a
// sentinel. Every process is in its own process group, dies with the test binary and is stopped
// by Stop (which Start* registers with t.Cleanup).
package redis

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kedactl/kedactl/test/servers/internal/proc"
	"github.com/kedactl/kedactl/test/servers/internal/testca"
)

// Options configures a server.
type Options struct {
	// Password sets requirepass; empty means no password.
	Password string
	// TLS serves TLS only (no plain port), with a certificate for 127.0.0.1 and localhost signed by
	// a CA made for this server; Server.TLS holds what a client needs.
	TLS bool
	// TLSClientAuth, with TLS, requires clients to present a certificate signed by that CA.
	TLSClientAuth bool
}

// Server is a running redis-server.
type Server struct {
	Addr     string
	Host     string
	Port     int
	Password string
	// TLS is set when the server serves TLS: its CA and a client certificate.
	TLS *TLSFiles

	proc    *proc.Process
	dir     string
	busPort int // a cluster node's cluster bus
}

// readyTimeout bounds every wait for a server, a cluster or a sentinel to become usable.
const readyTimeout = 30 * time.Second

// Start starts a server for one test and stops it when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	return proc.ForTest(t, "redis-server", func(ctx context.Context) (*Server, error) { return StartProcess(ctx, opts) })
}

// StartProcess installs redis-server if needed (hack/tools.sh redis) and starts it on a free
// 127.0.0.1 port, waiting until it answers PING.
func StartProcess(ctx context.Context, opts Options) (*Server, error) {
	return startServer(ctx, opts, false)
}

// startServer starts one redis-server in a new directory; clusterNode enables cluster mode with
// the cluster bus on a second free port (Server.busPort).
func startServer(ctx context.Context, opts Options, clusterNode bool) (*Server, error) {
	bin, err := ensureBinary(ctx)
	if err != nil {
		return nil, err
	}
	name := "redis"
	if clusterNode {
		name = "redis-cluster-node"
	}
	dir, err := os.MkdirTemp("", "kedactl-"+name+"-")
	if err != nil {
		return nil, fmt.Errorf("failed to create the redis dir: %w", err)
	}
	fail := func(err error) (*Server, error) {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	ports, err := proc.FreePorts(2)
	if err != nil {
		return fail(err)
	}
	port := ports[0]
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Host: "127.0.0.1", Port: port, Password: opts.Password, dir: dir}
	args := []string{"--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--protected-mode", "no"}
	if opts.TLS {
		files, err := testca.New("kedactl test redis CA")
		if err != nil {
			return fail(err)
		}
		paths, err := files.WriteServer(dir)
		if err != nil {
			return fail(err)
		}
		caFile, certFile, keyFile := paths.CA, paths.Cert, paths.Key
		s.TLS = files
		auth := "no"
		if opts.TLSClientAuth {
			auth = "yes"
		}
		args = append(args, "--port", "0", "--tls-port", strconv.Itoa(port), "--tls-cert-file", certFile, "--tls-key-file", keyFile,
			"--tls-ca-cert-file", caFile, "--tls-auth-clients", auth)
	} else {
		args = append(args, "--port", strconv.Itoa(port))
	}
	if opts.Password != "" {
		args = append(args, "--requirepass", opts.Password, "--masterauth", opts.Password)
	}
	if clusterNode {
		s.busPort = ports[1]
		args = append(args, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-port", strconv.Itoa(s.busPort),
			"--cluster-node-timeout", "5000")
	}
	s.proc, err = proc.Start(bin, args, dir, name, nil)
	if err != nil {
		return fail(err)
	}
	c := s.Client()
	defer c.Close()
	if err := s.proc.WaitUntil(ctx, readyTimeout, "answer to PING on "+s.Addr, func(ctx context.Context) error {
		return c.Ping(ctx).Err()
	}); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// Client returns a client for the server; the caller closes it.
func (s *Server) Client() *goredis.Client {
	return goredis.NewClient(&goredis.Options{Addr: s.Addr, Password: s.Password, DialTimeout: 2 * time.Second, TLSConfig: s.tlsConfig()})
}

func (s *Server) tlsConfig() *tls.Config {
	if s.TLS == nil {
		return nil
	}
	return s.TLS.ClientConfig()
}

// Stop stops the server and removes its dir.
func (s *Server) Stop() {
	if s.proc != nil {
		s.proc.Stop(syscall.SIGTERM)
	}
	_ = os.RemoveAll(s.dir)
}

func ensureBinary(ctx context.Context) (string, error) {
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p, nil
	}
	if err := proc.Install(ctx, "redis"); err != nil {
		return "", err
	}
	p, err := exec.LookPath("redis-server")
	if err != nil {
		return "", fmt.Errorf("redis-server is still not on PATH after installing it: %w", err)
	}
	return p, nil
}

// freePorts returns n distinct ports of 127.0.0.1 that were free a moment ago (a node's port and
// its cluster bus port must differ).
