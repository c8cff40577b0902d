// Package prometheus runs Debian's Prometheus server on a free loopback port for tests, scraping
// exporters the test starts (NewExporter: gauges the test sets) every second.
package prometheus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kedactl/kedactl/test/servers/internal/proc"
)

// Options configures a server.
type Options struct {
	// Targets are the host:port addresses scraped (path /metrics), as job "test".
	Targets []string
	// ScrapeInterval is how often the targets are scraped (default 1s).
	ScrapeInterval time.Duration
}

func (o *Options) setDefaults() {
	if o.ScrapeInterval <= 0 {
		o.ScrapeInterval = time.Second
	}
}

// Server is a running Prometheus.
type Server struct {
	Host string
	Port int
	Addr string
	// URL is the server address a prometheus trigger uses (http://127.0.0.1:port).
	URL string

	proc *proc.Process
	dir  string
}

// Start starts a server for one test and stops it when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	return proc.ForTest(t, "prometheus", func(ctx context.Context) (*Server, error) { return StartProcess(ctx, opts) })
}

// StartProcess installs Prometheus if needed (hack/tools.sh prometheus) and starts it on a free
// 127.0.0.1 port with its storage in a temporary directory, waiting until /-/ready answers. As
// root, the server runs as the prometheus (or nobody) account.
func StartProcess(ctx context.Context, opts Options) (*Server, error) {
	opts.setDefaults()
	bin, err := ensureBinary(ctx)
	if err != nil {
		return nil, err
	}
	cred, err := proc.Unprivileged("prometheus")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kedactl-prometheus-")
	if err != nil {
		return nil, fmt.Errorf("failed to create the prometheus dir: %w", err)
	}
	fail := func(err error) (*Server, error) {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	configFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(configFile, []byte(config(opts)), 0o644); err != nil {
		return fail(fmt.Errorf("failed to write the prometheus config: %w", err))
	}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		return fail(err)
	}
	if err := proc.ChownAll(dir, cred); err != nil {
		return fail(err)
	}
	port, err := proc.FreePort()
	if err != nil {
		return fail(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	s := &Server{Host: "127.0.0.1", Port: port, Addr: addr, URL: "http://" + addr, dir: dir}
	s.proc, err = proc.Start(bin, []string{"--config.file=" + configFile, "--storage.tsdb.path=" + data,
		"--web.listen-address=" + addr, "--storage.tsdb.retention.time=1h", "--log.level=warn"}, dir, "prometheus", cred)
	if err != nil {
		return fail(err)
	}
	client := &http.Client{Timeout: 2 * time.Second}
	err = s.proc.WaitUntil(ctx, 60*time.Second, "readiness on "+addr+"/-/ready", func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/-/ready", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
			return fmt.Errorf("/-/ready answered %d: %s", resp.StatusCode, body)
		}
		return nil
	})
	if err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// config is prometheus.yml: one job scraping the targets.
func config(opts Options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global:\n  scrape_interval: %s\n  scrape_timeout: %s\n  evaluation_interval: %s\n", opts.ScrapeInterval, opts.ScrapeInterval, opts.ScrapeInterval)
	b.WriteString("scrape_configs:\n  - job_name: test\n    static_configs:\n      - targets: [")
	for i, t := range opts.Targets {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(t))
	}
	b.WriteString("]\n")
	return b.String()
}

// Query runs an instant query and returns the value of its single sample; ok is false when the
// result is empty.
func (s *Server) Query(ctx context.Context, query string) (value float64, ok bool, err error) {
	u := s.URL + "/api/v1/query?" + url.Values{"query": {query}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, false, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, false, fmt.Errorf("query %q: %w", query, err)
	}
	if r.Status != "success" {
		return 0, false, fmt.Errorf("query %q: %s", query, r.Error)
	}
	switch len(r.Data.Result) {
	case 0:
		return 0, false, nil
	case 1:
		str, _ := r.Data.Result[0].Value[1].(string)
		v, err := strconv.ParseFloat(str, 64)
		return v, true, err
	default:
		return 0, false, fmt.Errorf("query %q returned %d samples", query, len(r.Data.Result))
	}
}

// WaitForValue waits until query returns want: a value the test set on an exporter is seen by
// Prometheus after the next scrape.
func (s *Server) WaitForValue(ctx context.Context, query string, want float64, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		v, ok, err := s.Query(ctx, query)
		if err == nil && ok && v == want {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("prometheus on %s: %s did not become %g within %s (last: value %g, found %v, error %v)", s.Addr, query, want, timeout, v, ok, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop stops the server and removes its directory.
func (s *Server) Stop() {
	s.proc.Stop(syscall.SIGTERM)
	_ = os.RemoveAll(s.dir)
}

// ensureBinary finds prometheus, installing Debian's package with hack/tools.sh when missing.
func ensureBinary(ctx context.Context) (string, error) {
	if p, err := exec.LookPath("prometheus"); err == nil {
		return p, nil
	}
	if err := proc.Install(ctx, "prometheus"); err != nil {
		return "", err
	}
	p, err := exec.LookPath("prometheus")
	if err != nil {
		return "", errors.New("prometheus is still not on PATH after installing Debian's prometheus package")
	}
	return p, nil
}
