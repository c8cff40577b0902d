package steps

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
)

// Tool is one thing hack/tools.sh provides to the demo.
type Tool struct {
	// Name is hack/tools.sh's argument.
	Name string
	// Ready is the progress line once it is there.
	Ready string
}

// DemoTools are the tools the demo uses and nothing else (Vault, metrics-server and the scalers'
// servers are the tests'). make demo starts hack/tools.sh demo in the background before building
// the demo, and the demo then asks for each here in this order: kwok comes before the control plane
// because hack/tools.sh cluster builds the control plane first, so that the demo builds kwok
// meanwhile instead of waiting for it.
func DemoTools() []Tool {
	return []Tool{
		{"redis", "redis-server installed"},
		{"kwok", "kwok built"},
		{"helm", "helm built"},
		{"cluster", "control plane built (etcd, kube-apiserver, kube-controller-manager, kube-scheduler)"},
	}
}

// EnsureTools runs hack/tools.sh for each tool, which builds what is missing or waits for the
// background build of make demo (hack/tools.sh locks each tool), with its output in log.
func EnsureTools(ctx context.Context, p *Progress, repoRoot string, tools []Tool, log io.Writer) error {
	script := filepath.Join(repoRoot, "hack", "tools.sh")
	for _, t := range tools {
		cmd := exec.CommandContext(ctx, "bash", script, t.Name)
		cmd.Dir = repoRoot
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("failed to provide %s with hack/tools.sh %s: %w", t.Name, t.Name, err)
		}
		p.Step("%s", t.Ready)
	}
	return nil
}
