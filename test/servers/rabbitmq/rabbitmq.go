// Package rabbitmq runs Debian's RabbitMQ server on free loopback ports for tests: a fresh node in
// a temporary directory with the management plugin, a user with a password and a non-default
// vhost. Each server has its own epmd on its own port, so that servers of parallel tests never
// meet, and Stop ends every process the server started.
package rabbitmq

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/kedactl/kedactl/test/servers/internal/proc"
	"github.com/kedactl/kedactl/test/servers/internal/testca"
)

// serverScript is the server's own start script; Debian's /usr/sbin/rabbitmq-server wrapper
// would cd to /var/lib/rabbitmq and su to the rabbitmq account.
const serverScript = "/usr/lib/rabbitmq/bin/rabbitmq-server"

// readyTimeout bounds the wait for a node to boot (about 10-15 s on 2 busy cores).
const readyTimeout = 90 * time.Second

// Options configures a server. Empty fields take the defaults below.
type Options struct {
	// User is an administrator with permissions on "/" and Vhost (default "keda").
	User string
	// Password is User's password (default "keda-test-password").
	Password string
	// Vhost is created for the test (default "keda-vhost").
	Vhost string
	// TLS adds an AMQPS listener and an HTTPS management listener, both requiring a client
	// certificate signed by a CA made for this server; Server.TLS holds what a client needs.
	TLS bool
}

func (o *Options) setDefaults() {
	if o.User == "" {
		o.User = "keda"
	}
	if o.Password == "" {
		o.Password = "keda-test-password"
	}
	if o.Vhost == "" {
		o.Vhost = "keda-vhost"
	}
}

// Server is a running RabbitMQ node.
type Server struct {
	Host           string
	AMQPPort       int
	ManagementPort int
	User           string
	Password       string
	Vhost          string
	// AMQPSPort, ManagementTLSPort and TLS are set with Options.TLS.
	AMQPSPort         int
	ManagementTLSPort int
	TLS               *TLSFiles

	dir  string
	node *proc.Process
	epmd *proc.Process
}

// Start starts a server for one test and stops it when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	return proc.ForTest(t, "rabbitmq-server", func(ctx context.Context) (*Server, error) { return StartProcess(ctx, opts) })
}

// StartProcess installs RabbitMQ if needed (hack/tools.sh rabbitmq) and starts a node on free
// 127.0.0.1 ports: AMQP, the management API, Erlang distribution and the node's own epmd. It
// waits until the management API answers, then creates User and Vhost. As root, the node runs
// as the rabbitmq (or nobody) account.
func StartProcess(ctx context.Context, opts Options) (*Server, error) {
	// The ports are free when chosen but another test's server may take one before RabbitMQ binds
	// it, and then the node stops at boot: start again on other ports.
	for attempt := 1; ; attempt++ {
		s, err := startOnce(ctx, opts)
		if err == nil || !errors.Is(err, proc.ErrExited) || attempt == 3 {
			return s, err
		}
	}
}

