// Package etcd runs an etcd member for the etcd trigger's tests: the etcd the local cluster's
// tooling builds (hack/tools.sh cluster), apart from the cluster's own, on free loopback client
// and peer ports in a directory of its own, optionally with authentication enabled and TLS. The
// process is in its own process group, dies with the test binary and is stopped by Stop (which
// Start registers with t.Cleanup).
package etcd

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/kedactl/kedactl/test/cluster"
	"github.com/kedactl/kedactl/test/servers/internal/proc"
	"github.com/kedactl/kedactl/test/servers/internal/testca"
)

// Options configures a member.
type Options struct {
	// RootPassword, when set, creates the root user with it and enables authentication: every
	// client must then log in. Empty leaves authentication off.
	RootPassword string
	// TLS serves clients over TLS only, with a certificate for 127.0.0.1 and localhost signed by a
	// CA made for this member; Server.TLS holds what a client needs.
	TLS bool
	// TLSClientAuth, with TLS, requires clients to present a certificate signed by that CA.
	TLSClientAuth bool
	// ProgressNotifyInterval is the member's watch progress notification interval; zero keeps
	// etcd's default of ten minutes.
	ProgressNotifyInterval time.Duration
}

// Server is a running etcd member.
type Server struct {
	// Endpoint is the client URL: http://127.0.0.1:port, or https:// with TLS.
	Endpoint     string
	RootPassword string
	// TLS is set when the member serves TLS: its CA and a client certificate.
	TLS *testca.Files

	proc *proc.Process
	dir  string
}

// readyTimeout bounds the wait for the member to serve.
const readyTimeout = 30 * time.Second

// Start starts a member for one test and stops it when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	return proc.ForTest(t, "etcd", func(ctx context.Context) (*Server, error) { return StartProcess(ctx, opts) })
}

// StartProcess builds etcd if needed (hack/tools.sh cluster), starts it on free 127.0.0.1 ports,
// waits until it serves, and then creates the root user and enables authentication if asked.
func StartProcess(ctx context.Context, opts Options) (*Server, error) {
	kube, err := cluster.ToolDir(ctx, io.Discard, "cluster")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(kube, "etcd")
	dir, err := os.MkdirTemp("", "kedactl-etcd-")
	if err != nil {
		return nil, fmt.Errorf("failed to create the etcd dir: %w", err)
	}
	s := &Server{dir: dir}
	fail := func(err error) (*Server, error) {
		s.Stop()
		return nil, err
	}
	ports, err := proc.FreePorts(2)
	if err != nil {
		return fail(err)
	}
	scheme := "http"
	var tlsArgs []string
	if opts.TLS {
		scheme = "https"
		files, err := testca.New("kedactl test etcd CA")
		if err != nil {
			return fail(err)
		}
		paths, err := files.WriteServer(dir)
		if err != nil {
			return fail(err)
		}
		s.TLS = files
		tlsArgs = []string{"--cert-file", paths.Cert, "--key-file", paths.Key, "--trusted-ca-file", paths.CA,
			"--client-cert-auth=" + strconv.FormatBool(opts.TLSClientAuth)}
	}
	s.Endpoint = scheme + "://127.0.0.1:" + strconv.Itoa(ports[0])
	peer := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	args := []string{
		"--name", "kedactl-test", "--data-dir", filepath.Join(dir, "data"),
		"--listen-client-urls", s.Endpoint, "--advertise-client-urls", s.Endpoint,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "kedactl-test=" + peer,
		// A test's data need not survive a crash; fsync on a shared 2-core machine is slow.
		"--unsafe-no-fsync", "--log-level", "warn",
	}
	if opts.ProgressNotifyInterval > 0 {
		args = append(args, "--watch-progress-notify-interval", opts.ProgressNotifyInterval.String())
	}
	args = append(args, tlsArgs...)
	if s.proc, err = proc.Start(bin, args, dir, "etcd", nil); err != nil {
		return fail(err)
	}
	c, err := s.client("", "")
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	if err := s.proc.WaitUntil(ctx, readyTimeout, "answer on "+s.Endpoint, func(ctx context.Context) error {
		_, err := c.Get(ctx, "kedactl-probe")
		return err
	}); err != nil {
		return fail(err)
	}
	if opts.RootPassword != "" {
		if err := enableAuth(ctx, c, opts.RootPassword); err != nil {
			return fail(err)
		}
		s.RootPassword = opts.RootPassword
	}
	return s, nil
}

// enableAuth creates root with password and turns authentication on, as etcd asks: root must
// exist, with the root role, first.
func enableAuth(ctx context.Context, c *clientv3.Client, password string) error {
	if _, err := c.UserAdd(ctx, "root", password); err != nil {
		return fmt.Errorf("failed to add the etcd root user: %w", err)
	}
	if _, err := c.UserGrantRole(ctx, "root", "root"); err != nil {
		return fmt.Errorf("failed to grant root the root role: %w", err)
	}
	if _, err := c.AuthEnable(ctx); err != nil {
		return fmt.Errorf("failed to enable etcd authentication: %w", err)
	}
	return nil
}

// Client returns a client logged in as root (when authentication is on); the caller closes it.
func (s *Server) Client() (*clientv3.Client, error) {
	user := ""
	if s.RootPassword != "" {
		user = "root"
	}
	return s.client(user, s.RootPassword)
}

func (s *Server) client(user, password string) (*clientv3.Client, error) {
	var tlsConfig *tls.Config
	if s.TLS != nil {
		tlsConfig = s.TLS.ClientConfig()
	}
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{s.Endpoint}, Username: user, Password: password, TLS: tlsConfig,
		DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return nil, fmt.Errorf("failed to connect to etcd %s: %w", s.Endpoint, err)
	}
	return c, nil
}

// AddReader creates user with password and a role of its own that may read the keys under prefix
// only; authentication must be on.
func (s *Server) AddReader(ctx context.Context, user, password, prefix string) error {
	c, err := s.Client()
	if err != nil {
		return err
	}
	defer c.Close()
	role := user + "-reader"
	if _, err := c.RoleAdd(ctx, role); err != nil {
		return fmt.Errorf("failed to add role %s: %w", role, err)
	}
	if _, err := c.RoleGrantPermission(ctx, role, prefix, clientv3.GetPrefixRangeEnd(prefix), clientv3.PermissionType(clientv3.PermRead)); err != nil {
		return fmt.Errorf("failed to let %s read %s: %w", role, prefix, err)
	}
	if _, err := c.UserAdd(ctx, user, password); err != nil {
		return fmt.Errorf("failed to add user %s: %w", user, err)
	}
	if _, err := c.UserGrantRole(ctx, user, role); err != nil {
		return fmt.Errorf("failed to grant %s role %s: %w", user, role, err)
	}
	return nil
}

// Put writes key as root.
func (s *Server) Put(ctx context.Context, key, value string) error {
	c, err := s.Client()
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Put(ctx, key, value); err != nil {
		return fmt.Errorf("failed to put %s: %w", key, err)
	}
	return nil
}

// Stop stops the member and removes its directory.
func (s *Server) Stop() {
	if s.proc != nil {
		s.proc.Stop(syscall.SIGTERM)
	}
	_ = os.RemoveAll(s.dir)
}
