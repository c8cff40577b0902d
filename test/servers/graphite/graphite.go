// Package graphite runs Debian's Graphite for tests: carbon-cache (graphite-carbon), which takes
// points on its plaintext port and writes them to whisper files, and graphite-web's render API
// (Django's runserver), which reads them, both on free loopback ports with every file in a temp
// dir. Every metric keeps one point a second for an hour, and graphite-web asks carbon-cache for
// the points it has not written yet, so a point sent is visible at once.
//
// graphite-web cannot require credentials of its own (its render API is open, or behind the web
// server in front of it), so with Options.Username the harness puts a small reverse proxy that
// checks HTTP basic auth in front of it, as a site's nginx would, and URL is the proxy's.
package graphite

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kedactl/kedactl/test/servers/internal/proc"
)

// readyTimeout bounds the wait for a started server to answer.
const readyTimeout = time.Minute

// Options configure a server.
type Options struct {
	// Username and Password, when Username is set, are required (HTTP basic auth) by a proxy in
	// front of graphite-web.
	Username, Password string
}

// Server is a running Graphite.
type Server struct {
	// URL is what the trigger's serverAddress names: graphite-web, or the proxy in front of it.
	URL string
	// WebURL is graphite-web itself, without credentials.
	WebURL string
	// CarbonAddr is host:port of carbon-cache's plaintext receiver.
	CarbonAddr string

	carbon, web *proc.Process
	proxy       *http.Server
	dir         string
	// served counts the requests the proxy let through.
	served atomic.Int64
}

// Start starts a server for one test and stops it when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	return proc.ForTest(t, "graphite", func(ctx context.Context) (*Server, error) { return StartProcess(ctx, opts) })
}

// StartProcess installs Graphite if needed (hack/tools.sh graphite) and starts carbon-cache and
// graphite-web on free 127.0.0.1 ports, waiting until both answer.
func StartProcess(ctx context.Context, opts Options) (*Server, error) {
	carbonBin, manageBin, err := ensureBinaries(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kedactl-graphite-")
	if err != nil {
		return nil, fmt.Errorf("failed to create the graphite dir: %w", err)
	}
	s := &Server{dir: dir}
	if err := s.start(ctx, carbonBin, manageBin, opts); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) start(ctx context.Context, carbonBin, manageBin string, opts Options) error {
	ports, err := proc.FreePorts(4)
	if err != nil {
		return err
	}
	line, pickle, cacheQuery, web := ports[0], ports[1], ports[2], ports[3]
	s.CarbonAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(line))
	s.WebURL = "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(web))
	s.URL = s.WebURL
	if err := writeConfig(s.dir, line, pickle, cacheQuery); err != nil {
		return err
	}

	// graphite-web reads its settings from the module GRAPHITE_SETTINGS_MODULE names, here the
	// temp dir's; Debian's python3 is named in full, since PATH may lead to another Python.
	env := []string{"PYTHONPATH=" + s.dir, "GRAPHITE_SETTINGS_MODULE=kedactl_graphite_settings", "PYTHONDONTWRITEBYTECODE=1"}
	migrate := exec.CommandContext(ctx, "/usr/bin/python3", manageBin, "migrate", "--run-syncdb", "--verbosity=0")
	migrate.Dir, migrate.Env = s.dir, append(os.Environ(), env...)
	if out, err := migrate.CombinedOutput(); err != nil {
		return fmt.Errorf("failed to create graphite-web's database (graphite-manage migrate): %w\n%s", err, out)
	}

	s.carbon, err = proc.Start(carbonBin, []string{"--config=" + filepath.Join(s.dir, "conf", "carbon.conf"),
		"--pidfile=" + filepath.Join(s.dir, "carbon-cache.pid"), "--nodaemon", "start"}, s.dir, "carbon-cache", nil)
	if err != nil {
		return err
	}
	s.web, err = proc.Start("/usr/bin/env", append(env, "/usr/bin/python3", manageBin, "runserver", "--noreload",
		net.JoinHostPort("127.0.0.1", strconv.Itoa(web))), s.dir, "graphite-web", nil)
	if err != nil {
		return err
	}
	if err := s.carbon.WaitUntil(ctx, readyTimeout, "carbon-cache to listen on "+s.CarbonAddr, func(ctx context.Context) error {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", s.CarbonAddr)
		if err != nil {
			return err
		}
		return c.Close()
	}); err != nil {
		return err
	}
	if err := s.web.WaitUntil(ctx, readyTimeout, "graphite-web to answer on "+s.WebURL, func(ctx context.Context) error {
		_, err := s.render(ctx, s.WebURL, "", "", "kedactl.ready", "-1min")
		return err
	}); err != nil {
		return err
	}
	if opts.Username != "" {
		return s.startProxy(opts)
	}
	return nil
}

