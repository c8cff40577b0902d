package sqs

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/kedactl/kedactl/test/cluster"
	"github.com/kedactl/kedactl/test/servers/internal/proc"
)

// Goaws is a running goaws (built by hack/tools.sh goaws into the tools cache), with the queues
// its config file creates. goaws v0.4.5 binds every interface on its port whatever its Host
// setting says; URL uses 127.0.0.1.
type Goaws struct {
	// URL is the endpoint, http://127.0.0.1:port.
	URL string
	// AccountID is the account in its queue URLs.
	AccountID string

	proc *proc.Process
	dir  string
}

// StartGoaws starts goaws for one test, with the named queues, and stops it when the test ends.
func StartGoaws(t testing.TB, queues ...string) *Goaws {
	t.Helper()
	return proc.ForTest(t, "goaws", func(ctx context.Context) (*Goaws, error) { return startGoaws(ctx, queues) })
}

func startGoaws(ctx context.Context, queues []string) (*Goaws, error) {
	bin, err := cluster.ToolDir(ctx, os.Stderr, "goaws")
	if err != nil {
		return nil, err
	}
	port, err := proc.FreePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kedactl-goaws-")
	if err != nil {
		return nil, fmt.Errorf("failed to create the goaws dir: %w", err)
	}
	g := &Goaws{URL: "http://127.0.0.1:" + strconv.Itoa(port), AccountID: "100010001000", dir: dir}
	conf := fmt.Sprintf("Test:\n  Host: 127.0.0.1\n  Port: %d\n  Region: us-east-1\n  AccountId: %q\n  LogToFile: false\n  Queues:\n", port, g.AccountID)
	for _, q := range queues {
		conf += "    - Name: " + q + "\n"
	}
	confPath := filepath.Join(dir, "goaws.yaml")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("failed to write the goaws config: %w", err)
	}
	if g.proc, err = proc.Start(filepath.Join(bin, "goaws"), []string{"-config", confPath, "Test"}, dir, "goaws", nil); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	err = g.proc.WaitUntil(ctx, 30*time.Second, "goaws answering /health", func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, g.URL+"/health", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
	if err != nil {
		g.Stop()
		return nil, err
	}
	return g, nil
}

// QueueURL is the URL goaws gives the queue name.
func (g *Goaws) QueueURL(name string) string { return g.URL + "/" + g.AccountID + "/" + name }

// Stop stops goaws and removes its directory.
func (g *Goaws) Stop() {
	g.proc.Stop(syscall.SIGTERM)
	_ = os.RemoveAll(g.dir)
}
