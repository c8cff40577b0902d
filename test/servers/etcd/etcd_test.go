package etcd

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// TestServerWithAuth: with a root password, root reads and writes, an anonymous client is
// refused, a reader reads its prefix only, and Stop leaves nothing behind.
func TestServerWithAuth(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd")
	}
	ctx := context.Background()
	s := Start(t, Options{RootPassword: "root pw"})
	if err := s.Put(ctx, "/q/a", "1"); err != nil {
		t.Fatal(err)
	}
	anon, err := clientv3.New(clientv3.Config{Endpoints: []string{s.Endpoint}, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer anon.Close()
	if _, err := anon.Get(ctx, "/q/a"); err == nil || !strings.Contains(err.Error(), "user name is empty") {
		t.Errorf("anonymous read: %v, want refused", err)
	}
	if err := s.AddReader(ctx, "r", "r pw", "/q/"); err != nil {
		t.Fatal(err)
	}
	r, err := s.client("r", "r pw")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if resp, err := r.Get(ctx, "/q/a"); err != nil || len(resp.Kvs) != 1 {
		t.Errorf("reader on its prefix: %v, %v", resp, err)
	}
	if _, err := r.Put(ctx, "/q/a", "2"); err == nil {
		t.Error("the reader wrote")
	}
	s.Stop()
	if s.proc.Running() {
		t.Error("etcd still runs after Stop")
	}
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists after Stop: %v", s.dir, err)
	}
}
