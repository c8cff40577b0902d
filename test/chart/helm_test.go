// Package chart tests the Helm chart in charts/keda with the pinned helm binary (hack/tools.sh helm):
// lint, golden renders, the values schema, RBAC minimality, and (outside -short) an install, upgrade
// and uninstall on the local cluster.
package chart

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current chart")

// release and namespace are what every render and install of these tests uses.
const (
	release   = "keda"
	namespace = "keda"
)

// helmHome isolates helm's cache, config and data from the user's.
var helmHome string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "kedactl-chart-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "chart: failed to create a temp dir:", err)
		os.Exit(1)
	}
	helmHome = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// repoRoot is the repository's root (where go.mod is).
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

func chartDir() string { return filepath.Join(repoRoot(), "charts", "keda") }

var (
	helmOnce sync.Once
	helmPath string
	helmErr  error
)

// helmBinary builds (once per machine, cached outside the repository) and returns the pinned helm.
func helmBinary(t testing.TB) string {
	t.Helper()
	helmOnce.Do(func() {
		tools := filepath.Join(repoRoot(), "hack", "tools.sh")
		build := exec.Command(tools, "helm")
		build.Dir = repoRoot()
		var out bytes.Buffer
		build.Stdout, build.Stderr = &out, &out
		if err := build.Run(); err != nil {
			helmErr = fmt.Errorf("hack/tools.sh helm failed: %w\n%s", err, out.String())
			return
		}
		dir, err := exec.Command(tools, "dir", "helm").Output()
		if err != nil {
			helmErr = fmt.Errorf("hack/tools.sh dir helm failed: %w", err)
			return
		}
		helmPath = filepath.Join(strings.TrimSpace(string(dir)), "helm")
		if _, err := os.Stat(helmPath); err != nil {
			helmErr = fmt.Errorf("helm is not where hack/tools.sh put it: %w", err)
		}
	})
	if helmErr != nil {
		t.Fatal(helmErr)
	}
	return helmPath
}

// runHelm runs helm and returns its stdout; the error carries stderr. Any proxy points at a closed
// loopback port so that helm can reach nothing but the local apiserver.
func runHelm(t testing.TB, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helmBinary(t), args...)
	cmd.Dir = repoRoot()
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(helmHome, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(helmHome, "config"),
		"HELM_DATA_HOME="+filepath.Join(helmHome, "data"),
		"HTTPS_PROXY=http://127.0.0.1:9", "HTTP_PROXY=http://127.0.0.1:9",
		"https_proxy=http://127.0.0.1:9", "http_proxy=http://127.0.0.1:9",
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost",
		"KUBECONFIG="+filepath.Join(helmHome, "no-kubeconfig"),
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// render is `helm template keda charts/keda -n keda ARGS...`.
func render(t testing.TB, args ...string) string {
	t.Helper()
	out, err := runHelm(t, append([]string{"template", release, chartDir(), "-n", namespace}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// renderObjects renders and decodes every object.
func renderObjects(t testing.TB, args ...string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := decodeObjects(render(t, args...))
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func decodeObjects(manifest string) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(manifest), 4096)
	var out []*unstructured.Unstructured
	for {
		obj := &unstructured.Unstructured{}
		if err := dec.Decode(&obj.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("failed to decode the rendered manifest: %w", err)
		}
		if len(obj.Object) > 0 {
			out = append(out, obj)
		}
	}
}

// testdata returns the path of a file in testdata.
func testdata(name string) string {
	return filepath.Join(repoRoot(), "test", "chart", "testdata", name)
}

// valueSets are the configurations the render tests walk through; keda-values is a values file
// written for KEDA's chart.
var valueSets = []struct {
	name string
	args []string
}{
	{"default", nil},
	{"keda-values", []string{"-f", testdata("keda-values.yaml")}},
	{"watch-namespace", []string{"--set", "watchNamespace=apps", "--set", "rbac.scaledRefKinds[0].apiGroup=argoproj.io", "--set", "rbac.scaledRefKinds[0].kind=Rollout"}},
	{"restrict-secret", []string{"--set", "permissions.operator.restrict.secret=true"}},
	{"cert-manager", []string{"--set", "certificates.certManager.enabled=true", "--set", "webhooks.enabled=true"}},
}
