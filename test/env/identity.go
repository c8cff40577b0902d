package env

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kedactl/kedactl/test/helm"
)

// Identity is whom the operator acts as.
type Identity int

const (
	// AsChartServiceAccount installs charts/keda with helm (its ServiceAccount, RBAC and a Deployment
	// whose pods kwok fakes) and runs the operator with a TokenRequest token of the chart's
	// ServiceAccount: the operator can do only what the chart's RBAC grants, so every test that
	// passes proves that RBAC sufficient.
	AsChartServiceAccount Identity = iota
	// AsClusterAdmin runs the operator with the harness's admin client certificate.
	AsClusterAdmin
)

// The release the environment installs; the chart's ServiceAccount, leader election lease and
// ClusterTriggerAuthentication objects live in ChartNamespace.
const (
	ChartRelease        = "keda"
	ChartNamespace      = "keda"
	ChartServiceAccount = "keda-operator"
)

// installChart installs charts/keda without CRDs (installCRDs applied them already). The chart's
// APIService and webhook configuration point at its Service, which nothing serves here: once the
// operator runs, startOperator points them at it on loopback.
func (e *Env) installChart(ctx context.Context) error {
	h, err := helm.New(ctx, e.out)
	if err != nil {
		return err
	}
	defer h.Close()
	fmt.Fprintln(e.out, ">> helm install keda charts/keda")
	_, err = h.Run(ctx, "install", ChartRelease, h.Chart(), "--namespace", ChartNamespace, "--create-namespace",
		"--skip-crds", "--kubeconfig", e.Cluster.KubeconfigPath())
	return err
}

// serviceAccountKubeconfig writes a kubeconfig that authenticates as the chart's ServiceAccount with
// a token from the TokenRequest API, and returns its path.
func (e *Env) serviceAccountKubeconfig(ctx context.Context) (string, error) {
	expiry := int64(24 * 60 * 60)
	tr, err := e.Kube.CoreV1().ServiceAccounts(ChartNamespace).CreateToken(ctx, ChartServiceAccount,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("failed to request a token for ServiceAccount %s/%s: %w", ChartNamespace, ChartServiceAccount, err)
	}
	admin := e.Cluster.RestConfig()
	ca := admin.CAData
	if len(ca) == 0 && admin.CAFile != "" {
		if ca, err = os.ReadFile(admin.CAFile); err != nil {
			return "", fmt.Errorf("failed to read the cluster CA: %w", err)
		}
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["local"] = &clientcmdapi.Cluster{Server: admin.Host, CertificateAuthorityData: ca}
	cfg.AuthInfos[ChartServiceAccount] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	cfg.Contexts["operator"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: ChartServiceAccount, Namespace: ChartNamespace}
	cfg.CurrentContext = "operator"
	path := filepath.Join(e.Cluster.Dir(), "operator.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return "", fmt.Errorf("failed to write the operator's kubeconfig: %w", err)
	}
	return path, nil
}

// ForbiddenLogLines returns the operator log lines where the apiserver refused a request: with the
// chart's ServiceAccount, each is an RBAC rule the chart lacks.
func (e *Env) ForbiddenLogLines() ([]string, error) {
	data, err := os.ReadFile(e.OperatorLog)
	if err != nil {
		return nil, fmt.Errorf("failed to read the operator log: %w", err)
	}
	var out []string
	for line := range strings.Lines(string(data)) {
		// A namespace being deleted also refuses writes as "forbidden"; that is not RBAC.
		if strings.Contains(line, "is forbidden") && !strings.Contains(line, "because it is being terminated") {
			out = append(out, strings.TrimRight(line, "\n"))
		}
	}
	return out, nil
}
