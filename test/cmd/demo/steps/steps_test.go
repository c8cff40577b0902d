package steps

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestStamp(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "[ 0:00]"},
		{-time.Second, "[ 0:00]"},
		{42*time.Second + 900*time.Millisecond, "[ 0:42]"},
		{12*time.Minute + 5*time.Second, "[12:05]"},
		{100 * time.Minute, "[100:00]"},
	} {
		if got := Stamp(tc.d); got != tc.want {
			t.Errorf("Stamp(%s) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestProgressStep(t *testing.T) {
	start := time.Unix(1000, 0)
	var out bytes.Buffer
	p := &Progress{Out: &out, Start: start, Now: func() time.Time { return start.Add(83 * time.Second) }}
	p.Step("control plane %s", "ready")
	if got, want := out.String(), "[ 1:23] control plane ready\n"; got != want {
		t.Errorf("Step wrote %q, want %q", got, want)
	}
}

func TestParseStart(t *testing.T) {
	fallback := time.Unix(5, 0)
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"1700000000123456789\n", time.Unix(0, 1700000000123456789)},
		{"", fallback},
		{"%N", fallback},
		{"-4", fallback},
	} {
		if got := ParseStart(tc.in, fallback); !got.Equal(tc.want) {
			t.Errorf("ParseStart(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestNext(t *testing.T) {
	for _, tc := range []struct {
		name      string
		phase     Phase
		inPhase   time.Duration
		replicas  int32
		want      Phase
		wantDoing Action
	}{
		{"a quiet start", Idle, 2 * time.Second, 0, Idle, NoAction},
		{"then one item", Idle, 5 * time.Second, 0, OneItem, PushOne},
		{"one item waits for activation", OneItem, 10 * time.Second, 0, OneItem, NoAction},
		{"one item is seen for a moment at 1", OneItem, time.Second, 1, OneItem, NoAction},
		{"then the backlog", OneItem, 3 * time.Second, 1, Backlog, PushBacklog},
		{"backlog until max", Backlog, 10 * time.Second, 4, Backlog, NoAction},
		{"drain at max", Backlog, 10 * time.Second, 6, Drained, Drain},
		{"drain anyway after a minute", Backlog, time.Minute, 3, Drained, Drain},
		{"drained waits for zero", Drained, time.Minute, 2, Drained, NoAction},
		{"done at zero", Drained, time.Second, 0, Done, NoAction},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, doing := Next(tc.phase, tc.inPhase, tc.replicas, 6)
			if got != tc.want || doing != tc.wantDoing {
				t.Errorf("Next(%s, %s, %d) = %s, %d; want %s, %d", tc.phase, tc.inPhase, tc.replicas, got, doing, tc.want, tc.wantDoing)
			}
		})
	}
}

func TestNewKubectl(t *testing.T) {
	env := []string{"HOME=/root", "PATH=/usr/bin", "KUBECONFIG=/elsewhere"}
	found := func(string) (string, error) { return "/usr/bin/kubectl", nil }
	missing := func(string) (string, error) { return "", os.ErrNotExist }

	k := NewKubectl("/repo/bin", "/tmp/kc", env, found, nil)
	if !slices.Equal(k.Command, []string{"kubectl", "keda"}) || k.Shown("top") != "kubectl keda top" {
		t.Errorf("with kubectl on PATH: command %q, shown %q", k.Command, k.Shown("top"))
	}
	if want := []string{"HOME=/root", "PATH=/repo/bin:/usr/bin", "KUBECONFIG=/tmp/kc"}; !slices.Equal(k.Env, want) {
		t.Errorf("env = %q, want %q", k.Env, want)
	}
	k = NewKubectl("/repo/bin", "/tmp/kc", env, missing, nil)
	if !slices.Equal(k.Command, []string{"/repo/bin/kubectl-keda"}) || k.Shown("top", "-n", "demo") != "kubectl-keda top -n demo" {
		t.Errorf("without kubectl: command %q, shown %q", k.Command, k.Shown("top", "-n", "demo"))
	}
}

// TestDemoToolsMatchToolsSh keeps make demo's two halves in step: the background build
// (hack/tools.sh demo) starts what the demo then waits for, and neither reaches for the tests' tools.
func TestDemoToolsMatchToolsSh(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "hack", "tools.sh"))
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?s)\n  demo\)\n(.*?)\n    ;;`).FindSubmatch(script)
	if block == nil {
		t.Fatal("hack/tools.sh has no demo) group")
	}
	var started []string
	for _, m := range regexp.MustCompile(`"\$0" ([a-z-]+)`).FindAllSubmatch(block[1], -1) {
		started = append(started, string(m[1]))
	}
	// hack/tools.sh cluster builds kwok too.
	var waited []string
	for _, tool := range DemoTools() {
		if tool.Name != "kwok" {
			waited = append(waited, tool.Name)
		}
	}
	slices.Sort(started)
	slices.Sort(waited)
	if !slices.Equal(started, waited) {
		t.Errorf("hack/tools.sh demo starts %q; the demo waits for %q", started, waited)
	}
	for _, tool := range DemoTools() {
		if !strings.Contains(string(script), "\n  "+tool.Name+")") {
			t.Errorf("hack/tools.sh has no %s) case", tool.Name)
		}
		if slices.Contains([]string{"vault", "metrics-server", "keda", "all"}, tool.Name) {
			t.Errorf("the demo waits for %s, which only the tests or the bench use", tool.Name)
		}
	}
}
