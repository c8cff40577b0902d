package e2e

import (
	"strings"
	"testing"
)

// TestTopListsScaledJobs: `kubectl keda top` prints the namespace's ScaledJobs in their own table
// after its ScaledObjects, as `kubectl get so,sj` does.
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
}
