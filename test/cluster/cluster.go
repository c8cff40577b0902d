// Package cluster runs a real Kubernetes control plane on loopback for tests and `make demo`:
// etcd, kube-apiserver (RBAC, client certificates, service account tokens, aggregation layer),
// kube-controller-manager with the real HPA controller, kube-scheduler and kwok fake nodes. The
// binaries are built once by hack/tools.sh and cached outside the repository.
package cluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Options configures Start; zero values get defaults in setDefaults.
type Options struct {
	// Dir holds certificates, data, logs and kubeconfigs; a new temp dir when empty (and then
	// removed by Stop).
	Dir string
	// Nodes is the number of kwok fake nodes.
	Nodes int
	// HPASyncPeriod is the HPA controller's sync period.
	HPASyncPeriod time.Duration
	// MetricsServer runs metrics-server, serving metrics.k8s.io from the resource usage kwok
	// emulates for its pods (UsageCPUAnnotation, UsageMemoryAnnotation), so that the HPA can scale
	// on cpu and memory.
	MetricsServer bool
	// Out receives progress lines; nil discards them.
	Out io.Writer
}

func (o *Options) setDefaults() {
	if o.Nodes <= 0 {
		o.Nodes = 2
	}
	if o.HPASyncPeriod <= 0 {
		o.HPASyncPeriod = 2 * time.Second
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
}

// Cluster is a running local control plane.
type Cluster struct {
	opts       Options
	dir        string
	removeDir  bool
	ca         *authority
	kubeconfig string
	restConfig *rest.Config
	spawn      *spawner
	procs      []*process
	startup    time.Duration
	stopOnce   sync.Once
}

// Start builds the binaries if needed, starts the control plane and waits until it is ready: the
// apiserver answers /readyz, the default ServiceAccount exists and every node is Ready.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	opts.setDefaults()
	bins, err := binaries(ctx, opts.Out, opts.MetricsServer)
	if err != nil {
		return nil, err
	}
	// One retry: ports are found free and then released, so another process can take one before
	// etcd or a kube binary binds it, and that binary exits early.
	var lastErr error
	for attempt := 1; attempt <= 2 && ctx.Err() == nil; attempt++ {
		c, err := start(ctx, opts, bins)
		if err == nil {
			return c, nil
		}
		lastErr = err
		fmt.Fprintf(opts.Out, ">> local cluster start failed (attempt %d): %v\n", attempt, err)
	}
	if lastErr == nil {
		lastErr = ctx.Err()
	}
	return nil, fmt.Errorf("failed to start the local cluster: %w", lastErr)
}

