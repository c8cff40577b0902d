// Package proc runs the servers that tests start (PostgreSQL, MariaDB, Prometheus): each in its
// own process group, as an unprivileged account when the test runs as root, killed with the test
// binary even when its cleanups never run, logging to a file the failure messages quote.
package proc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Process is one server child.
type Process struct {
	cmd    *exec.Cmd
	log    string
	exited chan struct{}
}

// Start runs bin with args in dir as cred (nil: the current user), with stdout and stderr in
// dir/name.log.
func Start(bin string, args []string, dir, name string, cred *syscall.Credential) (*Process, error) {
	p := &Process{log: filepath.Join(dir, name+".log"), exited: make(chan struct{})}
	logFile, err := os.Create(p.log)
	if err != nil {
		return nil, fmt.Errorf("failed to create the %s log: %w", name, err)
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: cred}
	// Pdeathsig is tied by Linux to the thread that forks: start and wait from one locked thread,
	// so the child dies with the test binary and not with whichever thread happened to fork it.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the child
		defer close(p.exited)
		defer logFile.Close()
		if err := p.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = p.cmd.Wait()
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("failed to start %s: %w", bin, err)
	}
	return p, nil
}

// Exited is closed when the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Running reports whether the process has not exited yet.
func (p *Process) Running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Stop sends sig to the process group, then SIGKILL after five seconds, and waits for the exit.
func (p *Process) Stop(sig syscall.Signal) {
	if p == nil || p.cmd == nil || p.cmd.Process == nil || !p.Running() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	}
}

// Tail is the end of the log, for failure messages.
func (p *Process) Tail() string {
	data, _ := os.ReadFile(p.log)
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(data)
}

// ErrExited is what WaitUntil's error wraps when the process exited before it was ready: a server
// that found one of its free ports taken in the meantime, for instance, and may be started again.
var ErrExited = errors.New("exited")

// WaitUntil calls ready (each call bounded to two seconds) every 100ms until it succeeds, the
// process exits, timeout passes or ctx ends; what names the wait in errors.
func (p *Process) WaitUntil(ctx context.Context, timeout time.Duration, what string, ready func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, 2*time.Second)
		err := ready(attempt)
		cancelAttempt()
		if err == nil {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s %w before %s:\n%s", filepath.Base(p.cmd.Path), ErrExited, what, p.Tail())
		case <-ctx.Done():
			return fmt.Errorf("%s: no %s within %s: %w\n%s", filepath.Base(p.cmd.Path), what, timeout, err, p.Tail())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// FreePort returns a port of 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	ports, err := FreePorts(1)
	if err != nil {
		return 0, err
	}
	return ports[0], nil
}

// FreePorts returns n distinct ports of 127.0.0.1 that were free a moment ago (all held open until
// every one is found, so none is returned twice).
func FreePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("failed to find a free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Unprivileged returns the credentials to run a server with: nil (the current user) unless
// running as root, then those of account, or of nobody when account does not exist.
func Unprivileged(account string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(account)
	if err != nil {
		if u, err = user.Lookup("nobody"); err != nil {
			return nil, fmt.Errorf("running as root, and neither %s nor nobody exists to run the server as", account)
		}
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// ChownAll hands dir and everything in it to cred's account; nil cred changes nothing.
func ChownAll(dir string, cred *syscall.Credential) error {
	if cred == nil {
		return nil
	}
	return filepath.Walk(dir, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if err := os.Lchown(path, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("failed to hand %s to uid %d: %w", path, cred.Uid, err)
		}
		return nil
	})
}

// Install runs `hack/tools.sh tool`, which installs a server from Debian's packages.
func Install(ctx context.Context, tool string) error {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return errors.New("cannot locate hack/tools.sh: no caller information")
	}
	tools := filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "hack", "tools.sh")
	out, err := exec.CommandContext(ctx, "bash", tools, tool).CombinedOutput()
	if err != nil {
		return fmt.Errorf("failed to install %s with %s %s: %w\n%s", tool, tools, tool, err, out)
	}
	return nil
}

// ForTest starts a server for one test with start, bounded by startTimeout, and stops it when the
// test ends; a failure to start fails the test, naming what.
func ForTest[S interface{ Stop() }](t testing.TB, what string, start func(ctx context.Context) (S, error)) S {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	s, err := start(ctx)
	if err != nil {
		t.Fatalf("failed to start %s: %v", what, err)
	}
	t.Cleanup(s.Stop)
	return s
}

// startTimeout bounds a server's start, including installing it with apt-get on a fresh machine.
const startTimeout = 5 * time.Minute