// writeConfig writes carbon.conf, storage-schemas.conf and graphite-web's settings module.
func writeConfig(dir string, line, pickle, cacheQuery int) error {
	storage := filepath.Join(dir, "storage")
	whisper := filepath.Join(storage, "whisper")
	for _, d := range []string{filepath.Join(dir, "conf"), whisper, filepath.Join(storage, "log", "webapp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("failed to create %s: %w", d, err)
		}
	}
	carbonConf := fmt.Sprintf(`[cache]
STORAGE_DIR = %[1]s/
LOCAL_DATA_DIR = %[2]s/
CONF_DIR = %[3]s/
LOG_DIR = %[1]s/log/
PID_DIR = %[1]s/
DATABASE = whisper
ENABLE_LOGROTATION = False
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = 10000
MAX_CREATES_PER_MINUTE = inf
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = %[4]d
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = %[5]d
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = %[6]d
LOG_LISTENER_CONNECTIONS = False
`, storage, whisper, filepath.Join(dir, "conf"), line, pickle, cacheQuery)
	// One point a second: a test's points each keep their own slot and are read back as sent.
	schemas := "[all]\npattern = .*\nretentions = 1s:1h\n"
	settings := fmt.Sprintf(`SECRET_KEY = 'kedactl-test'
STORAGE_DIR = %[1]q
WHISPER_DIR = %[2]q
LOG_DIR = %[3]q
INDEX_FILE = %[4]q
CONF_DIR = %[5]q
CARBONLINK_HOSTS = ['127.0.0.1:%[6]d']
DATABASES = {'default': {'NAME': %[7]q, 'ENGINE': 'django.db.backends.sqlite3'}}
FUNCTION_PLUGINS = []
`, storage, whisper+"/", filepath.Join(storage, "log", "webapp"), filepath.Join(storage, "index"), filepath.Join(dir, "conf"),
		cacheQuery, filepath.Join(storage, "graphite.db"))
	for name, text := range map[string]string{
		filepath.Join(dir, "conf", "carbon.conf"):          carbonConf,
		filepath.Join(dir, "conf", "storage-schemas.conf"): schemas,
		filepath.Join(dir, "kedactl_graphite_settings.py"): settings,
	} {
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			return fmt.Errorf("failed to write %s: %w", name, err)
		}
	}
	return nil
}