func start(ctx context.Context, opts Options, bins *binPaths) (_ *Cluster, err error) {
	began := time.Now()
	c := &Cluster{opts: opts, dir: opts.Dir}
	if c.dir == "" {
		if c.dir, err = os.MkdirTemp("", "kedactl-cluster-"); err != nil {
			return nil, fmt.Errorf("failed to create the cluster dir: %w", err)
		}
		c.removeDir = true
	}
	c.spawn = newSpawner()
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w%s", err, c.logTails(15))
			_ = c.Stop()
		}
	}()
	for _, d := range []string{"logs", "etcd", "pki", "flexvolume"} {
		if err := os.MkdirAll(filepath.Join(c.dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("failed to create %s: %w", d, err)
		}
	}
	ports, err := FreePorts(7)
	if err != nil {
		return nil, err
	}
	etcdPort, etcdPeer, apiPort, kcmPort, schedPort, kwokPort, metricsPort := ports[0], ports[1], ports[2], ports[3], ports[4], ports[5], ports[6]
	pki := filepath.Join(c.dir, "pki")
	if err := c.writePKI(pki); err != nil {
		return nil, err
	}
	server := "https://127.0.0.1:" + strconv.Itoa(apiPort)
	for _, id := range []struct{ name, cn, org string }{
		{"admin", "kubernetes-admin", "system:masters"},
		{"controller-manager", "system:kube-controller-manager", ""},
		{"scheduler", "system:kube-scheduler", ""},
		{"kwok", "kwok", "system:masters"},
		{"metrics-server", "metrics-server", "system:masters"},
	} {
		var orgs []string
		if id.org != "" {
			orgs = []string{id.org}
		}
		certPEM, keyPEM, err := c.ca.issue(id.cn, orgs, nil)
		if err != nil {
			return nil, err
		}
		if err := writeKubeconfig(filepath.Join(c.dir, id.name+".kubeconfig"), server, c.ca.certPEM, certPEM, keyPEM); err != nil {
			return nil, err
		}
	}
	c.kubeconfig = filepath.Join(c.dir, "admin.kubeconfig")

	etcdURL := "http://127.0.0.1:" + strconv.Itoa(etcdPort)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(etcdPeer)
	if err := c.run("etcd", bins.etcd,
		"--data-dir", filepath.Join(c.dir, "etcd"),
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "default="+peerURL,
		"--unsafe-no-fsync", "--quota-backend-bytes", strconv.Itoa(2<<30),
	); err != nil {
		return nil, err
	}
	if err := c.waitHTTP(ctx, "etcd", etcdURL+"/health"); err != nil {
		return nil, err
	}

	if err := c.run("kube-apiserver", bins.apiserver,
		"--etcd-servers", etcdURL,
		"--bind-address=127.0.0.1", "--secure-port", strconv.Itoa(apiPort), "--advertise-address=127.0.0.1",
		"--endpoint-reconciler-type=none",
		"--tls-cert-file", filepath.Join(pki, "apiserver.crt"), "--tls-private-key-file", filepath.Join(pki, "apiserver.key"),
		"--client-ca-file", filepath.Join(pki, "ca.crt"),
		"--authorization-mode=Node,RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file", filepath.Join(pki, "sa.pub"),
		"--service-account-signing-key-file", filepath.Join(pki, "sa.key"),
		"--service-cluster-ip-range=172.30.0.0/24",
		"--allow-privileged=true",
		"--requestheader-client-ca-file", filepath.Join(pki, "front-proxy-ca.crt"),
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file", filepath.Join(pki, "front-proxy-client.crt"),
		"--proxy-client-key-file", filepath.Join(pki, "front-proxy-client.key"),
	); err != nil {
		return nil, err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", c.kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("failed to load %s: %w", c.kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = 200, 400
	c.restConfig = cfg
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to create a clientset: %w", err)
	}
	if err := c.waitReadyz(ctx, kube); err != nil {
		return nil, err
	}

	kcm := filepath.Join(c.dir, "controller-manager.kubeconfig")
	if err := c.run("kube-controller-manager", bins.controllerManager,
		"--kubeconfig", kcm, "--authentication-kubeconfig", kcm, "--authorization-kubeconfig", kcm,
		"--bind-address=127.0.0.1", "--secure-port", strconv.Itoa(kcmPort), "--leader-elect=false",
		"--controllers=*", "--use-service-account-credentials=true",
		"--service-account-private-key-file", filepath.Join(pki, "sa.key"),
		"--root-ca-file", filepath.Join(pki, "ca.crt"),
		"--cluster-signing-cert-file", filepath.Join(pki, "ca.crt"),
		"--cluster-signing-key-file", filepath.Join(pki, "ca.key"),
		"--horizontal-pod-autoscaler-sync-period", opts.HPASyncPeriod.String(),
		"--flex-volume-plugin-dir", filepath.Join(c.dir, "flexvolume"),
	); err != nil {
		return nil, err
	}
	sched := filepath.Join(c.dir, "scheduler.kubeconfig")
	if err := c.run("kube-scheduler", bins.scheduler,
		"--kubeconfig", sched, "--authentication-kubeconfig", sched, "--authorization-kubeconfig", sched,
		"--bind-address=127.0.0.1", "--secure-port", strconv.Itoa(schedPort), "--leader-elect=false",
	); err != nil {
		return nil, err
	}
	kwokConfig, err := writeKwokConfig(c.dir, bins.kwokStages, opts.MetricsServer)
	if err != nil {
		return nil, err
	}
	if err := c.run("kwok", bins.kwok,
		"--kubeconfig", filepath.Join(c.dir, "kwok.kubeconfig"),
		"--config", kwokConfig,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		"--cidr=172.29.0.1/16", "--node-ip=127.0.0.1",
		"--server-address", "127.0.0.1:"+strconv.Itoa(kwokPort),
		"--node-lease-duration-seconds=40",
	); err != nil {
		return nil, err
	}
	if err := c.createNodes(ctx, kube); err != nil {
		return nil, err
	}
	if err := c.waitUsable(ctx, kube); err != nil {
		return nil, err
	}
	if opts.MetricsServer {
		if err := c.startMetricsServer(ctx, bins.metricsServer, metricsPort, kwokPort); err != nil {
			return nil, err
		}
	}
	c.startup = time.Since(began)
	fmt.Fprintf(opts.Out, ">> local cluster ready in %s (kubeconfig %s)\n", c.startup.Round(100*time.Millisecond), c.kubeconfig)
	return c, nil
}

