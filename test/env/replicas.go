package env

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kedactl/kedactl/test/cluster"
)

// Replica is one operator process. The ports stay the same across a restart, so that what points
// at them (the webhook configuration, a test's Prometheus URL) keeps working.
type Replica struct {
	// Index is the replica's place in Env.Replicas; 0 is the operator every test talks to.
	Index int
	// ID is the --replica-id it runs with: its leader and membership Leases' holder starts with it.
	ID            string
	MetricsPort   int
	HealthPort    int
	PeerPort      int
	webhookPort   int
	PrometheusURL string
	Log           string
	certDir       string
	// kubeconfig replaces the operator's kubeconfig for this replica (one behind a Cut).
	kubeconfig string
	cmd        *exec.Cmd
	exited     chan struct{}
}

// Replicas returns the operator's processes; the first is the one started with the environment.
func (e *Env) Replicas() []*Replica { return append([]*Replica(nil), e.replicas...) }

func (e *Env) newReplica(i int) (*Replica, error) {
	ports, err := cluster.FreePorts(5)
	if err != nil {
		return nil, err
	}
	r := &Replica{Index: i, ID: fmt.Sprintf("e2e-operator-%d", i), MetricsPort: ports[0], HealthPort: ports[1], webhookPort: ports[3], PeerPort: ports[4],
		PrometheusURL: fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[2])}
	r.Log = filepath.Join(e.Cluster.Dir(), "logs", "operator.log")
	if i > 0 {
		r.Log = filepath.Join(e.Cluster.Dir(), "logs", fmt.Sprintf("operator-%d.log", i))
		// Each replica writes the self-managed certificate's files to a directory of its own.
		r.certDir = filepath.Join(e.Cluster.Dir(), fmt.Sprintf("operator-certs-%d", i))
	}
	return r, nil
}

func (e *Env) replicaArgs(r *Replica) []string {
	promPort := r.PrometheusURL[len("http://127.0.0.1:") : len(r.PrometheusURL)-len("/metrics")]
	args := append([]string{}, e.operatorArgs...)
	if r.kubeconfig != "" {
		for i := 0; i+1 < len(args); i++ {
			if args[i] == "--kubeconfig" {
				args[i+1] = r.kubeconfig
			}
		}
	}
	args = append(args,
		"--secure-port", strconv.Itoa(r.MetricsPort),
		"--webhook-port", strconv.Itoa(r.webhookPort),
		"--health-probe-bind-address", "127.0.0.1:"+strconv.Itoa(r.HealthPort),
		"--metrics-bind-address", "127.0.0.1:"+promPort,
	)
	if e.leaderElection {
		args = append(args, "--peer-port", strconv.Itoa(r.PeerPort), "--replica-id", r.ID)
	}
	if r.certDir != "" {
		args = append(args, "--cert-dir", r.certDir)
	}
	return args
}

// startReplica starts r's process and waits until it is ready and serves TLS.
func (e *Env) startReplica(ctx context.Context, r *Replica) error {
	if err := os.MkdirAll(filepath.Dir(r.Log), 0o755); err != nil {
		return fmt.Errorf("failed to create the log dir: %w", err)
	}
	logFile, err := os.OpenFile(r.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("failed to create %s: %w", r.Log, err)
	}
	cmd := exec.Command(e.operatorBin, e.replicaArgs(r)...)
	if len(e.operatorEnv) > 0 {
		cmd.Env = append(os.Environ(), e.operatorEnv...)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("failed to start the operator: %w", err)
	}
	r.cmd = cmd
	exited := make(chan struct{})
	r.exited = exited
	go func() { _ = cmd.Wait(); logFile.Close(); close(exited) }()
	fmt.Fprintf(e.out, ">> operator replica %d started (pid %d), log %s\n", r.Index, cmd.Process.Pid, r.Log)
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		select {
		case <-exited:
			return false, fmt.Errorf("the operator exited: %s", tail(r.Log, 20))
		default:
		}
		return r.Ready(), nil
	})
	if err != nil {
		return fmt.Errorf("operator replica %d did not become ready: %w\n%s", r.Index, err, tail(r.Log, 20))
	}
	return waitTLS(ctx, r.MetricsPort)
}

// Ready is whether the replica's /readyz answers 200.
func (r *Replica) Ready() bool {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", r.HealthPort))
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Running is whether the process has not exited.
func (r *Replica) Running() bool {
	if r.exited == nil {
		return false
	}
	select {
	case <-r.exited:
		return false
	default:
		return true
	}
}

// Kill ends the replica with SIGKILL, as a node failure would: it releases nothing.
func (r *Replica) Kill() {
	if r.Running() {
		_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
		<-r.exited
	}
}

// Stop ends the replica with SIGTERM (SIGKILL after 5 s).
func (r *Replica) Stop() {
	if !r.Running() {
		return
	}
	_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(5 * time.Second):
		r.Kill()
	}
}

// AddReplicas starts n more operator replicas beside the running ones: they join its leader
// election and membership, take their share of the objects and forward the HPA's requests for the
// others to their owners. Only an operator with leader election (the chart's identity) may have replicas.
func (e *Env) AddReplicas(ctx context.Context, n int) ([]*Replica, error) {
	if !e.leaderElection {
		return nil, fmt.Errorf("replicas need leader election: start the environment with the chart's ServiceAccount identity")
	}
	var added []*Replica
	for i := 0; i < n; i++ {
		r, err := e.newReplica(len(e.replicas))
		if err != nil {
			return added, err
		}
		if err := e.startReplica(ctx, r); err != nil {
			return added, err
		}
		e.replicas = append(e.replicas, r)
		added = append(added, r)
	}
	return added, nil
}

// RemoveReplicas stops every replica but the first and forgets them.
func (e *Env) RemoveReplicas() {
	for i := len(e.replicas) - 1; i > 0; i-- {
		e.replicas[i].Stop()
	}
	e.replicas = e.replicas[:1]
}

// RestartReplica starts a replica that was stopped or killed again, on the same ports.
func (e *Env) RestartReplica(ctx context.Context, r *Replica) error {
	if r.Running() {
		return fmt.Errorf("operator replica %d is still running", r.Index)
	}
	return e.startReplica(ctx, r)
}

// RegisterExternalMetrics points the external metrics APIService at port (a front over several
// replicas, say, or replica 0's MetricsPort again).
func (e *Env) RegisterExternalMetrics(ctx context.Context, port int) error {
	return e.Cluster.RegisterAPIService(ctx, "external.metrics.k8s.io", "v1beta1", port, e.caPEM)
}

// tail returns the last n lines of a log file.
func tail(path string, n int) string {
	e := &Env{OperatorLog: path}
	return e.TailOperatorLog(n)
}