// startProxy serves, on a free port, a reverse proxy to graphite-web that answers 401 unless the
// request carries opts' basic credentials.
func (s *Server) startProxy(opts Options) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("failed to listen for the graphite proxy: %w", err)
	}
	target, err := url.Parse(s.WebURL)
	if err != nil {
		return err
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	s.proxy = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(opts.Username)) != 1 || subtle.ConstantTimeCompare([]byte(p), []byte(opts.Password)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="graphite"`)
			http.Error(w, "401 Authorization Required", http.StatusUnauthorized)
			return
		}
		r.Header.Del("Authorization")
		s.served.Add(1)
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = s.proxy.Serve(ln) }()
	s.URL = "http://" + ln.Addr().String()
	return nil
}

// Served is the number of requests with the right credentials the proxy passed to graphite-web.
func (s *Server) Served() int64 { return s.served.Load() }

// Stop stops the proxy, graphite-web and carbon-cache, and removes the dir.
func (s *Server) Stop() {
	if s.proxy != nil {
		_ = s.proxy.Close()
	}
	for _, p := range []*proc.Process{s.web, s.carbon} {
		if p != nil {
			p.Stop(syscall.SIGTERM)
		}
	}
	_ = os.RemoveAll(s.dir)
}

func ensureBinaries(ctx context.Context) (carbon, manage string, err error) {
	look := func() error {
		if carbon, err = exec.LookPath("carbon-cache"); err != nil {
			return err
		}
		manage, err = exec.LookPath("graphite-manage")
		return err
	}
	if look() == nil {
		return carbon, manage, nil
	}
	if err := proc.Install(ctx, "graphite"); err != nil {
		return "", "", err
	}
	if err := look(); err != nil {
		return "", "", fmt.Errorf("carbon-cache or graphite-manage is still not on PATH after installing graphite: %w", err)
	}
	return carbon, manage, nil
}

// Send writes points to carbon-cache's plaintext port, one "metric value timestamp" line each,
// all stamped at.
func (s *Server) Send(ctx context.Context, at time.Time, points map[string]float64) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", s.CarbonAddr)
	if err != nil {
		return fmt.Errorf("failed to reach carbon-cache at %s: %w", s.CarbonAddr, err)
	}
	defer c.Close()
	var b strings.Builder
	for name, v := range points {
		fmt.Fprintf(&b, "%s %s %d\n", name, strconv.FormatFloat(v, 'f', -1, 64), at.Unix())
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		return fmt.Errorf("failed to send points to carbon-cache at %s: %w", s.CarbonAddr, err)
	}
	return nil
}

// Put sends one point of metric stamped now and waits until graphite-web reads it back as the
// metric's last point, so that a poll after Put sees it.
func (s *Server) Put(t testing.TB, metric string, v float64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Send(ctx, time.Now(), map[string]float64{metric: v}); err != nil {
		t.Fatal(err)
	}
	var last string
	for {
		series, err := s.render(ctx, s.WebURL, "", "", metric, "-1min")
		if err == nil && len(series) == 1 {
			if got, ok := lastPoint(series[0]); ok && got == v {
				return
			}
		}
		last = fmt.Sprintf("series %v, error %v", series, err)
		select {
		case <-ctx.Done():
			t.Fatalf("graphite-web did not read back %s = %g: last %s\n%s", metric, v, last, s.web.Tail())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Series is one series of the render API's JSON.
type Series struct {
	Target     string        `json:"target"`
	Datapoints [][2]*float64 `json:"datapoints"`
}

func lastPoint(s Series) (float64, bool) {
	for i := len(s.Datapoints) - 1; i >= 0; i-- {
		if v := s.Datapoints[i][0]; v != nil {
			return *v, true
		}
	}
	return 0, false
}

// Render asks base (URL or WebURL) for target's points since from, with basic credentials
// when user is set; an answer outside 2xx is an error holding its status code.
func (s *Server) Render(ctx context.Context, base, user, password, target, from string) ([]Series, error) {
	return s.render(ctx, base, user, password, target, from)
}

// ErrStatus is what Render's error wraps for an answer outside 2xx.
var ErrStatus = errors.New("graphite answered outside 2xx")

func (s *Server) render(ctx context.Context, base, user, password, target, from string) ([]Series, error) {
	q := url.Values{"target": {target}, "from": {from}, "format": {"json"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/render?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%w: %s", ErrStatus, resp.Status)
	}
	var series []Series
	if err := json.NewDecoder(resp.Body).Decode(&series); err != nil {
		return nil, fmt.Errorf("render answer is not JSON: %w", err)
	}
	return series, nil
}