func startOnce(ctx context.Context, opts Options) (*Server, error) {
	opts.setDefaults()
	if _, err := os.Stat(serverScript); err != nil {
		if err := proc.Install(ctx, "rabbitmq"); err != nil {
			return nil, err
		}
	}
	epmdBin, err := findEpmd()
	if err != nil {
		return nil, err
	}
	cred, err := proc.Unprivileged("rabbitmq")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kedactl-rabbitmq-")
	if err != nil {
		return nil, fmt.Errorf("failed to create the rabbitmq dir: %w", err)
	}
	s := &Server{Host: "127.0.0.1", User: opts.User, Password: opts.Password, Vhost: opts.Vhost, dir: dir}
	fail := func(err error) (*Server, error) {
		s.Stop()
		return nil, err
	}
	ports, err := proc.FreePorts(6)
	if err != nil {
		return fail(err)
	}
	s.AMQPPort, s.ManagementPort = ports[0], ports[1]
	distPort, epmdPort := ports[2], ports[3]

	// The bootstrap administrator exists only to create User: its password, random, never has
	// to survive the config file's syntax, and User's may hold any character.
	adminPass, err := randomHex(16)
	if err != nil {
		return fail(err)
	}
	conf := fmt.Sprintf(`listeners.tcp.1 = 127.0.0.1:%d
management.tcp.ip = 127.0.0.1
management.tcp.port = %d
default_user = kedactl-admin
default_pass = %s
default_vhost = /
# Rates (MessageRate) and queue totals refresh every second instead of every five.
collect_statistics_interval = 1000
disk_free_limit.absolute = 10MB
log.console = true
log.console.level = warning
log.file = false
`, s.AMQPPort, s.ManagementPort, adminPass)
	if opts.TLS {
		files, err := testca.New("kedactl test rabbitmq CA")
		if err != nil {
			return fail(err)
		}
		paths, err := files.WriteServer(dir)
		if err != nil {
			return fail(err)
		}
		s.TLS, s.AMQPSPort, s.ManagementTLSPort = files, ports[4], ports[5]
		conf += fmt.Sprintf(`listeners.ssl.1 = 127.0.0.1:%[1]d
ssl_options.cacertfile = %[3]s
ssl_options.certfile = %[4]s
ssl_options.keyfile = %[5]s
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = true
management.ssl.ip = 127.0.0.1
management.ssl.port = %[2]d
management.ssl.cacertfile = %[3]s
management.ssl.certfile = %[4]s
management.ssl.keyfile = %[5]s
management.ssl.verify = verify_peer
management.ssl.fail_if_no_peer_cert = true
`, s.AMQPSPort, s.ManagementTLSPort, paths.CA, paths.Cert, paths.Key)
	}
	files := map[string]string{
		"rabbitmq.conf":   conf,
		"enabled_plugins": "[rabbitmq_management].\n",
		// An empty env file, so that /etc/rabbitmq/rabbitmq-env.conf is not read.
		"rabbitmq-env.conf": "",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			return fail(fmt.Errorf("failed to write %s: %w", name, err))
		}
	}
	if err := proc.ChownAll(dir, cred); err != nil {
		return fail(err)
	}

	// The node's own epmd, in the foreground, so that it is one of ours to stop; erl finds it
	// on ERL_EPMD_PORT and starts no other.
	s.epmd, err = proc.Start(epmdBin, []string{"-port", strconv.Itoa(epmdPort), "-address", "127.0.0.1"}, dir, "epmd", cred)
	if err != nil {
		return fail(err)
	}
	epmdAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(epmdPort))
	if err := s.epmd.WaitUntil(ctx, 10*time.Second, "epmd on "+epmdAddr, func(ctx context.Context) error {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", epmdAddr)
		if err == nil {
			c.Close()
		}
		return err
	}); err != nil {
		return fail(err)
	}

	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir, // the Erlang cookie goes here
		"LANG=C.UTF-8",
		"ERL_EPMD_PORT=" + strconv.Itoa(epmdPort),
		"ERL_EPMD_ADDRESS=127.0.0.1",
		"RABBITMQ_NODENAME=rabbit-" + strconv.Itoa(s.AMQPPort) + "@localhost",
		"RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
		"RABBITMQ_NODE_PORT=" + strconv.Itoa(s.AMQPPort),
		"RABBITMQ_DIST_PORT=" + strconv.Itoa(distPort),
		"RABBITMQ_CONF_ENV_FILE=" + filepath.Join(dir, "rabbitmq-env.conf"),
		"RABBITMQ_CONFIG_FILE=" + filepath.Join(dir, "rabbitmq.conf"),
		"RABBITMQ_ADVANCED_CONFIG_FILE=" + filepath.Join(dir, "advanced.config"),
		"RABBITMQ_ENABLED_PLUGINS_FILE=" + filepath.Join(dir, "enabled_plugins"),
		"RABBITMQ_MNESIA_BASE=" + filepath.Join(dir, "mnesia"),
		"RABBITMQ_LOG_BASE=" + filepath.Join(dir, "log"),
		"RABBITMQ_PID_FILE=" + filepath.Join(dir, "rabbitmq.pid"),
		"RABBITMQ_PLUGINS_EXPAND_DIR=" + filepath.Join(dir, "plugins-expand"),
		"RABBITMQ_FEATURE_FLAGS_FILE=" + filepath.Join(dir, "feature_flags"),
		// The script execs the VM instead of starting it in the background and waiting: the VM
		// is then our direct child and dies with the test binary (Pdeathsig survives exec), and
		// -noinput keeps it from reading a shell from stdin. Erlang distribution listens on
		// loopback only.
		"RABBITMQ_ALLOW_INPUT=true",
		"RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-noinput -kernel inet_dist_use_interface {127,0,0,1}",
	}
	// env(1) gives the node exactly this environment: nothing of the test's RABBITMQ_* or ERL_*
	// leaks in.
	s.node, err = proc.Start("/usr/bin/env", append(append([]string{"-i"}, env...), serverScript), dir, "rabbitmq", cred)
	if err != nil {
		return fail(err)
	}
	admin := &api{base: s.managementBase(), user: "kedactl-admin", password: adminPass}
	if err := s.node.WaitUntil(ctx, readyTimeout, "management API on "+admin.base, func(ctx context.Context) error {
		return admin.do(ctx, http.MethodGet, "/api/overview", nil)
	}); err != nil {
		return fail(err)
	}
	listeners := []int{s.AMQPPort}
	if opts.TLS {
		listeners = append(listeners, s.AMQPSPort, s.ManagementTLSPort)
	}
	for _, port := range listeners {
		if err := s.node.WaitUntil(ctx, 10*time.Second, "a listener on port "+strconv.Itoa(port), func(ctx context.Context) error {
			c, err := (&net.Dialer{}).DialContext(ctx, "tcp", net.JoinHostPort(s.Host, strconv.Itoa(port)))
			if err == nil {
				c.Close()
			}
			return err
		}); err != nil {
			return fail(err)
		}
	}
	if err := s.bootstrap(ctx, admin); err != nil {
		return fail(err)
	}
	// The management API answers the vhost's PUT before the vhost's processes take connections
	// on a busy machine: an AMQP open in that window is dropped (seen as "Exception (501) EOF").
	// The server is ready when the test user can open a channel on Vhost.
	if err := s.node.WaitUntil(ctx, 30*time.Second, "an AMQP channel on vhost "+s.Vhost, func(context.Context) error {
		return s.onChannel(s.Vhost, func(*amqp.Channel) error { return nil })
	}); err != nil {
		return fail(err)
	}
	return s, nil
}

