package redis

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kedactl/kedactl/test/servers/internal/proc"
)

// SentinelOptions configures a master watched by one sentinel.
type SentinelOptions struct {
	// Password is the master's requirepass; empty means no password.
	Password string
	// SentinelPassword is the sentinel's own requirepass; empty means no password.
	SentinelPassword string
	// MasterName is the name the sentinel monitors the master under (default "mymaster").
	MasterName string
}

// Sentinel is a running master and the sentinel that monitors it, both on 127.0.0.1.
type Sentinel struct {
	// Addr, Host and Port are the sentinel's.
	Addr             string
	Host             string
	Port             int
	MasterName       string
	SentinelPassword string
	// Master is the monitored server; Master.Password is the data password.
	Master *Server

	proc *proc.Process
	dir  string
}

// StartSentinel starts a master and its sentinel for one test and stops both when it ends.
func StartSentinel(t testing.TB, opts SentinelOptions) *Sentinel {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := StartSentinelProcess(ctx, opts)
	if err != nil {
		t.Fatalf("failed to start a redis sentinel: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// StartSentinelProcess starts a master, writes a sentinel.conf that monitors it (quorum 1) and
// runs redis-server --sentinel with it, waiting until the sentinel names the master and a
// failover client reaches it through the sentinel.
func StartSentinelProcess(ctx context.Context, opts SentinelOptions) (*Sentinel, error) {
	if opts.MasterName == "" {
		opts.MasterName = "mymaster"
	}
	master, err := StartProcess(ctx, Options{Password: opts.Password})
	if err != nil {
		return nil, err
	}
	s, err := startSentinel(ctx, opts, master)
	if err != nil {
		master.Stop()
		return nil, err
	}
	return s, nil
}

func startSentinel(ctx context.Context, opts SentinelOptions, master *Server) (*Sentinel, error) {
	bin, err := ensureBinary(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kedactl-redis-sentinel-")
	if err != nil {
		return nil, fmt.Errorf("failed to create the sentinel dir: %w", err)
	}
	fail := func(err error) (*Sentinel, error) {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	ports, err := proc.FreePorts(1)
	if err != nil {
		return fail(err)
	}
	s := &Sentinel{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])), Host: "127.0.0.1", Port: ports[0],
		MasterName: opts.MasterName, SentinelPassword: opts.SentinelPassword, Master: master, dir: dir}
	// The sentinel rewrites its configuration file as it learns: it lives in the temporary dir.
	conf := []string{
		"port " + strconv.Itoa(s.Port),
		"bind 127.0.0.1",
		"protected-mode no",
		"dir " + quoteConf(dir),
		fmt.Sprintf("sentinel monitor %s %s %d 1", opts.MasterName, master.Host, master.Port),
		fmt.Sprintf("sentinel down-after-milliseconds %s 5000", opts.MasterName),
	}
	if master.Password != "" {
		conf = append(conf, fmt.Sprintf("sentinel auth-pass %s %s", opts.MasterName, quoteConf(master.Password)))
	}
	if opts.SentinelPassword != "" {
		conf = append(conf, "requirepass "+quoteConf(opts.SentinelPassword))
	}
	confFile := filepath.Join(dir, "sentinel.conf")
	if err := os.WriteFile(confFile, []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		return fail(fmt.Errorf("failed to write %s: %w", confFile, err))
	}
	s.proc, err = proc.Start(bin, []string{confFile, "--sentinel"}, dir, "sentinel", nil)
	if err != nil {
		return fail(err)
	}
	sc := goredis.NewSentinelClient(&goredis.Options{Addr: s.Addr, Password: s.SentinelPassword, DialTimeout: 2 * time.Second})
	defer sc.Close()
	fc := s.Client()
	defer fc.Close()
	if err := s.proc.WaitUntil(ctx, readyTimeout, "master "+opts.MasterName+" named by the sentinel on "+s.Addr, func(ctx context.Context) error {
		addr, err := sc.GetMasterAddrByName(ctx, opts.MasterName).Result()
		if err != nil {
			return err
		}
		if len(addr) != 2 || net.JoinHostPort(addr[0], addr[1]) != master.Addr {
			return fmt.Errorf("the sentinel names %v as master, want %s", addr, master.Addr)
		}
		return fc.Ping(ctx).Err()
	}); err != nil {
		s.proc.Stop(syscall.SIGTERM)
		return fail(err)
	}
	return s, nil
}

// quoteConf quotes a value for a redis configuration file.
func quoteConf(v string) string {
	return strconv.Quote(v)
}

// Client returns a failover client that finds the master through the sentinel; the caller
// closes it.
func (s *Sentinel) Client() *goredis.Client {
	return goredis.NewFailoverClient(&goredis.FailoverOptions{
		MasterName: s.MasterName, SentinelAddrs: []string{s.Addr}, SentinelPassword: s.SentinelPassword,
		Password: s.Master.Password, DialTimeout: 2 * time.Second,
	})
}

// Stop stops the sentinel, then the master, and removes their directories.
func (s *Sentinel) Stop() {
	if s.proc != nil {
		s.proc.Stop(syscall.SIGTERM)
	}
	_ = os.RemoveAll(s.dir)
	s.Master.Stop()
}
