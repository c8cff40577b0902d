package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/test/env"
)

// TestTUIInATerminal runs the real kubectl-keda binary in tmux against the local cluster, presses
// keys with send-keys and reads the screen with capture-pane.
func TestTUIInATerminal(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		out, ierr := exec.Command("bash", filepath.Join(env.RepoRoot(), "hack", "tools.sh"), "tmux").CombinedOutput()
		if tmux, err = exec.LookPath("tmux"); err != nil {
			t.Fatalf("tmux is not installed and hack/tools.sh tmux failed: %v %s", ierr, out)
		}
	}
	ns := s.newNamespace(t, "term")
	s.apply(t, ns, deployment("terminal-app", 0, map[string]string{"REDIS_PASSWORD": redisPassword}))
	s.apply(t, ns, s.redisScaledObject("terminal-app", "term-"+ns, ""))
	s.waitReady(t, ns, "terminal-app", "True")

	bin := filepath.Join(t.TempDir(), "kubectl-keda")
	build := exec.Command("go", "build", "-o", bin, "./cmd/kubectl-keda")
	build.Dir = env.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	socket := filepath.Join(t.TempDir(), "tmux.sock")
	session := "kedatui"
	run := func(args ...string) string {
		out, err := exec.Command(tmux, append([]string{"-S", socket}, args...)...).CombinedOutput()
		if err != nil && args[0] != "kill-server" {
			t.Fatalf("tmux %v: %v %s", args, err, out)
		}
		return string(out)
	}
	cmdline := fmt.Sprintf("NO_COLOR=1 %s --kubeconfig %s -n %s", bin, s.env.Cluster.KubeconfigPath(), ns)
	run("new-session", "-d", "-s", session, "-x", "100", "-y", "30", cmdline)
	t.Cleanup(func() { run("kill-server") })
	screen := func() string { return run("capture-pane", "-p", "-t", session) }
	waitScreen := func(what string, want ...string) string {
		t.Helper()
		var last string
		eventually(t, 30*time.Second, what, func(context.Context) (bool, string) {
			last = screen()
			for _, w := range want {
				if !strings.Contains(last, w) {
					return false, last
				}
			}
			return true, ""
		})
		return last
	}
	list := waitScreen("the list", "namespace: "+ns, "terminal-app", "TRIGGERS", "enter details")
	t.Logf("list screen:\n%s", list)
	run("send-keys", "-t", session, "Enter")
	detail := waitScreen("the detail view", "ScaledObject "+ns+"/terminal-app", "Diagnosis", "TRIGGER")
	t.Logf("detail screen:\n%s", detail)
	run("send-keys", "-t", session, "Escape")
	waitScreen("back to the list", "TRIGGERS (value/target)")
	run("send-keys", "-t", session, "?")
	waitScreen("the help", "namespace", "confirm")
	run("send-keys", "-t", session, "q")
	eventually(t, 10*time.Second, "the TUI to quit", func(context.Context) (bool, string) {
		err := exec.Command(tmux, "-S", socket, "has-session", "-t", session).Run()
		return err != nil, "session still running"
	})
	_ = os.Remove(socket)
}
