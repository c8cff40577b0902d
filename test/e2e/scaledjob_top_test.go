package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/plugin/kedaclient"
	"github.com/kedactl/kedactl/test/cluster"
	"github.com/kedactl/kedactl/tui"
)

// TestTopListsScaledJobs: `kubectl keda top` prints the namespace's ScaledJobs in their own table
// after its ScaledObjects, as `kubectl get so,sj` does; the TUI lists the ScaledJob with its running
// Jobs (counted from an informer on the Jobs labelled with it, here one started by hand on a kwok
// node) and `kubectl keda describe sj/NAME` diagnoses it.
func TestTopListsScaledJobs(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "sjtop")
	s.apply(t, ns, `apiVersion: keda.sh/v1alpha1
kind: ScaledJob
metadata:
  name: nightly
spec:
  maxReplicaCount: 3
  jobTargetRef:
    template:
      spec:
        restartPolicy: Never
        containers:
          - name: report
            image: example.com/report:1.0
  triggers:
    - type: cron
      name: night
      metadata:
        timezone: Etc/UTC
        start: 0 1 * * *
        end: 0 2 * * *
        desiredReplicas: "1"
`)
	out, errOut, err := s.kubectlKeda(t, "top", "-n", ns)
	if err != nil {
		t.Fatalf("top: %v\n%s", err, errOut)
	}
	for _, want := range []string{"SCALEDJOB", "nightly", "night", "cron", "0-3"} {
		if !strings.Contains(out, want) {
			t.Errorf("top output lacks %q:\n%s", want, out)
		}
	}

	// A Job of the ScaledJob's current generation (else the operator's rollout deletes it, as
	// KEDA's does) whose pod keeps running.
	sj, err := s.scaledJob(context.Background(), ns, "nightly")
	if err != nil {
		t.Fatal(err)
	}
	s.apply(t, ns, fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata:
  name: nightly-manual
  labels:
    scaledjob.keda.sh/name: nightly
  annotations:
    scaledjob.keda.sh/generation: "%d"
spec:
  template:
    metadata:
      labels:
        %s: %s
    spec:
      restartPolicy: Never
      containers:
        - name: report
          image: example.com/report:1.0
`, sj.Generation, cluster.JobOutcomeLabel, cluster.JobOutcomeRun))
	kc, err := kedaclient.New(s.env.Cluster.RestConfig())
	if err != nil {
		t.Fatal(err)
	}
	informers, err := tui.NewInformers(s.env.Cluster.RestConfig(), ns)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src, err := tui.NewClusterSource(ctx, kc, informers)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "the TUI to list ScaledJob nightly with its running Job", func(ctx context.Context) (bool, string) {
		objs, err := src.Objects(ctx, ns)
		if err != nil {
			return false, err.Error()
		}
		for _, o := range objs {
			if o.ScaledJob != nil && o.ScaledJob.Name == "nightly" {
				return o.RunningJobs == 1, fmt.Sprintf("running Jobs %d", o.RunningJobs)
			}
		}
		return false, fmt.Sprintf("%d objects, no ScaledJob nightly", len(objs))
	})

	out, errOut, err = s.kubectlKeda(t, "describe", "sj/nightly", "-n", ns)
	if err != nil {
		t.Fatalf("describe sj/nightly: %v\n%s", err, errOut)
	}
	if !strings.HasPrefix(out, "ScaledJob "+ns+"/nightly") {
		t.Errorf("describe sj/nightly does not describe the ScaledJob:\n%s", out)
	}
}
