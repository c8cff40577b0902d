package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/test/cluster"
	rabbitserver "github.com/kedactl/kedactl/test/servers/rabbitmq"
)

// sjOptions shape a ScaledJob on a Redis list for these tests.
type sjOptions struct {
	// spec is extra spec lines, each indented two spaces.
	spec string
	// outcome is the kwok job outcome of its pods (cluster.JobOutcome*); empty succeeds at once.
	outcome string
	// unschedulable keeps its pods Pending (no node matches), so its Jobs stay pending.
	unschedulable bool
	// image is the container's image: a change of it is a change of the Job template.
	image string
}

// redisScaledJob is a ScaledJob that starts one Job per item of list (listLength 1), polling every
// second, its Redis password read from the job template's env as KEDA resolves it.
func (s *suite) redisScaledJob(name, list string, o sjOptions) string {
	labels := ""
	if o.outcome != "" {
		labels = fmt.Sprintf("\n      metadata:\n        labels:\n          %s: %s", cluster.JobOutcomeLabel, o.outcome)
	}
	nodeSelector := ""
	if o.unschedulable {
		nodeSelector = "\n        nodeSelector:\n          e2e.kedactl.dev/no-such-node: \"true\""
	}
	if o.image == "" {
		o.image = "example.com/worker:1.0"
	}
	return fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledJob
metadata:
  name: %s
  labels:
    team: queues
spec:
  pollingInterval: 1
%s  jobTargetRef:
    backoffLimit: 0
    template:%s
      spec:%s
        containers:
          - name: worker
            image: %s
            env:
              - name: REDIS_PASSWORD
                value: %q
  triggers:
    - type: redis
      metadata:
        address: %s
        passwordFromEnv: REDIS_PASSWORD
        listName: %s
        listLength: "1"
`, name, o.spec, labels, nodeSelector, o.image, redisPassword, s.redis.Addr, list)
}

// jobsOf lists the Jobs of ScaledJob name, oldest first.
func (s *suite) jobsOf(ctx context.Context, ns, name string) ([]batchv1.Job, error) {
	list := &batchv1.JobList{}
	if err := s.env.Client.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{kedav1alpha1.LabelScaledJobName: name}); err != nil {
		return nil, err
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].CreationTimestamp.Before(&list.Items[j].CreationTimestamp) })
	return list.Items, nil
}

// jobCounts is how many of a ScaledJob's Jobs are unfinished, succeeded and failed.
type jobCounts struct{ unfinished, succeeded, failed int }

func (c jobCounts) total() int { return c.unfinished + c.succeeded + c.failed }

func (c jobCounts) String() string {
	return fmt.Sprintf("%d unfinished, %d succeeded, %d failed", c.unfinished, c.succeeded, c.failed)
}

func countJobs(jobs []batchv1.Job) jobCounts {
	var c jobCounts
	for _, j := range jobs {
		switch finished(&j) {
		case batchv1.JobComplete:
			c.succeeded++
		case batchv1.JobFailed:
			c.failed++
		default:
			c.unfinished++
		}
	}
	return c
}

func finished(j *batchv1.Job) batchv1.JobConditionType {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return c.Type
		}
	}
	return ""
}

// waitJobs waits until the ScaledJob's Jobs satisfy ok.
func (s *suite) waitJobs(t *testing.T, ns, name, what string, ok func(jobCounts) bool) {
	t.Helper()
	eventually(t, 60*time.Second, fmt.Sprintf("the Jobs of ScaledJob %s/%s: %s", ns, name, what), func(ctx context.Context) (bool, string) {
		jobs, err := s.jobsOf(ctx, ns, name)
		if err != nil {
			return false, err.Error()
		}
		c := countJobs(jobs)
		return ok(c), c.String()
	})
}

// holdJobs checks for d that the ScaledJob's Jobs keep satisfying ok.
func (s *suite) holdJobs(t *testing.T, ns, name, what string, d time.Duration, ok func(jobCounts) bool) {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		jobs, err := s.jobsOf(context.Background(), ns, name)
		if err != nil {
			t.Fatal(err)
		}
		if c := countJobs(jobs); !ok(c) {
			t.Fatalf("the Jobs of ScaledJob %s/%s: want %s held, got %s", ns, name, what, c)
		}
	}
}

func (s *suite) scaledJob(ctx context.Context, ns, name string) (*kedav1alpha1.ScaledJob, error) {
	sj := &kedav1alpha1.ScaledJob{}
	err := s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, sj)
	return sj, err
}

// waitScaledJob waits until the ScaledJob satisfies ok, which also describes what it saw.
func (s *suite) waitScaledJob(t *testing.T, ns, name, what string, ok func(*kedav1alpha1.ScaledJob) (bool, string)) {
	t.Helper()
	eventually(t, 60*time.Second, fmt.Sprintf("ScaledJob %s/%s %s", ns, name, what), func(ctx context.Context) (bool, string) {
		sj, err := s.scaledJob(ctx, ns, name)
		if err != nil {
			return false, err.Error()
		}
		return ok(sj)
	})
}

func (s *suite) pushItems(t *testing.T, list string, n int) {
	t.Helper()
	rc := s.redis.Client()
	defer rc.Close()
	for i := range n {
		if err := rc.RPush(context.Background(), list, fmt.Sprintf("item-%d", i)).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestScaledJobCreatesJobsAsItemsArrive (KEDA's scaled_job and scaling_strategies default case):
// Jobs appear as items arrive, one per item, never more than maxReplicaCount counting the Jobs still
// running; each Job is built as KEDA builds it; status and events say what happened.
func TestScaledJobCreatesJobsAsItemsArrive(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ctx := context.Background()
	ns := s.newNamespace(t, "sj")
	list := "sj-" + ns
	s.apply(t, ns, s.redisScaledJob("worker", list, sjOptions{spec: "  maxReplicaCount: 3\n", outcome: cluster.JobOutcomeRun}))

	s.waitScaledJob(t, ns, "worker", "Ready", func(sj *kedav1alpha1.ScaledJob) (bool, string) {
		c := sj.Status.Conditions.Get(kedav1alpha1.ConditionReady)
		return c != nil && c.Status == metav1.ConditionTrue && sj.Status.TriggersTypes != nil && *sj.Status.TriggersTypes == "redis", fmt.Sprintf("%+v", sj.Status)
	})
	s.holdJobs(t, ns, "worker", "none while the list is empty", 3*time.Second, func(c jobCounts) bool { return c.total() == 0 })

	s.pushItems(t, list, 2)
	s.waitJobs(t, ns, "worker", "2 running", func(c jobCounts) bool { return c.unfinished == 2 })
	s.holdJobs(t, ns, "worker", "2 while 2 run for the 2 items", 3*time.Second, func(c jobCounts) bool { return c.total() == 2 })

	s.pushItems(t, list, 5)
	s.waitJobs(t, ns, "worker", "3 running (maxReplicaCount)", func(c jobCounts) bool { return c.unfinished == 3 })
	s.holdJobs(t, ns, "worker", "never more than maxReplicaCount 3", 4*time.Second, func(c jobCounts) bool { return c.total() == 3 })

	jobs, err := s.jobsOf(ctx, ns, "worker")
	if err != nil {
		t.Fatal(err)
	}
	sj, err := s.scaledJob(ctx, ns, "worker")
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if !strings.HasPrefix(j.Name, "worker-") {
			t.Errorf("Job %s is not named from generateName worker-", j.Name)
		}
		for k, want := range map[string]string{"scaledjob.keda.sh/name": "worker", "app.kubernetes.io/name": "worker", "app.kubernetes.io/part-of": "worker", "app.kubernetes.io/managed-by": "keda-operator", "team": "queues"} {
			if got := j.Labels[k]; got != want {
				t.Errorf("Job %s label %s = %q, want %q", j.Name, k, got, want)
			}
		}
		if got := j.Annotations["scaledjob.keda.sh/generation"]; got != fmt.Sprint(sj.Generation) {
			t.Errorf("Job %s generation annotation = %q, want %d", j.Name, got, sj.Generation)
		}
		if got := j.Spec.Template.Labels["scaledjob.keda.sh/name"]; got != "worker" {
			t.Errorf("Job %s pod template label scaledjob.keda.sh/name = %q", j.Name, got)
		}
		if j.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyOnFailure {
			t.Errorf("Job %s restartPolicy = %q, want KEDA's default OnFailure", j.Name, j.Spec.Template.Spec.RestartPolicy)
		}
		if owner := metav1.GetControllerOf(&j); owner == nil || owner.Kind != "ScaledJob" || owner.UID != sj.UID {
			t.Errorf("Job %s controller = %+v, want ScaledJob worker", j.Name, owner)
		}
	}
	// The queue behind the Jobs is served to `kubectl keda` by the external metrics API.
	metric := "s0-redis-" + list
	if got := sj.Status.ExternalMetricNames; len(got) != 1 || got[0] != metric {
		t.Errorf("status.externalMetricNames = %v, want [%s]", got, metric)
	}
	raw, err := s.env.Kube.CoreV1().RESTClient().Get().AbsPath("/apis/external.metrics.k8s.io/v1beta1/namespaces", ns, metric).
		Param("labelSelector", "scaledjob.keda.sh/name=worker").DoRaw(ctx)
	if err != nil {
		t.Fatalf("external metric %s of the ScaledJob: %v", metric, err)
	}
	for _, want := range []string{`"value":"7"`, `"kedactl.dev/target-average-value":"1"`, `"kedactl.dev/active":"true"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("external metric answer lacks %s: %s", want, raw)
		}
	}
	if c := sj.Status.Conditions.Get(kedav1alpha1.ConditionActive); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Active condition = %+v, want True", c)
	}
	if sj.Status.LastActiveTime == nil {
		t.Error("status.lastActiveTime is not set while active")
	}
	series := fmt.Sprintf(`keda_scaler_metrics_value{metric=%q,namespace=%q,scaledObject="worker",scaler="redisScaler",triggerIndex="0",type="scaledjob"} 7`, metric, ns)
	if prom := s.prometheus(t); !strings.Contains(prom, series) {
		t.Errorf("the operator's Prometheus metrics lack %s", series)
	}
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAJobsCreated, "Created 2 jobs")
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAJobsCreated, "Created 1 jobs")
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventScaledJobActive)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventScaledJobReady)

	// Deleting the ScaledJob lets it go; its Jobs follow through their owner reference.
	if err := s.env.Client.Delete(ctx, sj); err != nil {
		t.Fatal(err)
	}
	s.waitGone(t, "ScaledJob worker", func(ctx context.Context) error { _, err := s.scaledJob(ctx, ns, "worker"); return err })
	s.waitJobs(t, ns, "worker", "all deleted with their ScaledJob", func(c jobCounts) bool { return c.total() == 0 })
}

