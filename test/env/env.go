// Package env brings up what the end-to-end tests and `make demo` run against: the local cluster
// (test/cluster), the keda.sh CRDs from charts/keda/crds, the chart installed with helm, and the
// operator binary running on localhost as the chart's ServiceAccount with its external metrics
// APIService registered.
package env

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kedactl/kedactl/operator/app"
	"github.com/kedactl/kedactl/test/cluster"
)

// Options configures Start.
type Options struct {
	Cluster cluster.Options
	// Identity is whom the operator acts as: by default the chart's ServiceAccount.
	Identity Identity
	// OperatorArgs are extra operator flags.
	OperatorArgs []string
	// OperatorEnv are extra KEY=value entries of the operator's environment, on top of the
	// test's own (the endpoint overrides a vendor's client reads, such as
	// NEW_RELIC_NERDGRAPH_BASE_URL).
	OperatorEnv []string
	// Out receives progress lines; nil discards them.
	Out io.Writer
}

// Env is a running cluster with the operator.
type Env struct {
	Cluster *cluster.Cluster
	Client  client.Client
	Kube    kubernetes.Interface
	// replicas are the operator's processes; the first is the one every test talks to.
	replicas []*Replica
	// operatorBin and operatorArgs start a replica (its ports and log are added per replica).
	operatorBin  string
	operatorArgs []string
	// leaderElection is whether the operator runs with leader election (and so may have replicas).
	leaderElection bool
	// caPEM is the CA of a harness-signed serving certificate; nil when the operator manages its own.
	caPEM []byte
	// OperatorKubeconfig is the kubeconfig the operator runs with.
	OperatorKubeconfig string
	// OperatorLog is the operator's log file.
	OperatorLog string
	// PrometheusURL is the operator's Prometheus metrics endpoint.
	PrometheusURL string
	// FilePathAuthRoot is the operator's --filepath-auth-root-path: files ClusterTriggerAuthentications
	// read through spec.filePath go here.
	FilePathAuthRoot string
	out              io.Writer
	// operatorEnv is Options.OperatorEnv.
	operatorEnv []string
}

// RepoRoot returns the repository's root (the directory of the product's go.mod).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Start starts the cluster, installs the CRDs (and the chart, unless the operator runs as the
// cluster admin), builds and starts the operator and registers its
// external metrics APIService. On error everything started is stopped.
func Start(ctx context.Context, opts Options) (_ *Env, err error) {
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.Cluster.Out == nil {
		opts.Cluster.Out = opts.Out
	}
	c, err := cluster.Start(ctx, opts.Cluster)
	if err != nil {
		return nil, err
	}
	e := &Env{Cluster: c, out: opts.Out}
	defer func() {
		if err != nil {
			e.Stop()
		}
	}()
	scheme, err := app.NewScheme()
	if err != nil {
		return nil, err
	}
	if err := apiextensionsv1.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("failed to add apiextensions to the scheme: %w", err)
	}
	if e.Client, err = client.New(c.RestConfig(), client.Options{Scheme: scheme}); err != nil {
		return nil, fmt.Errorf("failed to create a client: %w", err)
	}
	if e.Kube, err = kubernetes.NewForConfig(c.RestConfig()); err != nil {
		return nil, fmt.Errorf("failed to create a clientset: %w", err)
	}
	if err := e.installCRDs(ctx); err != nil {
		return nil, err
	}
	kubeconfig := c.KubeconfigPath()
	args := opts.OperatorArgs
	if opts.Identity == AsChartServiceAccount {
		if err := e.installChart(ctx); err != nil {
			return nil, err
		}
		if kubeconfig, err = e.serviceAccountKubeconfig(ctx); err != nil {
			return nil, err
		}
		// As the chart runs it: leader election and ClusterTriggerAuthentication objects in the
		// release namespace, which is where the chart's Role allows them.
		args = append([]string{"--leader-elect=true", "--leader-election-namespace=" + ChartNamespace,
			"--cluster-object-namespace=" + ChartNamespace}, args...)
	}
	e.operatorEnv = opts.OperatorEnv
	e.leaderElection = opts.Identity == AsChartServiceAccount
	if err := e.startOperator(ctx, kubeconfig, opts.Identity == AsChartServiceAccount, args); err != nil {
		return nil, err
	}
	return e, nil
}

