package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWithJobOutcomes: the pinned kwok's stages take the job outcome label, so a change of kwok's
// stage file is caught here rather than as Jobs that never finish.
func TestWithJobOutcomes(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	matches, _ := filepath.Glob(filepath.Join(home, ".cache", "kedactl", "kwok-*", "stages.yaml"))
	if len(matches) == 0 {
		if testing.Short() {
			t.Skip("kwok is not built (hack/tools.sh cluster); make test builds it")
		}
		t.Fatal("kwok's stages are not in the tools cache: run hack/tools.sh cluster")
	}
	stages, err := os.ReadFile(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	out, err := withJobOutcomes(stages)
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, want := range []string{"key: '.metadata.labels." + JobOutcomeLabel + "'\n      operator: 'DoesNotExist'", "name: pod-fail", "phase: Failed"} {
		if !strings.Contains(text, want) {
			t.Errorf("the stages lack %q", want)
		}
	}
	if _, err := withJobOutcomes([]byte("kind: Stage\n")); err == nil {
		t.Error("stages without kwok's pod-complete selector were accepted")
	}
}