// TestScaledJobMinReplicaCount (KEDA's min_replica_sj): minReplicaCount Jobs are kept running with
// nothing in the queue.
func TestScaledJobMinReplicaCount(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "sjmin")
	s.apply(t, ns, s.redisScaledJob("worker", "sjmin-"+ns, sjOptions{spec: "  minReplicaCount: 2\n  maxReplicaCount: 5\n", outcome: cluster.JobOutcomeRun}))
	s.waitJobs(t, ns, "worker", "2 running for minReplicaCount", func(c jobCounts) bool { return c.unfinished == 2 })
	s.holdJobs(t, ns, "worker", "2, the minimum, with an empty queue", 4*time.Second, func(c jobCounts) bool { return c.total() == 2 })
}

// TestScaledJobStrategies (KEDA's scaling_strategies and eager_scaling_strategy): with 4 items,
// maxReplicaCount 10 and one Job per item, each strategy settles where KEDA's formula leads when the
// Jobs run without taking items off the queue:
//   - default: max scale 4 minus 4 running: 4 Jobs;
//   - custom, deduction 0, running percentage 0.5: 4, then 4-int(4*0.5)=2, 4-int(6*0.5)=1,
//     4-int(7*0.5)=1, then 4-int(8*0.5)=0: 8 Jobs;
//   - accurate: the queue counts only items no Job holds, so 4 more each poll up to max: 10 Jobs;
//   - eager: fills the free slots up to the queue each poll: 10 Jobs;
//   - accurate with the Jobs' pods pending: 4 + 4 - 4 pending fits, so max scale minus pending, 0:
//     4 Jobs;
//   - eager with the Jobs' pods pending: min(10-4-4, 4)=2 more, then 10-6-6 < 0: 6 Jobs.
func TestScaledJobStrategies(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	for _, tc := range []struct {
		name          string
		strategy      string
		unschedulable bool
		want          int
	}{
		{"default", "    strategy: default\n", false, 4},
		{"custom", "    strategy: custom\n    customScalingQueueLengthDeduction: 0\n    customScalingRunningJobPercentage: \"0.5\"\n", false, 8},
		{"accurate", "    strategy: accurate\n", false, 10},
		{"eager", "    strategy: eager\n", false, 10},
		{"accurate-pending", "    strategy: accurate\n", true, 4},
		{"eager-pending", "    strategy: eager\n", true, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := s.newNamespace(t, "sjs-"+tc.name)
			list := "sjs-" + ns
			s.pushItems(t, list, 4)
			s.apply(t, ns, s.redisScaledJob("worker", list, sjOptions{
				spec:    "  maxReplicaCount: 10\n  scalingStrategy:\n" + tc.strategy,
				outcome: cluster.JobOutcomeRun, unschedulable: tc.unschedulable,
			}))
			s.waitJobs(t, ns, "worker", fmt.Sprintf("%d Jobs", tc.want), func(c jobCounts) bool { return c.total() == tc.want })
			s.holdJobs(t, ns, "worker", fmt.Sprintf("%d Jobs", tc.want), 4*time.Second, func(c jobCounts) bool { return c.total() == tc.want })
		})
	}
}

