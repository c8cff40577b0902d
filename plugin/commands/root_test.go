package commands

import (
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// TestUsageSaysKubectlKeda: kubectl runs the binary kubectl-keda as `kubectl keda`, and the help
// says so.
func TestUsageSaysKubectlKeda(t *testing.T) {
	streams, _, out, _ := genericiooptions.NewTestIOStreams()
	root := NewRootCommand(streams, nil)
	root.SetArgs([]string{"top", "--help"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "\n  kubectl keda top [NAME] [flags]\n") {
		t.Errorf("top --help:\n%s", out)
	}
	for _, c := range root.Commands() {
		if line := c.UseLine(); !strings.HasPrefix(line, "kubectl keda ") {
			t.Errorf("usage line %q does not start with kubectl keda", line)
		}
	}
}
