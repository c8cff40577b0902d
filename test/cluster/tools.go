package cluster

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ToolDir returns the cache directory of a tool that hack/tools.sh builds (cluster, kwok, helm,
// controller-gen), building it first when it is missing. Concurrent callers (test packages run in
// parallel) wait for one build under a file lock; build output goes to out.
func ToolDir(ctx context.Context, out io.Writer, tool string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	tools := filepath.Join(root, "hack", "tools.sh")
	o, err := exec.CommandContext(ctx, "bash", tools, "dir", tool).Output()
	if err != nil {
		return "", fmt.Errorf("failed to find the %s dir with %s dir %s: %w", tool, tools, tool, err)
	}
	dir := strings.TrimSpace(string(o))
	complete := func() bool {
		_, err := os.Stat(filepath.Join(dir, ".complete"))
		return err == nil
	}
	if complete() {
		return dir, nil
	}
	unlock, err := lockFile(ctx, filepath.Join(filepath.Dir(dir), "."+tool+"-build.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if complete() {
		return dir, nil
	}
	fmt.Fprintf(out, ">> building %s (%s %s)\n", tool, tools, tool)
	build := exec.CommandContext(ctx, "bash", tools, tool)
	build.Dir = root
	build.Stdout, build.Stderr = out, out
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("failed to build %s with %s %s: %w", tool, tools, tool, err)
	}
	return dir, nil
}

// ModuleRoot is the repository's root: the directory of the kedactl go.mod and hack/tools.sh.
func ModuleRoot() (string, error) { return moduleRoot() }
