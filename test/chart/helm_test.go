// Package chart tests the Helm chart in charts/keda with the pinned helm binary (hack/tools.sh helm):
// lint, golden renders, the values schema, RBAC minimality, and (outside -short) an install, upgrade
// and uninstall on the local cluster.
package chart

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kedactl/kedactl/test/env"
	"github.com/kedactl/kedactl/test/helm"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current chart")

// release and namespace are what every render and install of these tests uses.
const (
	release   = "keda"
	namespace = "keda"
)

// tool is the pinned helm every test of this package runs; TestMain builds it when missing.
var tool *helm.Helm

func TestMain(m *testing.M) {
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	h, err := helm.New(ctx, os.Stderr)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "chart:", err)
		os.Exit(1)
	}
	tool = h
	code := m.Run()
	_ = h.Close()
	os.Exit(code)
}

// repoRoot is the repository's root (where go.mod is).
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

func chartDir() string { return tool.Chart() }

// runHelm runs helm and returns its stdout; the error carries stderr.
func runHelm(t testing.TB, args ...string) (string, error) {
	t.Helper()
	return tool.Run(context.Background(), args...)
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
	return env.DecodeObjects([]byte(manifest))
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
	{"replicas-3", []string{"--set", "operator.replicaCount=3"}},
}