// StartForTest starts a cluster for one test and stops it when the test ends; on failure it logs
// the tail of every process's log.
func StartForTest(t testing.TB, opts Options) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	c, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(c.logTails(20))
		}
		if err := c.Stop(); err != nil {
			t.Errorf("failed to stop the local cluster: %v", err)
		}
	})
	return c
}

// Stop stops every process (kwok, scheduler, controller-manager, apiserver, etcd in that order,
// because the apiserver can hang on shutdown while its clients' watches are open) and removes the
// temp dir it made. It is safe to call more than once.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		for i := len(c.procs) - 1; i >= 0; i-- {
			c.procs[i].stop(5 * time.Second)
		}
		if c.spawn != nil {
			c.spawn.close()
		}
		if c.removeDir {
			_ = os.RemoveAll(c.dir)
		}
	})
	for _, p := range c.procs {
		if p.running() {
			return fmt.Errorf("%s (pid %d) is still running", p.name, p.cmd.Process.Pid)
		}
	}
	return nil
}

// KubeconfigPath is the admin kubeconfig.
func (c *Cluster) KubeconfigPath() string { return c.kubeconfig }

// RestConfig is the admin client config; callers must not modify it.
func (c *Cluster) RestConfig() *rest.Config { return rest.CopyConfig(c.restConfig) }

// Dir is the cluster's working directory.
func (c *Cluster) Dir() string { return c.dir }

// StartupDuration is how long Start took from the first process to ready.
func (c *Cluster) StartupDuration() time.Duration { return c.startup }

// PIDs returns the process ids of the control plane's processes.
func (c *Cluster) PIDs() []int {
	pids := make([]int, len(c.procs))
	for i, p := range c.procs {
		pids[i] = p.cmd.Process.Pid
	}
	return pids
}

// PID returns the process id of the control plane's process named name (kube-apiserver,
// kube-controller-manager, kube-scheduler, etcd, kwok).
func (c *Cluster) PID(name string) (int, bool) {
	for _, p := range c.procs {
		if p.name == name {
			return p.cmd.Process.Pid, true
		}
	}
	return 0, false
}

// ServingCert returns a serving certificate for hosts signed by the cluster's CA, and the CA, for
// servers on localhost that the apiserver calls (aggregated APIs, webhooks).
// Without hosts it is for localhost and 127.0.0.1. An aggregated API's certificate must also hold
// APIServiceHost(group, version): the aggregator dials localhost but verifies that name.
func (c *Cluster) ServingCert(hosts ...string) (certPEM, keyPEM, caPEM []byte, err error) {
	if len(hosts) == 0 {
		hosts = []string{"localhost", "127.0.0.1"}
	}
	certPEM, keyPEM, err = c.ca.issue(hosts[0], nil, hosts)
	if err != nil {
		return nil, nil, nil, err
	}
	return certPEM, keyPEM, c.ca.certPEM, nil
}