// bootstrap creates Vhost and User, an administrator allowed everything on "/" and Vhost.
func (s *Server) bootstrap(ctx context.Context, admin *api) error {
	all := map[string]string{"configure": ".*", "write": ".*", "read": ".*"}
	steps := []struct {
		what, path string
		body       any
	}{
		{"create vhost " + s.Vhost, "/api/vhosts/" + url.PathEscape(s.Vhost), map[string]string{}},
		{"create user " + s.User, "/api/users/" + url.PathEscape(s.User), map[string]string{"password": s.Password, "tags": "administrator"}},
		{"grant " + s.User + " on /", "/api/permissions/%2F/" + url.PathEscape(s.User), all},
		{"grant " + s.User + " on " + s.Vhost, "/api/permissions/" + url.PathEscape(s.Vhost) + "/" + url.PathEscape(s.User), all},
	}
	for _, st := range steps {
		if err := admin.do(ctx, http.MethodPut, st.path, st.body); err != nil {
			return fmt.Errorf("failed to %s: %w\n%s", st.what, err, s.node.Tail())
		}
	}
	return nil
}

// AMQPURL is the AMQP URI of vhost ("/" is the default vhost) with User's password.
func (s *Server) AMQPURL(vhost string) string {
	u := url.URL{Scheme: "amqp", User: url.UserPassword(s.User, s.Password), Host: net.JoinHostPort(s.Host, strconv.Itoa(s.AMQPPort))}
	return u.String() + "/" + url.PathEscape(vhost)
}

// AMQPSURL is the AMQPS URI of vhost with User's password (Options.TLS).
func (s *Server) AMQPSURL(vhost string) string {
	u := url.URL{Scheme: "amqps", User: url.UserPassword(s.User, s.Password), Host: net.JoinHostPort(s.Host, strconv.Itoa(s.AMQPSPort))}
	return u.String() + "/" + url.PathEscape(vhost)
}

// ManagementTLSURL is the HTTPS management API's address for vhost with User's password
// (Options.TLS).
func (s *Server) ManagementTLSURL(vhost string) string {
	u := url.URL{Scheme: "https", User: url.UserPassword(s.User, s.Password), Host: net.JoinHostPort(s.Host, strconv.Itoa(s.ManagementTLSPort))}
	return u.String() + "/" + url.PathEscape(vhost)
}

// ManagementURL is the management API's address for vhost as KEDA's rabbitmq trigger takes
// it (http://user:password@host:port/<vhost>), with User's password.
func (s *Server) ManagementURL(vhost string) string {
	u := url.URL{Scheme: "http", User: url.UserPassword(s.User, s.Password), Host: net.JoinHostPort(s.Host, strconv.Itoa(s.ManagementPort))}
	return u.String() + "/" + url.PathEscape(vhost)
}

func (s *Server) managementBase() string {
	return "http://" + net.JoinHostPort(s.Host, strconv.Itoa(s.ManagementPort))
}

// Dial opens an AMQP connection to vhost as User, for setting up test data; the caller closes it.
func (s *Server) Dial(vhost string) (*amqp.Connection, error) {
	return amqp.DialConfig(s.AMQPURL(vhost), amqp.Config{Dial: amqp.DefaultDial(10 * time.Second)})
}

// DeclareQueue declares a durable queue in vhost.
func (s *Server) DeclareQueue(vhost, queue string) error {
	return s.onChannel(vhost, func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclare(queue, true, false, false, false, nil)
		return err
	})
}