// TestScaledJobHistoryLimits: finished Jobs beyond successfulJobsHistoryLimit and
// failedJobsHistoryLimit are deleted, oldest first.
func TestScaledJobHistoryLimits(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	for _, tc := range []struct {
		name, outcome string
		keep          func(jobCounts) bool
	}{
		{"succeeded", "", func(c jobCounts) bool { return c.succeeded == 1 && c.total() == 1 }},
		{"failed", cluster.JobOutcomeFail, func(c jobCounts) bool { return c.failed == 1 && c.total() == 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := s.newNamespace(t, "sjh-"+tc.name)
			list := "sjh-" + ns
			s.pushItems(t, list, 1)
			s.apply(t, ns, s.redisScaledJob("worker", list, sjOptions{spec: "  successfulJobsHistoryLimit: 1\n  failedJobsHistoryLimit: 1\n", outcome: tc.outcome}))
			// Each Job finishes at once, so each poll starts another for the item still queued.
			seen := map[string]bool{}
			eventually(t, 60*time.Second, "at least 4 Jobs run", func(ctx context.Context) (bool, string) {
				jobs, err := s.jobsOf(ctx, ns, "worker")
				if err != nil {
					return false, err.Error()
				}
				for _, j := range jobs {
					seen[j.Name] = true
				}
				return len(seen) >= 4, fmt.Sprintf("%d Jobs seen, now %s", len(seen), countJobs(jobs))
			})
			rc := s.redis.Client()
			defer rc.Close()
			if err := rc.Del(context.Background(), list).Err(); err != nil {
				t.Fatal(err)
			}
			s.waitJobs(t, ns, "worker", "the history trimmed to its limit of 1", tc.keep)
		})
	}
}

