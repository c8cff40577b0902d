package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/test/cmd/demo/steps"
	"github.com/kedactl/kedactl/test/env"
)

// TestDemoPluginTour runs make demo's plugin phase (test/cmd/demo/steps.Tour) against a ScaledObject
// at rest as the demo leaves its own: the kubectl-keda binary, built as make demo builds it, run
// through kubectl's plugin lookup when kubectl is installed; pause holds the target while work
// waits and resume releases it to the HPA.
func TestDemoPluginTour(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "demo-tour")
	list := "tour-" + ns
	s.apply(t, ns, deployment("worker", 0, map[string]string{"REDIS_PASSWORD": redisPassword}))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
spec:
  scaleTargetRef:
    name: worker
  pollingInterval: 1
  cooldownPeriod: 10
  maxReplicaCount: 3
  triggers:
    - type: redis
      metadata:
        address: %s
        passwordFromEnv: REDIS_PASSWORD
        listName: %s
        listLength: "10"
`, s.redis.Addr, list))
	s.waitReady(t, ns, "worker", "True")

	binDir := t.TempDir()
	build := exec.Command("go", "build", "-o", binDir+"/", "./cmd/kubectl-keda")
	build.Dir = env.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("failed to build kubectl-keda: %v\n%s", err, out)
	}
	var out bytes.Buffer
	rc := s.redis.Client()
	defer rc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	err := steps.Tour(ctx, steps.TourOptions{
		Kubectl:   steps.NewKubectl(binDir, s.env.Cluster.KubeconfigPath(), os.Environ(), exec.LookPath, &out),
		Progress:  &steps.Progress{Out: &out, Start: time.Now()},
		Namespace: ns, Name: "worker", Target: "worker",
		Queue:    &steps.RedisList{Client: rc, Key: list},
		Replicas: func(ctx context.Context) (int32, error) { return s.replicas(ctx, ns, "worker") },
		Hold:     1, Backlog: 30, MaxReplicas: 3, HoldFor: 4 * time.Second,
	})
	t.Logf("the tour's output:\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"top worker -n " + ns, "timeline worker -n " + ns, "pause worker --replicas 1 -n " + ns, "resume worker -n " + ns, "describe worker -n " + ns,
		"paused: worker held at 1 replicas", "resumed: worker went 1 -> 3",
		// describe's events show the pause and the resume as the operator recorded them.
		"ScaledObjectPaused", "ScaledObjectUnpaused",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the tour's output lacks %q", want)
		}
	}
}
