package commands

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestCheckGolden(t *testing.T) {
	var out, errOut bytes.Buffer
	root := NewRootCommand(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, nil)
	root.SetArgs([]string{"check", "-f", "testdata/check-input.yaml"})
	err := root.Execute()
	if err == nil || !strings.Contains(err.Error(), "11 object(s) failed") {
		t.Fatalf("want 11 failed objects, got %v", err)
	}
	const golden = "testdata/check.golden"
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Errorf("check output differs from %s (go test -update rewrites it):\n%s", golden, out.String())
	}
}

func TestPausePatches(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"pause", []string{"pause", "w"}, `"autoscaling.keda.sh/paused":"true"`},
		{"replicas", []string{"pause", "w", "--replicas", "3"}, `"autoscaling.keda.sh/paused-replicas":"3"`},
		{"scale-in", []string{"pause", "w", "--scale-in"}, `"autoscaling.keda.sh/paused-scale-in":"true"`},
		{"scale-out", []string{"pause", "w", "--scale-out"}, `"autoscaling.keda.sh/paused-scale-out":"true"`},
		{"pause sj", []string{"pause", "sj/w"}, `"autoscaling.keda.sh/paused":"true"`},
		{"resume sj", []string{"resume", "scaledjob/w"}, `{"metadata":{"annotations":{"autoscaling.keda.sh/paused":null,"autoscaling.keda.sh/paused-replicas":null,"autoscaling.keda.sh/paused-scale-in":null,"autoscaling.keda.sh/paused-scale-out":null}}}`},
		{"resume", []string{"resume", "w"}, `{"metadata":{"annotations":{"autoscaling.keda.sh/paused":null,"autoscaling.keda.sh/paused-replicas":null,"autoscaling.keda.sh/paused-scale-in":null,"autoscaling.keda.sh/paused-scale-out":null}}}`},
		{"transfer", []string{"transfer-hpa", "w", "--hpa", "h"}, `{"metadata":{"annotations":{"scaledobject.keda.sh/transfer-hpa-ownership":"true"}},"spec":{"advanced":{"horizontalPodAutoscalerConfig":{"name":"h"}}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			root := NewRootCommand(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out}, nil)
			root.SetArgs(append(tt.args, "--dry-run=client", "--kubeconfig", "testdata/kubeconfig"))
			if err := root.Execute(); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("patch = %s, want it to contain %s", out.String(), tt.want)
			}
		})
	}
	for _, bad := range [][]string{{"pause", "w", "--scale-in", "--scale-out"}, {"pause", "sj/w", "--replicas", "1"}, {"pause", "deploy/w"}, {"transfer-hpa", "w"}} {
		root := NewRootCommand(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, nil)
		root.SetArgs(append(bad, "--kubeconfig", "testdata/kubeconfig"))
		if err := root.Execute(); err == nil {
			t.Errorf("%v: want an error", bad)
		}
	}
}