// TestScaledJobPause (KEDA's pause_scaledjob): while autoscaling.keda.sh/paused is true no Job is
// created, and running Jobs are left alone; resuming creates them.
func TestScaledJobPause(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ctx := context.Background()
	ns := s.newNamespace(t, "sjpause")
	list := "sjpause-" + ns
	doc := s.redisScaledJob("worker", list, sjOptions{spec: "  maxReplicaCount: 5\n", outcome: cluster.JobOutcomeRun})
	paused := strings.Replace(doc, "  labels:\n    team: queues\n", "  labels:\n    team: queues\n  annotations:\n    autoscaling.keda.sh/paused: \"true\"\n", 1)
	s.apply(t, ns, paused)
	s.pushItems(t, list, 2)
	s.waitScaledJob(t, ns, "worker", "Paused", func(sj *kedav1alpha1.ScaledJob) (bool, string) {
		return sj.Status.Conditions.IsTrue(kedav1alpha1.ConditionPaused) && sj.Status.Paused == "true", fmt.Sprintf("%+v", sj.Status)
	})
	s.holdJobs(t, ns, "worker", "no Job while paused", 4*time.Second, func(c jobCounts) bool { return c.total() == 0 })

	s.apply(t, ns, doc) // drops the annotation
	s.waitJobs(t, ns, "worker", "2 running after resuming", func(c jobCounts) bool { return c.unfinished == 2 })
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventScaledJobUnpaused)

	s.apply(t, ns, paused)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventScaledJobPaused)
	s.pushItems(t, list, 2)
	s.holdJobs(t, ns, "worker", "the 2 running Jobs left alone and none added while paused", 4*time.Second, func(c jobCounts) bool { return c.unfinished == 2 && c.total() == 2 })
	sj, err := s.scaledJob(ctx, ns, "worker")
	if err != nil {
		t.Fatal(err)
	}
	if c := sj.Status.Conditions.Get(kedav1alpha1.ConditionPaused); c == nil || c.Reason != kedav1alpha1.ReasonScaledJobPaused {
		t.Errorf("Paused condition = %+v", c)
	}
}

