// Package mariadb runs Debian's MariaDB server on a free loopback port for tests: a fresh data
// directory, and a user with a password (grant tables on, so wrong credentials are refused).
package mariadb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Options configures a server. Empty fields take the defaults below.
type Options struct {
	// User gets every privilege on Database (default "keda").
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

// Server is a running mariadbd.
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
		t.Fatalf("failed to start mariadbd: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// StartProcess installs MariaDB if needed (hack/tools.sh mariadb), initialises a data directory
// with mariadb-install-db and starts mariadbd on a free 127.0.0.1 port, with an init file that
// creates Database and User; it waits until User can log in. No option file is read
// (--no-defaults). As root, the server runs as the mysql (or nobody) account.
func StartProcess(ctx context.Context, opts Options) (*Server, error) {
	opts.setDefaults()
	mariadbd, installDB, err := ensureBinaries(ctx)
	if err != nil {
		return nil, err
	}
	cred, err := unprivileged("mysql")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kedactl-mariadb-")
	if err != nil {
		return nil, fmt.Errorf("failed to create the mariadb dir: %w", err)
	}
	fail := func(err error) (*Server, error) {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	initSQL := strings.Join([]string{
		"CREATE DATABASE IF NOT EXISTS " + quoteIdent(opts.Database),
		"CREATE USER IF NOT EXISTS " + quoteString(opts.User) + "@'%' IDENTIFIED BY " + quoteString(opts.Password),
		"GRANT ALL PRIVILEGES ON " + quoteIdent(opts.Database) + ".* TO " + quoteString(opts.User) + "@'%'",
	}, ";\n") + ";\n"
	initFile := filepath.Join(dir, "init.sql")
	if err := os.WriteFile(initFile, []byte(initSQL), 0o600); err != nil {
		return fail(fmt.Errorf("failed to write the init file: %w", err))
	}
	if err := chownAll(dir, cred); err != nil {
		return fail(err)
	}
	data := filepath.Join(dir, "data")
	install := exec.CommandContext(ctx, installDB, "--no-defaults", "--datadir="+data, "--auth-root-authentication-method=socket",
		"--skip-test-db", "--skip-name-resolve")
	install.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := install.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("mariadb-install-db failed: %w\n%s", err, out))
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(fmt.Errorf("failed to find a free port: %w", err))
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &Server{
		Host: "127.0.0.1", Port: port, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		User: opts.User, Password: opts.Password, Database: opts.Database,
		dir: dir, log: filepath.Join(dir, "mariadbd.log"), exited: make(chan struct{}),
	}
	logFile, err := os.Create(s.log)
	if err != nil {
		return fail(fmt.Errorf("failed to create the mariadbd log: %w", err))
	}
	// Durability is of no use to a test server; a small footprint and fast start are.
	s.cmd = exec.Command(mariadbd, "--no-defaults", "--datadir="+data, "--socket="+filepath.Join(dir, "mysqld.sock"),
		"--pid-file="+filepath.Join(dir, "mysqld.pid"), "--bind-address=127.0.0.1", "--port="+strconv.Itoa(port),
		"--skip-name-resolve", "--init-file="+initFile, "--skip-log-bin", "--innodb-buffer-pool-size=16M",
		"--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0", "--performance-schema=OFF", "--max-connections=40")
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: cred}
	if err := startTied(s.cmd, s.exited, logFile); err != nil {
		return fail(fmt.Errorf("failed to start %s: %w", mariadbd, err))
	}
	if err := s.waitReady(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// waitReady waits until User can log in to Database over TCP.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	db, err := s.DB()
	if err != nil {
		return err
	}
	defer db.Close()
	for {
		pingCtx, pingCancel := context.WithTimeout(ctx, 2*time.Second)
		err := db.PingContext(pingCtx)
		pingCancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("mariadbd exited: %s", s.tail())
		case <-ctx.Done():
			return fmt.Errorf("mariadbd on %s did not accept %s: %w\n%s", s.Addr, s.User, err, s.tail())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// DSN is a go-sql-driver/mysql data source name for Database with User's password.
func (s *Server) DSN() string {
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr, c.DBName = s.User, s.Password, "tcp", s.Addr, s.Database
	c.Timeout = 2 * time.Second
	return c.FormatDSN()
}

// DB opens a database/sql handle on Database for setting up test data; the caller closes it.
func (s *Server) DB() (*sql.DB, error) {
	return sql.Open("mysql", s.DSN())
}

// Stop stops the server and removes its directory.
func (s *Server) Stop() {
	stopGroup(s.cmd, s.exited, syscall.SIGTERM)
	_ = os.RemoveAll(s.dir)
}

func (s *Server) tail() string {
	data, _ := os.ReadFile(s.log)
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(data)
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", "''").Replace(s) + "'"
}

// ensureBinaries finds mariadbd (Debian puts it in /usr/sbin, often off a user's PATH) and
// mariadb-install-db, installing Debian's mariadb-server with hack/tools.sh when missing.
func ensureBinaries(ctx context.Context) (mariadbd, installDB string, err error) {
	find := func() (string, string) {
		var d, i string
		for _, name := range []string{"mariadbd", "/usr/sbin/mariadbd", "mysqld", "/usr/sbin/mysqld"} {
			if p, err := exec.LookPath(name); err == nil {
				d = p
				break
			}
		}
		for _, name := range []string{"mariadb-install-db", "mysql_install_db"} {
			if p, err := exec.LookPath(name); err == nil {
				i = p
				break
			}
		}
		return d, i
	}
	if d, i := find(); d != "" && i != "" {
		return d, i, nil
	}
	_, file, _, _ := runtime.Caller(0)
	tools := filepath.Join(filepath.Dir(file), "..", "..", "..", "hack", "tools.sh")
	out, err := exec.CommandContext(ctx, "bash", tools, "mariadb").CombinedOutput()
	if err != nil {
		return "", "", fmt.Errorf("failed to install mariadb-server with %s mariadb: %w\n%s", tools, err, out)
	}
	if d, i := find(); d != "" && i != "" {
		return d, i, nil
	}
	return "", "", errors.New("mariadbd or mariadb-install-db is still missing after installing mariadb-server")
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