// Stop stops the operator, then the cluster.
func (e *Env) Stop() {
	for i := len(e.replicas) - 1; i >= 0; i-- {
		e.replicas[i].Stop()
	}
	if e.Cluster != nil {
		_ = e.Cluster.Stop()
	}
}

// installCRDs applies every CRD of charts/keda/crds and waits until they are established.
func (e *Env) installCRDs(ctx context.Context) error {
	files, err := filepath.Glob(filepath.Join(RepoRoot(), "charts", "keda", "crds", "*.yaml"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no CRDs found in charts/keda/crds (run make generate): %v", err)
	}
	for _, f := range files {
		objs, err := ReadObjects(f)
		if err != nil {
			return err
		}
		for _, obj := range objs {
			if err := e.Apply(ctx, obj); err != nil {
				return err
			}
			crd := &apiextensionsv1.CustomResourceDefinition{}
			err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
				if err := e.Client.Get(ctx, client.ObjectKey{Name: obj.GetName()}, crd); err != nil {
					return false, nil
				}
				for _, c := range crd.Status.Conditions {
					if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
						return true, nil
					}
				}
				return false, nil
			})
			if err != nil {
				return fmt.Errorf("CRD %s did not become established: %w", obj.GetName(), err)
			}
		}
	}
	return nil
}

// Apply creates or updates obj with server-side apply, as `kubectl apply --server-side` would.
func (e *Env) Apply(ctx context.Context, obj *unstructured.Unstructured) error {
	obj = obj.DeepCopy()
	obj.SetResourceVersion("")
	if err := e.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.FieldOwner("e2e"), client.ForceOwnership); err != nil {
		return fmt.Errorf("failed to apply %s %s: %w", obj.GetKind(), obj.GetName(), err)
	}
	return nil
}

// ApplyYAML applies every object of a multi-document YAML string in namespace ns (when the
// object has none).
func (e *Env) ApplyYAML(ctx context.Context, ns, doc string) error {
	objs, err := DecodeObjects([]byte(doc))
	if err != nil {
		return err
	}
	for _, obj := range objs {
		if obj.GetNamespace() == "" && ns != "" {
			obj.SetNamespace(ns)
		}
		if err := e.Apply(ctx, obj); err != nil {
			return err
		}
	}
	return nil
}

// ReadObjects reads every object of a YAML file.
func ReadObjects(path string) ([]*unstructured.Unstructured, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", path, err)
	}
	objs, err := DecodeObjects(data)
	if err != nil {
		return nil, fmt.Errorf("failed to decode %s: %w", path, err)
	}
	return objs, nil
}

// DecodeObjects decodes a multi-document YAML stream.
func DecodeObjects(data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		obj := &unstructured.Unstructured{}
		if err := dec.Decode(&obj.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("failed to decode YAML: %w", err)
		}
		if len(obj.Object) > 0 {
			out = append(out, obj)
		}
	}
}

