// Package beanstalkd runs Debian's beanstalkd on a free loopback port for tests, with a small
// client that puts, reserves, buries and deletes jobs the way producers and workers do. The
// server keeps no binlog (its jobs live and die with it), runs in its own process group, dies
// with the test binary and is stopped by Stop (which Start registers with t.Cleanup).
package beanstalkd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kedactl/kedactl/test/servers/internal/proc"
)

// readyTimeout bounds the wait for a started server to answer.
const readyTimeout = 30 * time.Second

// Server is a running beanstalkd.
type Server struct {
	// Addr is host:port, what the trigger's server parameter names.
	Addr string

	proc *proc.Process
	dir  string
}

// Start starts a server for one test and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return proc.ForTest(t, "beanstalkd", StartProcess)
}

// StartProcess installs beanstalkd if needed (hack/tools.sh beanstalkd) and starts it on a free
// 127.0.0.1 port, waiting until it answers the stats command.
func StartProcess(ctx context.Context) (*Server, error) {
	bin, err := ensureBinary(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kedactl-beanstalkd-")
	if err != nil {
		return nil, fmt.Errorf("failed to create the beanstalkd dir: %w", err)
	}
	port, err := proc.FreePort()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir: dir}
	s.proc, err = proc.Start(bin, []string{"-l", "127.0.0.1", "-p", strconv.Itoa(port)}, dir, "beanstalkd", nil)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := s.proc.WaitUntil(ctx, readyTimeout, "answer to stats on "+s.Addr, func(ctx context.Context) error {
		c, err := s.dial(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.command("stats", "OK")
		return err
	}); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// Stop stops the server and removes its dir.
func (s *Server) Stop() {
	if s.proc != nil {
		s.proc.Stop(syscall.SIGTERM)
	}
	_ = os.RemoveAll(s.dir)
}

func ensureBinary(ctx context.Context) (string, error) {
	if p, err := exec.LookPath("beanstalkd"); err == nil {
		return p, nil
	}
	if err := proc.Install(ctx, "beanstalkd"); err != nil {
		return "", err
	}
	p, err := exec.LookPath("beanstalkd")
	if err != nil {
		return "", fmt.Errorf("beanstalkd is still not on PATH after installing it: %w", err)
	}
	return p, nil
}

// Client is one connection to the server: a producer, or a worker holding the jobs it reserved
// (beanstalkd puts a worker's reserved jobs back when its connection closes).
type Client struct {
	conn net.Conn
	r    *bufio.Reader
}

// Dial connects a client; t's cleanup closes it.
func (s *Server) Dial(t testing.TB) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := s.dial(ctx)
	if err != nil {
		t.Fatalf("failed to connect to beanstalkd at %s: %v", s.Addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (s *Server) dial(ctx context.Context) (*Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return nil, err
	}
	return &Client{conn: conn, r: bufio.NewReader(conn)}, nil
}

// Close closes the connection; the jobs it had reserved are ready again.
func (c *Client) Close() error { return c.conn.Close() }

// Put puts n jobs into tube, each delayed by delay (whole seconds; 0 is ready at once).
func (c *Client) Put(tube string, n int, delay time.Duration) error {
	if _, err := c.command("use "+tube, "USING"); err != nil {
		return err
	}
	for i := range n {
		body := "job-" + strconv.Itoa(i)
		line := fmt.Sprintf("put 1024 %d 600 %d\r\n%s", int(delay/time.Second), len(body), body)
		if _, err := c.command(line, "INSERTED"); err != nil {
			return err
		}
	}
	return nil
}

// Reserve takes n ready jobs of tube for this client, as a worker does, and returns their ids.
func (c *Client) Reserve(tube string, n int) ([]uint64, error) {
	if _, err := c.command("watch "+tube, "WATCHING"); err != nil {
		return nil, err
	}
	var ids []uint64
	for range n {
		// A timeout of 0 answers TIMED_OUT at once when no job is ready.
		args, err := c.command("reserve-with-timeout 0", "RESERVED")
		if err != nil {
			return ids, err
		}
		id, err := strconv.ParseUint(args[0], 10, 64)
		if err != nil {
			return ids, fmt.Errorf("RESERVED with id %q: %w", args[0], err)
		}
		// The body follows: its size, then CR LF.
		size, err := strconv.Atoi(args[1])
		if err != nil {
			return ids, fmt.Errorf("RESERVED with size %q: %w", args[1], err)
		}
		if _, err := io.ReadFull(c.r, make([]byte, size+2)); err != nil {
			return ids, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// Delete deletes a job this client reserved (or a buried one): it is done.
func (c *Client) Delete(id uint64) error {
	_, err := c.command("delete "+strconv.FormatUint(id, 10), "DELETED")
	return err
}

// Bury buries a job this client reserved: it stays in the tube, neither ready nor reserved.
func (c *Client) Bury(id uint64) error {
	_, err := c.command("bury "+strconv.FormatUint(id, 10)+" 1024", "BURIED")
	return err
}

// Kick makes up to n of tube's buried jobs (or, without any, its delayed jobs) ready.
func (c *Client) Kick(tube string, n int) error {
	if _, err := c.command("use "+tube, "USING"); err != nil {
		return err
	}
	_, err := c.command("kick "+strconv.Itoa(n), "KICKED")
	return err
}

// Stats returns a tube's stats-tube counts, read independently of the scaler's client.
func (c *Client) Stats(tube string) (map[string]string, error) {
	args, err := c.command("stats-tube "+tube, "OK")
	if err != nil {
		return nil, err
	}
	size, err := strconv.Atoi(args[0])
	if err != nil {
		return nil, err
	}
	body := make([]byte, size+2)
	if _, err := io.ReadFull(c.r, body); err != nil {
		return nil, err
	}
	stats := map[string]string{}
	for _, line := range strings.Split(string(body[:size]), "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok {
			stats[k] = v
		}
	}
	return stats, nil
}

// command sends line and reads the reply line, which must start with want; it returns the
// reply's other words. The body of an OK reply (stats) is left to the caller, except for the
// readiness probe, which only needs the first line: its connection is closed after it.
func (c *Client) command(line, want string) ([]string, error) {
	_ = c.conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c.conn, line+"\r\n"); err != nil {
		return nil, err
	}
	reply, err := c.r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	words := strings.Fields(reply)
	if len(words) == 0 || words[0] != want {
		cmd, _, _ := strings.Cut(line, "\r\n")
		return nil, errors.New("beanstalkd answered " + strconv.Quote(strings.TrimSpace(reply)) + " to " + strconv.Quote(cmd) + ", want " + want)
	}
	return words[1:], nil
}