func (c *Cluster) run(name, bin string, args ...string) error {
	p, err := c.spawn.startProcess(c.dir, name, bin, args...)
	if err != nil {
		return err
	}
	c.procs = append(c.procs, p)
	return nil
}

func (c *Cluster) writePKI(dir string) error {
	ca, err := newAuthority("kedactl-local-ca")
	if err != nil {
		return err
	}
	c.ca = ca
	frontProxy, err := newAuthority("kedactl-front-proxy-ca")
	if err != nil {
		return err
	}
	apiCert, apiKey, err := ca.issue("kube-apiserver", nil, []string{"127.0.0.1", "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "172.30.0.1"})
	if err != nil {
		return err
	}
	proxyCert, proxyKey, err := frontProxy.issue("front-proxy-client", nil, nil)
	if err != nil {
		return err
	}
	caKey, err := ca.keyPEM()
	if err != nil {
		return err
	}
	saKey, saPub, err := serviceAccountKeys()
	if err != nil {
		return err
	}
	return writeFiles(map[string][]byte{
		filepath.Join(dir, "ca.crt"):                 ca.certPEM,
		filepath.Join(dir, "ca.key"):                 caKey,
		filepath.Join(dir, "apiserver.crt"):          apiCert,
		filepath.Join(dir, "apiserver.key"):          apiKey,
		filepath.Join(dir, "front-proxy-ca.crt"):     frontProxy.certPEM,
		filepath.Join(dir, "front-proxy-client.crt"): proxyCert,
		filepath.Join(dir, "front-proxy-client.key"): proxyKey,
		filepath.Join(dir, "sa.key"):                 saKey,
		filepath.Join(dir, "sa.pub"):                 saPub,
	})
}

// waitHTTP waits for url to answer 200, failing early when the named process exits.
func (c *Cluster) waitHTTP(ctx context.Context, name, url string) error {
	return c.poll(ctx, name+" health", 60*time.Second, func(ctx context.Context) (bool, error) {
		ok, err := httpGet(ctx, url)
		return err == nil && ok, nil
	})
}

func (c *Cluster) waitReadyz(ctx context.Context, kube kubernetes.Interface) error {
	return c.poll(ctx, "kube-apiserver /readyz", 90*time.Second, func(ctx context.Context) (bool, error) {
		body, err := kube.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil && bytes.Equal(bytes.TrimSpace(body), []byte("ok")), nil
	})
}

// waitUsable waits for the default ServiceAccount (pods can be created) and Ready nodes.
func (c *Cluster) waitUsable(ctx context.Context, kube kubernetes.Interface) error {
	if err := c.poll(ctx, "the default ServiceAccount", 60*time.Second, func(ctx context.Context) (bool, error) {
		_, err := kube.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	}); err != nil {
		return err
	}
	return c.poll(ctx, "Ready nodes", 60*time.Second, func(ctx context.Context) (bool, error) {
		nodes, err := kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil || len(nodes.Items) < c.opts.Nodes {
			return false, nil
		}
		for _, n := range nodes.Items {
			ready := false
			for _, cond := range n.Status.Conditions {
				ready = ready || (cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue)
			}
			if !ready {
				return false, nil
			}
		}
		return true, nil
	})
}

func (c *Cluster) createNodes(ctx context.Context, kube kubernetes.Interface) error {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("32"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	for i := range c.opts.Nodes {
		name := fmt.Sprintf("kwok-node-%d", i)
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name: name,
				Annotations: map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0",
					"metrics.k8s.io/resource-metrics-path": resourceMetricsPath(name)},
				Labels: map[string]string{"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": runtime.GOARCH, "type": "kwok"},
			},
			Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
		}
		if _, err := kube.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("failed to create node %s: %w", name, err)
		}
	}
	return nil
}

