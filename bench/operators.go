package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kedactl/kedactl/test/cluster"
)

// Operator is one autoscaler under test: it installs its CRDs, runs its processes on loopback with
// the admin kubeconfig and registers its external metrics APIService.
type Operator interface {
	Name() string
	CRDFiles() ([]string, error)
	Start(ctx context.Context, h *Harness) error
	Stop()
	// Procs are the processes whose memory and CPU count as the operator's.
	Procs() []*Proc
	// PromURLs serve rest_client_requests_total for the operator's clients.
	PromURLs() []string
	// StartWebhook makes the validating webhook serve on the returned loopback port (figure 6),
	// and returns the Prometheus endpoint of the process serving it.
	StartWebhook(ctx context.Context, h *Harness) (port int, metricsURL string, stop func(), err error)
}

// Profiler is an Operator that serves Go's /debug/pprof, so that figure 5 can say where its time
// goes while it answers external metrics requests.
type Profiler interface {
	// PprofURL is the base URL of /debug/pprof, with the binary it profiles.
	PprofURL() (base, binary string)
}

// Proc is a process the bench started, in its own process group.
type Proc struct {
	Name, Log string
	cmd       *exec.Cmd
	exited    chan struct{}
}

func startProc(dir, name, bin string, env []string, args ...string) (*Proc, error) {
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("failed to start %s: %w", name, err)
	}
	p := &Proc{Name: name, Log: logPath, cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); f.Close(); close(p.exited) }()
	return p, nil
}

// PID is the process id.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Running tells whether the process has not exited.
func (p *Proc) Running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Stop sends SIGTERM to the process group, then SIGKILL after 10 s.
func (p *Proc) Stop() {
	if p == nil || !p.Running() {
		return
	}
	_ = syscall.Kill(-p.PID(), syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-p.PID(), syscall.SIGKILL)
		<-p.exited
	}
}

func (p *Proc) tail() string {
	b, _ := os.ReadFile(p.Log)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

func waitHTTP200(ctx context.Context, p *Proc, url string, timeout time.Duration) error {
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if !p.Running() {
			return false, fmt.Errorf("%s exited", p.Name)
		}
		resp, err := http.Get(url)
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		return fmt.Errorf("%s not ready at %s: %w\n%s", p.Name, url, err, p.tail())
	}
	return nil
}

// servingCertFiles writes a certificate for localhost, 127.0.0.1 and the external metrics
// APIService's host (client and server use, signed by the cluster CA) as ca.crt, tls.crt, tls.key
// in dir: KEDA's gRPC link and its adapter read this layout; ours takes the file flags.
func servingCertFiles(c *cluster.Cluster, dir string) (caPEM []byte, err error) {
	certPEM, keyPEM, caPEM, err := c.ServingCert("localhost", "127.0.0.1", cluster.APIServiceHost("external.metrics.k8s.io", "v1beta1"))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	for name, data := range map[string][]byte{"ca.crt": caPEM, "tls.crt": certPEM, "tls.key": keyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return nil, err
		}
	}
	return caPEM, nil
}

// oursBuild is ./cmd/operator built once for every process of a run.
type oursBuild struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

func newOursBuild(dir string) *oursBuild { return &oursBuild{dir: dir} }

// path builds the operator on its first call and returns the binary.
func (b *oursBuild) path(ctx context.Context, h *Harness) (string, error) {
	b.once.Do(func() {
		root, err := cluster.ModuleRoot()
		if err != nil {
			b.err = err
			return
		}
		b.bin = filepath.Join(b.dir, "kedactl-operator")
		h.Logf("building ./cmd/operator")
		build := exec.CommandContext(ctx, "go", "build", "-o", b.bin, "./cmd/operator")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("failed to build the operator: %w\n%s", err, out)
		}
	})
	return b.bin, b.err
}

// Ours is this repository's operator, built from ./cmd/operator.
type Ours struct {
	// Build is shared by every process of the run: one build of the operator.
	Build      *oursBuild
	QPS, Burst string
	// MemoryLimitMiB, when set, runs the operator as in a container with this memory limit.
	MemoryLimitMiB int
	proc           *Proc
	bin            string
	promURL        string
	pprofURL       string
	webhookPort    int
	starts         int // restarts so far
}

func (o *Ours) Name() string { return "kedactl" }

