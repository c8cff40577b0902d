// Package fakegcs runs fake-gcs-server, a Cloud Storage emulator (built from
// github.com/fsouza/fake-gcs-server v1.56.1 by hack/tools.sh fakegcs into the tools cache), on a
// free loopback port for tests: the JSON API over plain HTTP with the in-memory backend, in its
// own process group, dying with the test binary and stopped when the test ends. Buckets and
// objects are made and removed through the emulator's JSON API, as producers and workers do.
//
// The gcp-storage trigger reaches it the way KEDA users reach an emulator: the operator's
// STORAGE_EMULATOR_HOST names it, and requests carry no token.
package fakegcs

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kedactl/kedactl/test/cluster"
	"github.com/kedactl/kedactl/test/servers/internal/proc"
)

// readyTimeout bounds the wait for a started server to answer.
const readyTimeout = 30 * time.Second

// Server is a running fake-gcs-server.
type Server struct {
	// Host is host:port, what STORAGE_EMULATOR_HOST names.
	Host string
	// URL is http://Host.
	URL string

	proc   *proc.Process
	dir    string
	client *http.Client
}

// Start starts a server for one test and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return proc.ForTest(t, "fake-gcs-server", StartProcess)
}

// StartProcess builds fake-gcs-server if needed (hack/tools.sh fakegcs) and starts it on a free
// 127.0.0.1 port, waiting until its JSON API answers.
func StartProcess(ctx context.Context) (*Server, error) {
	bin, err := cluster.ToolDir(ctx, os.Stderr, "fakegcs")
	if err != nil {
		return nil, err
	}
	port, err := proc.FreePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kedactl-fakegcs-")
	if err != nil {
		return nil, fmt.Errorf("failed to create the fake-gcs-server dir: %w", err)
	}
	s := &Server{Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir: dir, client: &http.Client{Timeout: 10 * time.Second}}
	s.URL = "http://" + s.Host
	args := []string{"-scheme", "http", "-host", "127.0.0.1", "-port", strconv.Itoa(port), "-backend", "memory",
		"-public-host", s.Host, "-external-url", s.URL, "-log-level", "warn"}
	if s.proc, err = proc.Start(filepath.Join(bin, "fake-gcs-server"), args, dir, "fake-gcs-server", nil); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := s.proc.WaitUntil(ctx, readyTimeout, "answer on "+s.URL+"/storage/v1/b", func(ctx context.Context) error {
		_, err := s.do(ctx, http.MethodGet, "/storage/v1/b", nil, nil)
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

// CreateBucket creates bucket.
func (s *Server) CreateBucket(ctx context.Context, bucket string) error {
	body, err := json.Marshal(map[string]string{"name": bucket})
	if err != nil {
		return err
	}
	_, err = s.do(ctx, http.MethodPost, "/storage/v1/b?project=kedactl-test", body, http.Header{"Content-Type": {"application/json"}})
	return err
}

// PutObjects uploads content under each name (an empty content makes the size-0 "folder"
// placeholders consoles create).
func (s *Server) PutObjects(ctx context.Context, bucket, content string, names ...string) error {
	for _, name := range names {
		q := url.Values{"uploadType": {"media"}, "name": {name}}
		path := "/upload/storage/v1/b/" + url.PathEscape(bucket) + "/o?" + q.Encode()
		if _, err := s.do(ctx, http.MethodPost, path, []byte(content), http.Header{"Content-Type": {"text/plain"}}); err != nil {
			return err
		}
	}
	return nil
}

// DeleteObjects removes each named object.
func (s *Server) DeleteObjects(ctx context.Context, bucket string, names ...string) error {
	for _, name := range names {
		if _, err := s.do(ctx, http.MethodDelete, "/storage/v1/b/"+url.PathEscape(bucket)+"/o/"+url.PathEscape(name), nil, nil); err != nil {
			return err
		}
	}
	return nil
}

// do makes one request of the JSON API and returns the body of a 2xx answer.
func (s *Server) do(ctx context.Context, method, pathAndQuery string, body []byte, header http.Header) ([]byte, error) {
	var r io.Reader
	if body != nil {
		r = strings.NewReader(string(body))
	}
	req, err := http.NewRequestWithContext(ctx, method, s.URL+pathAndQuery, r)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("fake-gcs-server: %s %s: %d %s", method, pathAndQuery, resp.StatusCode, strings.TrimSpace(string(answer)))
	}
	return answer, nil
}

// Front is a fixed loopback address in front of an emulator that starts later. The e2e suite
// starts the operator once, with STORAGE_EMULATOR_HOST naming the Front, while the emulator is
// started by the one test that needs it (so that a run without that test never builds it);
// until Point is called the Front answers 503.
type Front struct {
	// Host is host:port, what STORAGE_EMULATOR_HOST names.
	Host string

	srv    *http.Server
	target atomic.Pointer[url.URL]
}

// NewFront listens on a free 127.0.0.1 port.
func NewFront() (*Front, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("failed to listen for the fake-gcs-server front: %w", err)
	}
	f := &Front{Host: ln.Addr().String()}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(f.target.Load()) },
		// Once its test has stopped the emulator, the operator may still poll a trigger that is
		// being deleted: a quiet 502, not a line in the test's output each time.
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) },
	}
	f.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.target.Load() == nil {
			http.Error(w, "no fake-gcs-server started behind this front yet", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	})}
	go func() { _ = f.srv.Serve(ln) }()
	return f, nil
}

// Point sends the Front's requests to s from now on.
func (f *Front) Point(s *Server) {
	u, _ := url.Parse(s.URL)
	f.target.Store(u)
}

// Close stops the Front.
func (f *Front) Close() {
	_ = f.srv.Close()
}