// TestScaledJobRollout: a change of the Job template deletes the running Jobs of the earlier
// generation under rollout.strategy immediate (KEDA's default); gradual leaves them to finish.
func TestScaledJobRollout(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	for _, tc := range []struct {
		strategy string
		// oldKept is whether the first generation's Jobs survive the change.
		oldKept bool
	}{
		{"immediate", false},
		{"gradual", true},
	} {
		t.Run(tc.strategy, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			ns := s.newNamespace(t, "sjroll-"+tc.strategy)
			list := "sjroll-" + ns
			spec := fmt.Sprintf("  maxReplicaCount: 2\n  rollout:\n    strategy: %s\n", tc.strategy)
			s.pushItems(t, list, 2)
			s.apply(t, ns, s.redisScaledJob("worker", list, sjOptions{spec: spec, outcome: cluster.JobOutcomeRun}))
			s.waitJobs(t, ns, "worker", "2 running", func(c jobCounts) bool { return c.unfinished == 2 })
			first, err := s.jobsOf(ctx, ns, "worker")
			if err != nil {
				t.Fatal(err)
			}

			s.apply(t, ns, s.redisScaledJob("worker", list, sjOptions{spec: spec, outcome: cluster.JobOutcomeRun, image: "example.com/worker:2.0"}))
			if tc.oldKept {
				s.holdJobs(t, ns, "worker", "the first generation's 2 Jobs kept, none added at max", 4*time.Second, func(c jobCounts) bool { return c.total() == 2 })
				jobs, err := s.jobsOf(ctx, ns, "worker")
				if err != nil {
					t.Fatal(err)
				}
				if len(jobs) != 2 || jobs[0].UID != first[0].UID || jobs[1].UID != first[1].UID {
					t.Errorf("gradual rollout replaced Jobs: before %s %s, after %d Jobs", first[0].Name, first[1].Name, len(jobs))
				}
				return
			}
			s.waitEvent(t, ns, "worker", kedav1alpha1.EventScaledJobRolloutCleanupCompleted, "Deleted 2 jobs")
			// The new Jobs come at the next polls, not after some grace period.
			eventually(t, 20*time.Second, "2 Jobs of the new template in place of the old", func(ctx context.Context) (bool, string) {
				jobs, err := s.jobsOf(ctx, ns, "worker")
				if err != nil {
					return false, err.Error()
				}
				var desc []string
				renewed := 0
				for _, j := range jobs {
					img := j.Spec.Template.Spec.Containers[0].Image
					desc = append(desc, j.Name+" "+img)
					if img == "example.com/worker:2.0" && j.DeletionTimestamp == nil {
						renewed++
					}
					for _, old := range first {
						if old.UID == j.UID && j.DeletionTimestamp == nil {
							return false, "old Job " + j.Name + " still there"
						}
					}
				}
				return renewed == 2, strings.Join(desc, ", ")
			})
		})
	}
}

