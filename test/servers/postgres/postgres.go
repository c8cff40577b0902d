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
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/kedactl/kedactl/test/servers/internal/proc"
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

	proc *proc.Process
	dir  string
}

// Start starts a server for one test and stops it when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	return proc.ForTest(t, "postgres", func(ctx context.Context) (*Server, error) { return StartProcess(ctx, opts) })
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
	cred, err := proc.Unprivileged("postgres")
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
	if err := proc.ChownAll(dir, cred); err != nil {
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

	port, err := proc.FreePort()
	if err != nil {
		return fail(err)
	}
	s := &Server{
		Host: "127.0.0.1", Port: port, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		User: opts.User, Password: opts.Password, Database: opts.Database, dir: dir,
	}
	// Durability is of no use to a test server; a small footprint and fast start are.
	s.proc, err = proc.Start(filepath.Join(bin, "postgres"), []string{"-D", data, "-h", "127.0.0.1", "-p", strconv.Itoa(port), "-k", dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "shared_buffers=16MB", "-c", "max_connections=40", "-c", "listen_addresses=127.0.0.1"}, dir, "postgres", cred)
	if err != nil {
		return fail(err)
	}
	if err := s.bootstrap(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// bootstrap waits until the server accepts the superuser's password, then creates Database.
func (s *Server) bootstrap(ctx context.Context) error {
	cfg, err := pgx.ParseConfig(s.connString("postgres"))
	if err != nil {
		return err
	}
	var conn *pgx.Conn
	err = s.proc.WaitUntil(ctx, 30*time.Second, "connection on "+s.Addr, func(ctx context.Context) error {
		conn, err = pgx.ConnectConfig(ctx, cfg)
		return err
	})
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if s.Database == "postgres" {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{s.Database}.Sanitize()); err != nil {
		return fmt.Errorf("failed to create database %s: %w", s.Database, err)
	}
	return nil
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
	s.proc.Stop(syscall.SIGINT)
	_ = os.RemoveAll(s.dir)
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
	if err := proc.Install(ctx, "postgres"); err != nil {
		return "", err
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