// startOperator builds cmd/operator, runs it against the cluster on free loopback ports and
// registers its external metrics server as v1beta1.external.metrics.k8s.io.
func (e *Env) startOperator(ctx context.Context, kubeconfig string, selfManagedCerts bool, extraArgs []string) error {
	e.OperatorKubeconfig = kubeconfig
	dir := e.Cluster.Dir()
	tlsArgs, caPEM, err := e.servingCertArgs(selfManagedCerts)
	if err != nil {
		return err
	}
	e.caPEM = caPEM
	e.operatorBin = filepath.Join(dir, "bin", "keda-operator")
	fmt.Fprintln(e.out, ">> building the operator")
	build := exec.CommandContext(ctx, "go", "build", "-o", e.operatorBin, "./cmd/operator")
	build.Dir = RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("failed to build the operator: %w\n%s", err, out)
	}
	e.FilePathAuthRoot = filepath.Join(dir, "trigger-auth-files")
	if err := os.MkdirAll(e.FilePathAuthRoot, 0o700); err != nil {
		return fmt.Errorf("failed to create the filePath root: %w", err)
	}
	args := append([]string{
		"--kubeconfig", kubeconfig,
		"--filepath-auth-root-path", e.FilePathAuthRoot,
		"--metrics-server-bind-address", "127.0.0.1",
		"--webhook-bind-address", "127.0.0.1",
		"--zap-log-level", "debug",
		"--auth-resync-period", "3s",
		// The suite runs hundreds of ScaledObjects polled every second on one operator: KEDA's
		// default client rate (20/s) would throttle it, not a user's cluster.
		"--kube-api-qps", "200",
		"--kube-api-burst", "400",
	}, tlsArgs...)
	if e.leaderElection {
		// Replicas reach each other on loopback, each at its own port.
		args = append(args, "--peer-bind-address", "127.0.0.1", "--peer-advertise-address", "127.0.0.1")
	}
	e.operatorArgs = append(args, extraArgs...)
	r, err := e.newReplica(0)
	if err != nil {
		return err
	}
	if err := e.startReplica(ctx, r); err != nil {
		return err
	}
	e.replicas = []*Replica{r}
	e.PrometheusURL, e.OperatorLog = r.PrometheusURL, r.Log
	if err := e.registerWebhook(ctx, r.webhookPort, caPEM); err != nil {
		return err
	}
	if err := e.Cluster.RegisterAPIService(ctx, "external.metrics.k8s.io", "v1beta1", r.MetricsPort, caPEM); err != nil {
		return fmt.Errorf("failed to register the external metrics APIService: %w\noperator log:\n%s", err, e.TailOperatorLog(30))
	}
	// The same server serves the operator's history API, as the chart's APIService routes it.
	if err := e.Cluster.RegisterAPIService(ctx, historyGroup, historyVersion, r.MetricsPort, caPEM); err != nil {
		return fmt.Errorf("failed to register the history APIService: %w\noperator log:\n%s", err, e.TailOperatorLog(30))
	}
	return nil
}

// The operator's history API (api/history/v1alpha1), registered beside external metrics.
const (
	historyGroup   = "history.kedactl.dev"
	historyVersion = "v1alpha1"
)

// servingCertArgs returns the operator's TLS flags and, when the harness signs the certificate, the
// CA to register. A self-managed certificate (the chart's default) is made by the operator, kept in
// a Secret of ChartNamespace and injected into the APIService and webhook configuration by the
// operator itself; the names are those the apiserver dials on loopback.
func (e *Env) servingCertArgs(selfManaged bool) (args []string, caPEM []byte, err error) {
	apiServiceHost := cluster.APIServiceHost("external.metrics.k8s.io", "v1beta1")
	historyHost := cluster.APIServiceHost(historyGroup, historyVersion)
	dir := e.Cluster.Dir()
	if selfManaged {
		return []string{
			"--cert-dir", filepath.Join(dir, "operator-certs"),
			"--cert-secret-namespace", ChartNamespace,
			"--cert-dns-names", "localhost," + apiServiceHost + "," + historyHost,
			"--cert-ip-addresses", "127.0.0.1",
			"--cert-check-interval", "1s",
		}, nil, nil
	}
	certPEM, keyPEM, caPEM, err := e.Cluster.ServingCert("localhost", "127.0.0.1", apiServiceHost, historyHost)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to make the metrics server's certificate: %w", err)
	}
	certFile, keyFile := filepath.Join(dir, "operator.crt"), filepath.Join(dir, "operator.key")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		return nil, nil, fmt.Errorf("failed to write %s: %w", certFile, err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return nil, nil, fmt.Errorf("failed to write %s: %w", keyFile, err)
	}
	return []string{"--tls-cert-file", certFile, "--tls-private-key-file", keyFile, "--cert-webhook-config-name", "", "--cert-apiservice-name", ""}, caPEM, nil
}

// TailOperatorLog returns the last n lines of the operator's log.
func (e *Env) TailOperatorLog(n int) string {
	f, err := os.Open(e.OperatorLog)
	if err != nil {
		return ""
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	var buf bytes.Buffer
	for _, l := range lines {
		buf.WriteString(l)
		buf.WriteByte('\n')
	}
	return buf.String()
}

func waitTLS(ctx context.Context, port int) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // only probing that the port serves TLS
		if err != nil {
			return false, nil
		}
		conn.Close()
		return true, nil
	})
}
