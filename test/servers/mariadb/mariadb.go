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
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/kedactl/kedactl/test/servers/internal/proc"
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

	proc *proc.Process
	dir  string
}

// Start starts a server for one test and stops it when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	return proc.ForTest(t, "mariadbd", func(ctx context.Context) (*Server, error) { return StartProcess(ctx, opts) })
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
	cred, err := proc.Unprivileged("mysql")
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
	if err := proc.ChownAll(dir, cred); err != nil {
		return fail(err)
	}
	data := filepath.Join(dir, "data")
	install := exec.CommandContext(ctx, installDB, "--no-defaults", "--datadir="+data, "--auth-root-authentication-method=socket",
		"--skip-test-db", "--skip-name-resolve")
	install.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := install.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("mariadb-install-db failed: %w\n%s", err, out))
	}

	port, err := proc.FreePort()
	if err != nil {
		return fail(err)
	}
	s := &Server{
		Host: "127.0.0.1", Port: port, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		User: opts.User, Password: opts.Password, Database: opts.Database, dir: dir,
	}
	// Durability is of no use to a test server; a small footprint and fast start are.
	s.proc, err = proc.Start(mariadbd, []string{"--no-defaults", "--datadir=" + data, "--socket=" + filepath.Join(dir, "mysqld.sock"),
		"--pid-file=" + filepath.Join(dir, "mysqld.pid"), "--bind-address=127.0.0.1", "--port=" + strconv.Itoa(port),
		"--skip-name-resolve", "--init-file=" + initFile, "--skip-log-bin", "--innodb-buffer-pool-size=16M",
		"--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0", "--performance-schema=OFF", "--max-connections=40"}, dir, "mariadbd", cred)
	if err != nil {
		return fail(err)
	}
	if err := s.waitReady(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// waitReady waits until User can log in to Database over TCP.
func (s *Server) waitReady(ctx context.Context) error {
	db, err := s.DB()
	if err != nil {
		return err
	}
	defer db.Close()
	return s.proc.WaitUntil(ctx, 60*time.Second, "login of "+s.User+" on "+s.Addr, db.PingContext)
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
	s.proc.Stop(syscall.SIGTERM)
	_ = os.RemoveAll(s.dir)
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
	if err := proc.Install(ctx, "mariadb"); err != nil {
		return "", "", err
	}
	if d, i := find(); d != "" && i != "" {
		return d, i, nil
	}
	return "", "", errors.New("mariadbd or mariadb-install-db is still missing after installing mariadb-server")
}