func (o *Ours) CRDFiles() ([]string, error) {
	root, err := cluster.ModuleRoot()
	if err != nil {
		return nil, err
	}
	return filepath.Glob(filepath.Join(root, "charts", "keda", "crds", "*.yaml"))
}

func (o *Ours) Start(ctx context.Context, h *Harness) error {
	dir := filepath.Join(h.Dir, "kedactl")
	bin, err := o.Build.path(ctx, h)
	if err != nil {
		return err
	}
	caPEM, err := servingCertFiles(h.Cluster, filepath.Join(dir, "certs"))
	if err != nil {
		return err
	}
	ports, err := cluster.FreePorts(5)
	if err != nil {
		return err
	}
	metricsPort, healthPort, promPort, pprofPort := ports[0], ports[1], ports[2], ports[4]
	o.webhookPort = ports[3]
	o.promURL = fmt.Sprintf("http://127.0.0.1:%d/metrics", promPort)
	o.pprofURL, o.bin = fmt.Sprintf("http://127.0.0.1:%d/debug/pprof", pprofPort), bin
	var env []string
	if o.MemoryLimitMiB > 0 {
		// Outside a container there is no cgroup limit to read: give the runtime the soft limit
		// the operator would set from one.
		env = append(env, "GOMEMLIMIT="+strconv.FormatInt(oursMemoryLimit(o.MemoryLimitMiB), 10))
	}
	logName := "operator"
	if o.starts > 0 {
		logName = fmt.Sprintf("operator-%d", o.starts+1)
	}
	o.proc, err = startProc(dir, logName, bin, env,
		"--kubeconfig", h.Cluster.KubeconfigPath(),
		"--secure-port", strconv.Itoa(metricsPort),
		"--metrics-server-bind-address", "127.0.0.1",
		"--tls-cert-file", filepath.Join(dir, "certs", "tls.crt"),
		"--tls-private-key-file", filepath.Join(dir, "certs", "tls.key"),
		"--cert-webhook-config-name", "", "--cert-apiservice-name", "",
		"--webhook-port", strconv.Itoa(o.webhookPort), "--webhook-bind-address", "127.0.0.1",
		"--health-probe-bind-address", "127.0.0.1:"+strconv.Itoa(healthPort),
		"--metrics-bind-address", "127.0.0.1:"+strconv.Itoa(promPort),
		"--profiling-bind-address", "127.0.0.1:"+strconv.Itoa(pprofPort),
		"--leader-elect=false",
		"--cluster-object-namespace", cluster.APIServiceNamespace,
		"--cert-secret-namespace", cluster.APIServiceNamespace,
		"--kube-api-qps", o.QPS, "--kube-api-burst", o.Burst,
		"--zap-log-level", "info",
	)
	if err != nil {
		return err
	}
	if err := waitHTTP200(ctx, o.proc, fmt.Sprintf("http://127.0.0.1:%d/readyz", healthPort), 90*time.Second); err != nil {
		return err
	}
	return h.Cluster.RegisterAPIService(ctx, "external.metrics.k8s.io", "v1beta1", metricsPort, caPEM)
}

// defaultMemoryLimitRatio is the operator's --memory-limit-ratio default.
const defaultMemoryLimitRatio = 0.9

// oursMemoryLimit is the soft memory limit in bytes the operator sets in a container limited to mib.
func oursMemoryLimit(mib int) int64 {
	return int64(float64(mib) * (1 << 20) * defaultMemoryLimitRatio)
}

// Restart stops the operator and starts it again at these client rates; its log goes on in a new
// file (operator-2.log, ...) so that what the earlier process logged stays countable.
func (o *Ours) Restart(ctx context.Context, h *Harness, qps, burst string) error {
	o.Stop()
	o.QPS, o.Burst = qps, burst
	o.starts++
	return o.Start(ctx, h)
}

func (o *Ours) ClientRates() (qps, burst string) { return o.QPS, o.Burst }

func (o *Ours) Stop()                      { o.proc.Stop() }
func (o *Ours) Procs() []*Proc             { return []*Proc{o.proc} }
func (o *Ours) PromURLs() []string         { return []string{o.promURL} }
func (o *Ours) PprofURL() (string, string) { return o.pprofURL, o.bin }

// KEDA runs KEDA's operator and metrics adapter as built by hack/tools.sh keda, outside a cluster:
// kubeconfig and namespaces through the environment, loopback ports, no leader election, no
// certificate rotation (the bench writes the certificates of the adapter<->operator gRPC link and
// of the adapter's serving endpoint into one --cert-dir).
type KEDA struct {
	QPS, Burst string
	toolDir    string
	op, ad     *Proc
	promURLs   []string
}

