// Package redis runs Debian's redis-server on a free loopback port for tests and the demo.
package redis

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Options configures a server.
type Options struct {
	// Password sets requirepass; empty means no password.
	Password string
}

// Server is a running redis-server.
type Server struct {
	Addr     string
	Host     string
	Port     int
	Password string
	cmd      *exec.Cmd
	dir      string
	exited   chan struct{}
}

// Start starts a server for one test and stops it when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := StartProcess(ctx, opts)
	if err != nil {
		t.Fatalf("failed to start redis-server: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// StartProcess installs redis-server if needed (hack/tools.sh redis) and starts it on a free
// 127.0.0.1 port, waiting until it answers PING.
func StartProcess(ctx context.Context, opts Options) (*Server, error) {
	bin, err := ensureBinary(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kedactl-redis-")
	if err != nil {
		return nil, fmt.Errorf("failed to create the redis dir: %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("failed to find a free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--protected-mode", "no"}
	if opts.Password != "" {
		args = append(args, "--requirepass", opts.Password)
	}
	logFile, err := os.Create(filepath.Join(dir, "redis.log"))
	if err != nil {
		return nil, fmt.Errorf("failed to create the redis log: %w", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("failed to start %s: %w", bin, err)
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Host: "127.0.0.1", Port: port, Password: opts.Password, cmd: cmd, dir: dir, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); logFile.Close(); close(s.exited) }()

	c := s.Client()
	defer c.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		pingCtx, cancel := context.WithTimeout(ctx, time.Second)
		err := c.Ping(pingCtx).Err()
		cancel()
		if err == nil {
			return s, nil
		}
		select {
		case <-s.exited:
			data, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
			s.Stop()
			return nil, fmt.Errorf("redis-server exited: %s", data)
		default:
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("redis-server on %s did not answer PING: %w", s.Addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Client returns a client for the server; the caller closes it.
func (s *Server) Client() *goredis.Client {
	return goredis.NewClient(&goredis.Options{Addr: s.Addr, Password: s.Password, DialTimeout: 2 * time.Second})
}

// Stop stops the server and removes its dir.
func (s *Server) Stop() {
	select {
	case <-s.exited:
	default:
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.exited
		}
	}
	_ = os.RemoveAll(s.dir)
}

func ensureBinary(ctx context.Context) (string, error) {
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p, nil
	}
	_, file, _, _ := runtime.Caller(0)
	tools := filepath.Join(filepath.Dir(file), "..", "..", "..", "hack", "tools.sh")
	out, err := exec.CommandContext(ctx, "bash", tools, "redis").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("failed to install redis-server with %s redis: %w\n%s", tools, err, out)
	}
	p, err := exec.LookPath("redis-server")
	if err != nil {
		return "", fmt.Errorf("redis-server is still not on PATH after installing it: %w", err)
	}
	return p, nil
}
