package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/plugin/commands"
	"github.com/kedactl/kedactl/plugin/view"
	"github.com/kedactl/kedactl/test/cluster"
)

// TestScaledJobPlugin drives `kubectl keda` against a live ScaledJob of kedactl's operator: describe
// sj/NAME redoes the operator's arithmetic on the live queue and Jobs, top shows the queue and the
// Jobs by state, and pause/resume sj/NAME stop and restart Job creation.
func TestScaledJobPlugin(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "sjplugin")
	list := "sjplugin-" + ns
	s.apply(t, ns, s.redisScaledJob("worker", list, sjOptions{spec: "  maxReplicaCount: 3\n", outcome: cluster.JobOutcomeRun}))
	s.pushItems(t, list, 2)
	s.waitJobs(t, ns, "worker", "2 running", func(c jobCounts) bool { return c.unfinished == 2 })

	// The default strategy: 2 items at 1 per Job ask for 2 Jobs, less the 2 running, is none.
	out := s.waitDescribeSJ(t, ns, "worker", "Jobs: queue 2, running 2, pending 0 -> 0 new Jobs (default, max 3): the 2 running Jobs already cover the 2 the queue asks for")
	t.Logf("kubectl keda describe sj/worker:\n%s", out)
	for _, want := range []string{"ScaledJob " + ns + "/worker", "s0-redis-" + list, "Running"} {
		if !strings.Contains(out, want) {
			t.Errorf("describe sj/worker does not say %q:\n%s", want, out)
		}
	}
	d := s.describeSJ(t, ns, "worker")
	if st := d.ScaledJob; st == nil || st.Queue == nil || *st.Queue != 2 || st.Running != 2 || st.NewJobs == nil || *st.NewJobs != 0 || st.Max != 3 || len(st.Jobs) != 2 {
		t.Errorf("describe -o json numbers = %+v", st)
	}

	row := s.waitTopSJ(t, ns, "queue 2, running 2, pending 0, succeeded 0, failed 0, max 3", func(r view.TriggerRow) bool {
		return is(r.Queue, 2) && is(r.Running, 2) && is(r.Pending, 0) && is(r.Succeeded, 0) && is(r.Failed, 0) && is(r.Max, 3)
	})
	if row.Value != "2" || row.TargetValue != "1" || row.Active != "true" {
		t.Errorf("top's trigger value/target/active = %s/%s/%s, want 2/1/true", row.Value, row.TargetValue, row.Active)
	}
	table, errOut, err := s.kubectlKeda(t, "top", "-n", ns)
	if err != nil {
		t.Fatalf("top: %v\n%s", err, errOut)
	}
	t.Logf("kubectl keda top:\n%s", table)

	// pause sj/worker: no Job is created for new items; describe says it is paused.
	if out, errOut, err := s.kubectlKeda(t, "pause", "sj/worker", "-n", ns); err != nil || !strings.Contains(out, "scaledjob "+ns+"/worker paused") {
		t.Fatalf("pause sj/worker: %v\n%s%s", err, out, errOut)
	}
	eventually(t, 30*time.Second, "ScaledJob Paused", func(ctx context.Context) (bool, string) {
		sj, err := s.scaledJob(ctx, ns, "worker")
		if err != nil {
			return false, err.Error()
		}
		return sj.Annotations[kedav1alpha1.AnnotationPaused] == "true" && sj.Status.Conditions.IsTrue(kedav1alpha1.ConditionPaused), fmt.Sprintf("%v %+v", sj.Annotations, sj.Status.Conditions)
	})
	s.pushItems(t, list, 2)
	s.holdJobs(t, ns, "worker", "the 2 running Jobs and none added while paused", 4*time.Second, func(c jobCounts) bool { return c.unfinished == 2 && c.total() == 2 })
	out = s.waitDescribeSJ(t, ns, "worker", "Jobs: running 2, pending 0, succeeded 0, failed 0 (max 3)")
	t.Logf("kubectl keda describe sj/worker while paused:\n%s", out)
	for _, want := range []string{"WARNING  Paused", "paused: the operator reads no trigger while the ScaledJob is paused"} {
		if !strings.Contains(out, want) {
			t.Errorf("describe of the paused ScaledJob does not say %q:\n%s", want, out)
		}
	}

	// resume sj/worker: the 4 items ask for 4 Jobs, capped at 3, less 2 running: 1 more, then the
	// maximum is reached.
	if out, errOut, err := s.kubectlKeda(t, "resume", "sj/worker", "-n", ns); err != nil || !strings.Contains(out, "scaledjob "+ns+"/worker resumed") {
		t.Fatalf("resume sj/worker: %v\n%s%s", err, out, errOut)
	}
	s.waitJobs(t, ns, "worker", "3 running after resuming", func(c jobCounts) bool { return c.unfinished == 3 })
	out = s.waitDescribeSJ(t, ns, "worker", "Jobs: queue 4, running 3, pending 0 -> 0 new Jobs (default, max 3): maxReplicaCount reached")
	if !strings.Contains(out, "WARNING  At maxReplicaCount: 3 Jobs running") || strings.Contains(out, "WARNING  Paused") {
		t.Errorf("describe of the resumed ScaledJob at its maximum:\n%s", out)
	}
	s.waitTopSJ(t, ns, "queue 4, running 3", func(r view.TriggerRow) bool { return is(r.Queue, 4) && is(r.Running, 3) && is(r.Pending, 0) })
}

func is(n *int64, want int64) bool { return n != nil && *n == want }

// describeSJ is `kubectl keda describe sj/NAME -o json`.
func (s *suite) describeSJ(t *testing.T, ns, name string) *commands.Description {
	t.Helper()
	out, errOut, err := s.kubectlKeda(t, "describe", "sj/"+name, "-n", ns, "-o", "json")
	if err != nil {
		t.Fatalf("describe sj/%s -o json: %v\n%s", name, err, errOut)
	}
	d := &commands.Description{}
	if err := json.Unmarshal([]byte(out), d); err != nil {
		t.Fatalf("describe sj/%s -o json: %v\n%s", name, err, out)
	}
	return d
}

// waitDescribeSJ waits until `kubectl keda describe sj/NAME` prints want and returns its output. The
// operator's sample and the Pods' phases settle a poll or two after the Jobs do.
func (s *suite) waitDescribeSJ(t *testing.T, ns, name, want string) string {
	t.Helper()
	var out string
	eventually(t, 30*time.Second, "describe sj/"+name+" to print "+want, func(context.Context) (bool, string) {
		o, errOut, err := s.kubectlKeda(t, "describe", "sj/"+name, "-n", ns)
		if err != nil {
			return false, err.Error() + errOut
		}
		out = o
		return strings.Contains(o, want), o
	})
	return out
}

// waitTopSJ waits until the first ScaledJob row of `kubectl keda top -o json` satisfies ok.
func (s *suite) waitTopSJ(t *testing.T, ns, what string, ok func(view.TriggerRow) bool) view.TriggerRow {
	t.Helper()
	var row view.TriggerRow
	eventually(t, 30*time.Second, "top to show "+what, func(context.Context) (bool, string) {
		out, errOut, err := s.kubectlKeda(t, "top", "-n", ns, "-o", "json")
		if err != nil {
			return false, err.Error() + errOut
		}
		var list struct{ Items []view.TriggerRow }
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			return false, err.Error()
		}
		for _, r := range list.Items {
			if r.Kind == "ScaledJob" {
				row = r
				return ok(r), out
			}
		}
		return false, out
	})
	return row
}