func (k *KEDA) Name() string { return "KEDA " + kedaVersion }

func (k *KEDA) dir(ctx context.Context, h *Harness) (string, error) {
	if k.toolDir == "" {
		d, err := cluster.ToolDir(ctx, h.Out, "keda")
		if err != nil {
			return "", err
		}
		k.toolDir = d
	}
	return k.toolDir, nil
}

func (k *KEDA) CRDFiles() ([]string, error) {
	// All of KEDA's CRDs, its eventing kinds too: its operator watches CloudEventSources and exits
	// when their informers cannot sync.
	return filepath.Glob(filepath.Join(k.toolDir, "src", "config", "crd", "bases", "*.yaml"))
}

func (k *KEDA) Start(ctx context.Context, h *Harness) error {
	tools, err := k.dir(ctx, h)
	if err != nil {
		return err
	}
	dir := filepath.Join(h.Dir, "keda")
	certs := filepath.Join(dir, "certs")
	caPEM, err := servingCertFiles(h.Cluster, certs)
	if err != nil {
		return err
	}
	ports, err := cluster.FreePorts(5)
	if err != nil {
		return err
	}
	promPort, healthPort, grpcPort, adapterPort, adapterPromPort := ports[0], ports[1], ports[2], ports[3], ports[4]
	kubeconfig := h.Cluster.KubeconfigPath()
	env := []string{"KUBECONFIG=" + kubeconfig, "WATCH_NAMESPACE=", "POD_NAMESPACE=" + cluster.APIServiceNamespace,
		"KEDA_CLUSTER_OBJECT_NAMESPACE=" + cluster.APIServiceNamespace}
	k.op, err = startProc(dir, "keda-operator", filepath.Join(tools, "operator"), env,
		"--metrics-bind-address", "127.0.0.1:"+strconv.Itoa(promPort),
		"--health-probe-bind-address", "127.0.0.1:"+strconv.Itoa(healthPort),
		"--metrics-service-bind-address", "127.0.0.1:"+strconv.Itoa(grpcPort),
		"--leader-elect=false", "--enable-cert-rotation=false", "--cert-dir", certs,
		"--kube-api-qps", k.QPS, "--kube-api-burst", k.Burst,
		"--zap-log-level", "info",
	)
	if err != nil {
		return err
	}
	if err := waitHTTP200(ctx, k.op, fmt.Sprintf("http://127.0.0.1:%d/readyz", healthPort), 90*time.Second); err != nil {
		return err
	}
	k.ad, err = startProc(dir, "keda-adapter", filepath.Join(tools, "adapter"), env,
		"--secure-port", strconv.Itoa(adapterPort), "--bind-address", "127.0.0.1",
		"--cert-dir", certs, "--tls-cert-file", filepath.Join(certs, "tls.crt"), "--tls-private-key-file", filepath.Join(certs, "tls.key"),
		"--client-ca-file", filepath.Join(certs, "ca.crt"),
		"--lister-kubeconfig", kubeconfig, "--authentication-kubeconfig", kubeconfig, "--authorization-kubeconfig", kubeconfig,
		"--metrics-service-address", "127.0.0.1:"+strconv.Itoa(grpcPort),
		"--port", strconv.Itoa(adapterPromPort),
		"--kube-api-qps", k.QPS, "--kube-api-burst", k.Burst,
		"--zap-log-level", "info",
	)
	if err != nil {
		return err
	}
	k.promURLs = []string{fmt.Sprintf("http://127.0.0.1:%d/metrics", promPort), fmt.Sprintf("http://127.0.0.1:%d/metrics", adapterPromPort)}
	if err := waitHTTP200(ctx, k.ad, k.promURLs[1], 90*time.Second); err != nil {
		return err
	}
	if err := h.Cluster.RegisterAPIService(ctx, "external.metrics.k8s.io", "v1beta1", adapterPort, caPEM); err != nil {
		return fmt.Errorf("%w\nadapter log:\n%s", err, k.ad.tail())
	}
	return nil
}

func (k *KEDA) Stop() {
	k.ad.Stop()
	k.op.Stop()
}

func (k *KEDA) Procs() []*Proc     { return []*Proc{k.op, k.ad} }
func (k *KEDA) PromURLs() []string { return k.promURLs }