// Publish publishes n messages to queue in vhost through the default exchange, with publisher
// confirms, so that they are in the queue when it returns.
func (s *Server) Publish(ctx context.Context, vhost, queue string, n int) error {
	return s.onChannel(vhost, func(ch *amqp.Channel) error {
		if err := ch.Confirm(false); err != nil {
			return err
		}
		for i := range n {
			conf, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", queue, true, false, amqp.Publishing{Body: []byte("message " + strconv.Itoa(i))})
			if err != nil {
				return err
			}
			if ok, err := conf.WaitContext(ctx); err != nil || !ok {
				return fmt.Errorf("message %d not confirmed: %v", i, err)
			}
		}
		return nil
	})
}

// Purge removes every ready message of queue in vhost.
func (s *Server) Purge(vhost, queue string) error {
	return s.onChannel(vhost, func(ch *amqp.Channel) error {
		_, err := ch.QueuePurge(queue, false)
		return err
	})
}

// DeleteQueue deletes queue in vhost.
func (s *Server) DeleteQueue(vhost, queue string) error {
	return s.onChannel(vhost, func(ch *amqp.Channel) error {
		_, err := ch.QueueDelete(queue, false, false, false)
		return err
	})
}

func (s *Server) onChannel(vhost string, f func(*amqp.Channel) error) error {
	conn, err := s.Dial(vhost)
	if err != nil {
		return fmt.Errorf("failed to connect to vhost %q: %w", vhost, err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("failed to open a channel on vhost %q: %w", vhost, err)
	}
	defer ch.Close()
	return f(ch)
}

// QueueInfo is what the management API reports of a queue.
type QueueInfo struct {
	Messages      int64 `json:"messages"`
	MessagesReady int64 `json:"messages_ready"`
	MessageStats  struct {
		PublishDetails struct {
			Rate float64 `json:"rate"`
		} `json:"publish_details"`
	} `json:"message_stats"`
}

// Queue reads queue's statistics in vhost from the management API; they lag the queue by up to
// the statistics interval (one second).
func (s *Server) Queue(ctx context.Context, vhost, queue string) (*QueueInfo, error) {
	a := &api{base: s.managementBase(), user: s.User, password: s.Password}
	var q QueueInfo
	if err := a.get(ctx, "/api/queues/"+url.PathEscape(vhost)+"/"+url.PathEscape(queue), &q); err != nil {
		return nil, err
	}
	return &q, nil
}

// Processes are the PIDs of the live processes running in the server's directory: the node's
// script and VM, epmd, and the helpers the VM starts in sessions of their own (erl_child_setup,
// inet_gethost), which a signal to the node's process group does not reach.
func (s *Server) Processes() []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if err != nil {
			continue
		}
		cwd = strings.TrimSuffix(cwd, " (deleted)")
		if cwd != s.dir && !strings.HasPrefix(cwd, s.dir+"/") {
			continue
		}
		if stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil {
			// pid (comm) state ...: a zombie is already gone.
			if f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:])); len(f) > 0 && f[0] == "Z" {
				continue
			}
		}
		pids = append(pids, pid)
	}
	return pids
}

// Stop kills the node (a test node's data is thrown away, so there is nothing to shut down
// gracefully), its epmd and any helper left, and removes its directory.
func (s *Server) Stop() {
	s.node.Stop(syscall.SIGKILL)
	s.epmd.Stop(syscall.SIGKILL)
	// The VM's helpers leave when their pipes to it close; wait briefly, then kill what remains.
	deadline := time.Now().Add(5 * time.Second)
	for left := s.Processes(); len(left) > 0; left = s.Processes() {
		if time.Now().After(deadline) {
			for _, pid := range left {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = os.RemoveAll(s.dir)
}

// api is a management API client.
type api struct {
	base, user, password string
}

func (a *api) do(ctx context.Context, method, path string, body any) error {
	_, err := a.request(ctx, method, path, body)
	return err
}

func (a *api) get(ctx context.Context, path string, into any) error {
	data, err := a.request(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, into)
}

func (a *api) request(ctx context.Context, method, path string, body any) ([]byte, error) {
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(data)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, r)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(a.user, a.password)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(data))
	}
	return data, nil
}

// findEpmd returns the epmd that comes with Debian's Erlang.
func findEpmd() (string, error) {
	for _, p := range []string{"/usr/bin/epmd"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if matches, _ := filepath.Glob("/usr/lib/erlang/erts-*/bin/epmd"); len(matches) > 0 {
		return matches[len(matches)-1], nil
	}
	return "", errors.New("no epmd in /usr/bin or /usr/lib/erlang/erts-*/bin: install rabbitmq-server (hack/tools.sh rabbitmq), which brings Erlang")
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("failed to make a password: %w", err)
	}
	return hex.EncodeToString(b), nil
}