// poll runs cond until it is true, the timeout passes, or a process dies. Each attempt gets at
// most five seconds, so that one hung request does not eat the whole timeout.
func (c *Cluster) poll(ctx context.Context, what string, timeout time.Duration, cond wait.ConditionWithContextFunc) error {
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		for _, p := range c.procs {
			if !p.running() {
				return false, fmt.Errorf("%s exited", p.name)
			}
		}
		attemptCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return cond(attemptCtx)
	})
	if err != nil {
		return fmt.Errorf("waiting for %s: %w", what, err)
	}
	return nil
}

// logTails is the end of every process's log, for error messages.
func (c *Cluster) logTails(n int) string {
	var b strings.Builder
	for _, p := range c.procs {
		fmt.Fprintf(&b, "\n---- %s (%s) ----\n%s", p.name, p.log, p.tail(n))
	}
	return b.String()
}

// FreePorts returns n distinct free ports on 127.0.0.1.
func FreePorts(n int) ([]int, error) {
	var ports []int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("failed to find a free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// binPaths are the cached control plane binaries.
type binPaths struct {
	etcd, apiserver, controllerManager, scheduler, kwok, kwokStages string
	// metricsServer is empty unless asked for.
	metricsServer string
}

// modulePath is this repository's module, which holds hack/tools.sh.
const modulePath = "github.com/kedactl/kedactl"

// binaries returns the cached binaries, building them with hack/tools.sh when missing.
func binaries(ctx context.Context, out io.Writer, metricsServer bool) (*binPaths, error) {
	kube, err := ToolDir(ctx, out, "cluster")
	if err != nil {
		return nil, err
	}
	kwok, err := ToolDir(ctx, out, "kwok")
	if err != nil {
		return nil, err
	}
	ms := ""
	if metricsServer {
		dir, err := ToolDir(ctx, out, "metrics-server")
		if err != nil {
			return nil, err
		}
		ms = filepath.Join(dir, "metrics-server")
	}
	return &binPaths{
		metricsServer:     ms,
		etcd:              filepath.Join(kube, "etcd"),
		apiserver:         filepath.Join(kube, "kube-apiserver"),
		controllerManager: filepath.Join(kube, "kube-controller-manager"),
		scheduler:         filepath.Join(kube, "kube-scheduler"),
		kwok:              filepath.Join(kwok, "kwok"),
		kwokStages:        filepath.Join(kwok, "stages.yaml"),
	}, nil
}

// moduleRoot finds the repository: next to this source file, or (for binaries built with
// -trimpath, whose file names are module-relative) above the working directory.
func moduleRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if ok && filepath.IsAbs(file) {
		if root := filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..")); isModuleRoot(root) {
			return root, nil
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("failed to find the %s module root: %w", modulePath, err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if isModuleRoot(dir) {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("failed to find the %s module root (hack/tools.sh) next to %s or above %s", modulePath, file, wd)
		}
	}
}

func isModuleRoot(dir string) bool {
	mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	if _, err := os.Stat(filepath.Join(dir, "hack", "tools.sh")); err != nil {
		return false
	}
	for line := range strings.Lines(string(mod)) {
		if strings.TrimSpace(line) == "module "+modulePath {
			return true
		}
	}
	return false
}

// lockFile takes an exclusive flock on path, polling so that ctx can end the wait.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("failed to create %s: %w", filepath.Dir(path), err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("failed to open the lock %s: %w", path, err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if err != syscall.EWOULDBLOCK {
			f.Close()
			return nil, fmt.Errorf("failed to lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for the lock %s (another build is running): %w", path, ctx.Err())
		case <-time.After(time.Second):
		}
	}
}