// TestScaledJobValidation (KEDA's scaled_job_validation): a ScaledJob whose jobTargetRef runs no
// container is refused at admission, naming the field.
func TestScaledJobValidation(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "sjbad")
	err := s.env.ApplyYAML(context.Background(), ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledJob
metadata:
  name: broken
spec:
  jobTargetRef:
    template:
      spec:
        containers: []
  triggers:
    - type: redis
      metadata:
        address: %s
        listName: x
`, s.redis.Addr))
	// KEDA's webhook checks a ScaledJob's triggers only: a Job spec without containers is admitted
	// (with a warning here) and reported on the object.
	if err != nil {
		t.Fatalf("apply of a ScaledJob without containers = %v, want it admitted as KEDA admits it", err)
	}
	s.waitScaledJob(t, ns, "broken", "Ready False naming the containers", func(sj *kedav1alpha1.ScaledJob) (bool, string) {
		c := sj.Status.Conditions.Get(kedav1alpha1.ConditionReady)
		if c == nil {
			return false, "no Ready condition"
		}
		return c.Status == metav1.ConditionFalse && strings.Contains(c.Message, "spec.jobTargetRef.template.spec.containers"), c.Reason + ": " + c.Message
	})

	// KEDA's CRD refuses an empty trigger list, in the API server's words.
	doc := s.redisScaledJob("empty", "sjbad-"+ns, sjOptions{})
	doc = doc[:strings.Index(doc, "  triggers:")] + "  triggers: []\n"
	err = s.env.ApplyYAML(context.Background(), ns, doc)
	if err == nil || !strings.Contains(err.Error(), "spec.triggers in body should have at least 1 items") {
		t.Fatalf("apply with no triggers = %v, want the CRD's refusal of spec.triggers", err)
	}
	// ... and a value outside its enums.
	err = s.env.ApplyYAML(context.Background(), ns, s.redisScaledJob("odd", "sjbad-"+ns, sjOptions{spec: "  rollout:\n    strategy: sometimes\n"}))
	if err == nil || !strings.Contains(err.Error(), "spec.rollout.strategy") {
		t.Fatalf("apply with rollout.strategy sometimes = %v, want a refusal naming spec.rollout.strategy", err)
	}
}

// TestScaledJobExcludedLabels (KEDA's scaled_job_validation): the labels named in
// scaledjob.keda.sh/job-excluded-labels are not copied to the Jobs; the others are.
func TestScaledJobExcludedLabels(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "sjlabels")
	list := "sjlabels-" + ns
	s.pushItems(t, list, 1)
	doc := s.redisScaledJob("worker", list, sjOptions{outcome: cluster.JobOutcomeRun})
	doc = strings.Replace(doc, "  labels:\n    team: queues\n", "  labels:\n    team: queues\n    foo.bar/environment: bar\n    foo.bar/version: \"1\"\n  annotations:\n    scaledjob.keda.sh/job-excluded-labels: foo.bar/environment,foo.bar/version\n", 1)
	s.apply(t, ns, doc)
	s.waitJobs(t, ns, "worker", "1 running", func(c jobCounts) bool { return c.unfinished == 1 })
	jobs, err := s.jobsOf(context.Background(), ns, "worker")
	if err != nil {
		t.Fatal(err)
	}
	for _, excluded := range []string{"foo.bar/environment", "foo.bar/version"} {
		if v, ok := jobs[0].Labels[excluded]; ok {
			t.Errorf("Job %s has the excluded label %s=%s", jobs[0].Name, excluded, v)
		}
	}
	if jobs[0].Labels["team"] != "queues" {
		t.Errorf("Job %s lacks the ScaledJob's label team=queues: %v", jobs[0].Name, jobs[0].Labels)
	}
}

// TestScaledJobConditions (KEDA's scaled_job_conditions): a trigger whose source does not answer
// makes the ScaledJob not Ready with KEDA's reason, and no Job is created; pointed at a working
// source it becomes Ready and runs Jobs.
func TestScaledJobConditions(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "sjcond")
	list := "sjcond-" + ns
	s.pushItems(t, list, 1)
	good := s.redisScaledJob("worker", list, sjOptions{outcome: cluster.JobOutcomeRun})
	// Nothing listens on port 1 of the loopback address.
	s.apply(t, ns, strings.Replace(good, "address: "+s.redis.Addr, "address: 127.0.0.1:1", 1))
	waitJobReady := func(want metav1.ConditionStatus, reason string) {
		t.Helper()
		s.waitScaledJob(t, ns, "worker", fmt.Sprintf("Ready=%s (%s)", want, reason), func(sj *kedav1alpha1.ScaledJob) (bool, string) {
			c := sj.Status.Conditions.Get(kedav1alpha1.ConditionReady)
			if c == nil {
				return false, "no Ready condition"
			}
			return c.Status == want && c.Reason == reason, fmt.Sprintf("%+v", *c)
		})
	}
	waitJobReady(metav1.ConditionFalse, kedav1alpha1.ReasonTriggerError)
	s.holdJobs(t, ns, "worker", "none while the trigger fails", 3*time.Second, func(c jobCounts) bool { return c.total() == 0 })

	s.apply(t, ns, good)
	waitJobReady(metav1.ConditionTrue, kedav1alpha1.ReasonScaledJobReady)
	s.waitJobs(t, ns, "worker", "1 running", func(c jobCounts) bool { return c.unfinished == 1 })
}

// TestScaledJobRabbitMQ: a ScaledJob on a real RabbitMQ queue, its host URL (password included)
// from a Secret through a TriggerAuthentication, starts a Job per message up to maxReplicaCount.
func TestScaledJobRabbitMQ(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ctx := context.Background()
	srv := rabbitserver.Start(t, rabbitserver.Options{Password: rabbitE2EPassword, Vhost: "e2e-jobs"})
	const queue = "videos"
	if err := srv.DeclareQueue(srv.Vhost, queue); err != nil {
		t.Fatal(err)
	}
	ns := s.newNamespace(t, "sjrabbit")
	s.apply(t, ns, rabbitSecret(srv.AMQPURL(srv.Vhost)))
	s.apply(t, ns, rabbitAuth+fmt.Sprintf(`---
apiVersion: keda.sh/v1alpha1
kind: ScaledJob
metadata:
  name: encoder
spec:
  pollingInterval: 1
  maxReplicaCount: 4
  jobTargetRef:
    template:
      metadata:
        labels:
          %s: %s
      spec:
        containers:
          - name: encoder
            image: example.com/encoder:1.0
  triggers:
    - type: rabbitmq
      authenticationRef:
        name: rabbitmq-auth
      metadata:
        protocol: amqp
        queueName: %s
        mode: QueueLength
        value: "1"
`, cluster.JobOutcomeLabel, cluster.JobOutcomeRun, queue))
	s.holdJobs(t, ns, "encoder", "none while the queue is empty", 3*time.Second, func(c jobCounts) bool { return c.total() == 0 })
	if err := srv.Publish(ctx, srv.Vhost, queue, 2); err != nil {
		t.Fatal(err)
	}
	s.waitJobs(t, ns, "encoder", "2 running for 2 messages", func(c jobCounts) bool { return c.unfinished == 2 })
	if err := srv.Publish(ctx, srv.Vhost, queue, 5); err != nil {
		t.Fatal(err)
	}
	s.waitJobs(t, ns, "encoder", "4 running (maxReplicaCount) for 7 messages", func(c jobCounts) bool { return c.unfinished == 4 })
	s.holdJobs(t, ns, "encoder", "never more than 4", 3*time.Second, func(c jobCounts) bool { return c.total() == 4 })
	sj, err := s.scaledJob(ctx, ns, "encoder")
	if err != nil {
		t.Fatal(err)
	}
	if sj.Status.AuthenticationsTypes != "rabbitmq-auth" {
		t.Errorf("status.authenticationsTypes = %q, want rabbitmq-auth", sj.Status.AuthenticationsTypes)
	}
}
