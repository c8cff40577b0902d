// Package helm runs the pinned helm (built by hack/tools.sh into the tools cache) for tests and the
// local environment, isolated from the user's helm configuration and from the network.
package helm

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/kedactl/kedactl/test/cluster"
)

// Helm is the pinned helm binary with a private cache, config and data home.
type Helm struct {
	bin  string
	home string
	root string
}

// New builds helm when the tools cache lacks it and makes its private home. Close removes the home.
func New(ctx context.Context, out io.Writer) (*Helm, error) {
	root, err := cluster.ModuleRoot()
	if err != nil {
		return nil, err
	}
	dir, err := cluster.ToolDir(ctx, out, "helm")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "helm")
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("helm is not where hack/tools.sh put it: %w", err)
	}
	home, err := os.MkdirTemp("", "kedactl-helm-")
	if err != nil {
		return nil, fmt.Errorf("failed to create helm's home: %w", err)
	}
	return &Helm{bin: bin, home: home, root: root}, nil
}

// Close removes helm's private home.
func (h *Helm) Close() error { return os.RemoveAll(h.home) }

// Run runs helm in the repository root and returns its stdout; the error carries stderr. Every proxy
// points at a closed loopback port so that helm can reach nothing but a local apiserver, and
// KUBECONFIG points nowhere: callers pass --kubeconfig.
func (h *Helm) Run(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, h.bin, args...)
	cmd.Dir = h.root
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(h.home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(h.home, "config"),
		"HELM_DATA_HOME="+filepath.Join(h.home, "data"),
		"HTTPS_PROXY=http://127.0.0.1:9", "HTTP_PROXY=http://127.0.0.1:9",
		"https_proxy=http://127.0.0.1:9", "http_proxy=http://127.0.0.1:9",
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost",
		"KUBECONFIG="+filepath.Join(h.home, "no-kubeconfig"),
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// Chart is the path of the repository's chart, charts/keda.
func (h *Helm) Chart() string { return filepath.Join(h.root, "charts", "keda") }
