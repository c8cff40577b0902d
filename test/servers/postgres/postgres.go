// Package postgres runs Debian's PostgreSQL server on a free loopback port for tests: a fresh
// cluster in a temporary directory, password authentication (scram-sha-256) over TCP on 127.0.0.1.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// Options configures a server. Empty fields take the defaults below.
type Options struct {
	// User is the cluster's superuser (default "keda").
	User string
	// Password is User's password (default "keda-test-password").
	Password string
	// Database is created for the test (default "keda").
	Database string
}

func (o *Options) setDefaults() {
	if o.User == "" {
		o.User = "keda"
	}
	if o.Password == "" {
		o.Password = "keda-test-password"
	}
	if o.Database == "" {
		o.Database = "keda"
	}
}

// Server is a running PostgreSQL server.
type Server struct {
	Host     string
	Port     int
	Addr     string
	User     string
	Password string
	Database string

	cmd    *exec.Cmd
	dir    string
	log    string
	exited chan struct{}
}

// Start starts a server for one test and stops it when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := StartProcess(ctx, opts)
	if err != nil {
		t.Fatalf("failed to start postgres: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// StartProcess installs PostgreSQL if needed (hack/tools.sh postgres), initialises a cluster in a
// temporary directory and starts it on a free 127.0.0.1 port, waiting until Database accepts
// User's password. PostgreSQL refuses to run as root: as root, the server runs as the postgres
// (or nobody) account instead.
func StartProcess(ctx context.Context, opts Options) (*Server, error) {
	opts.setDefaults()
	bin, err := ensureBinaries(ctx)
	if err != nil {
		return nil, err
	}
	cred, err := unprivileged("postgres")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kedactl-postgres-")
	if err != nil {
		return nil, fmt.Errorf("failed to create the postgres dir: %w", err)
	}
	fail := func(err error) (*Server, error) {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	pwFile := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pwFile, []byte(opts.Password+"\n"), 0o600); err != nil {
		return fail(fmt.Errorf("failed to write the password file: %w", err))
	}
	if err := chownAll(dir, cred); err != nil {
		return fail(err)
	}
	data := filepath.Join(dir, "data")
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", opts.User, "--pwfile", pwFile,
		"--auth", "scram-sha-256", "--encoding", "UTF8", "--no-locale", "--no-sync", "--no-instructions")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb failed: %w\n%s", err, out))
	}
	_ = os.Remove(pwFile)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(fmt.Errorf("failed to find a free port: %w", err))
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &Server{
		Host: "127.0.0.1", Port: port, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		User: opts.User, Password: opts.Password, Database: opts.Database,
		dir: dir, log: filepath.Join(dir, "postgres.log"), exited: make(chan struct{}),
	}
	logFile, err := os.Create(s.log)
	if err != nil {
		return fail(fmt.Errorf("failed to create the postgres log: %w", err))
	}
	// Durability is of no use to a test server; a small footprint and fast start are.
	s.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-h", "127.0.0.1", "-p", strconv.Itoa(port), "-k", dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "shared_buffers=16MB", "-c", "max_connections=40", "-c", "listen_addresses=127.0.0.1")
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: cred}
	if err := startTied(s.cmd, s.exited, logFile); err != nil {
		return fail(fmt.Errorf("failed to start postgres: %w", err))
	}
	if err := s.bootstrap(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// bootstrap waits until the server accepts the superuser's password, then creates Database.
func (s *Server) bootstrap(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cfg, err := pgx.ParseConfig(s.connString("postgres"))
	if err != nil {
		return err
	}
	cfg.ConnectTimeout = 2 * time.Second
	for {
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			defer conn.Close(context.Background())
			if s.Database == "postgres" {
				return nil
			}
			if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{s.Database}.Sanitize()); err != nil {
				return fmt.Errorf("failed to create database %s: %w", s.Database, err)
			}
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("postgres exited: %s", s.tail())
		case <-ctx.Done():
			return fmt.Errorf("postgres on %s did not accept connections: %w\n%s", s.Addr, err, s.tail())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ConnString is a URL connection string for Database with User's password.
func (s *Server) ConnString() string { return s.connString(s.Database) }

func (s *Server) connString(db string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(s.User, s.Password), Host: s.Addr, Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// DB opens a database/sql handle on Database for setting up test data; the caller closes it.
func (s *Server) DB() (*sql.DB, error) {
	return sql.Open("pgx", s.ConnString())
}

// Stop stops the server (fast shutdown) and removes its directory.
func (s *Server) Stop() {
	stopGroup(s.cmd, s.exited, syscall.SIGINT)
	_ = os.RemoveAll(s.dir)
}

func (s *Server) tail() string {
	data, _ := os.ReadFile(s.log)
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(data)
}

// ensureBinaries returns the directory of initdb and postgres: Debian's newest
// /usr/lib/postgresql/<major>/bin, or the directory of an initdb on PATH; it installs Debian's
// postgresql with hack/tools.sh when neither exists.
func ensureBinaries(ctx context.Context) (string, error) {
	find := func() string {
		dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
		sort.Slice(dirs, func(i, j int) bool { return major(dirs[i]) > major(dirs[j]) })
		for _, d := range dirs {
			if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
				return d
			}
		}
		if p, err := exec.LookPath("initdb"); err == nil {
			if real, err := filepath.EvalSymlinks(p); err == nil {
				return filepath.Dir(real)
			}
			return filepath.Dir(p)
		}
		return ""
	}
	if d := find(); d != "" {
		return d, nil
	}
	_, file, _, _ := runtime.Caller(0)
	tools := filepath.Join(filepath.Dir(file), "..", "..", "..", "hack", "tools.sh")
	out, err := exec.CommandContext(ctx, "bash", tools, "postgres").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("failed to install postgresql with %s postgres: %w\n%s", tools, err, out)
	}
	if d := find(); d != "" {
		return d, nil
	}
	return "", errors.New("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin after installing postgresql")
}

func major(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// unprivileged returns the credentials to run the server with: nil (the current user) unless
// running as root, then those of account, or of nobody when account does not exist.
func unprivileged(account string) (*syscall.Credential, error) {
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

func chownAll(dir string, cred *syscall.Credential) error {
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

// startTied starts cmd from a goroutine locked to its OS thread and waits for it there, so that
// Pdeathsig (tied by Linux to the forking thread) kills the server only when the test binary
// dies, even without running its cleanups. exited is closed when cmd has exited.
func startTied(cmd *exec.Cmd, exited chan struct{}, logFile *os.File) error {
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the server
		defer close(exited)
		defer logFile.Close()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
	}()
	return <-started
}

// stopGroup sends sig to cmd's process group, then SIGKILL after five seconds.
func stopGroup(cmd *exec.Cmd, exited chan struct{}, sig syscall.Signal) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	select {
	case <-exited:
		return
	default:
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
}
