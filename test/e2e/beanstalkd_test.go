package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/test/cluster"
	beanstalkdserver "github.com/kedactl/kedactl/test/servers/beanstalkd"
)

// TestBeanstalkdScalesZeroToMaxToZero: a beanstalkd trigger on Debian's beanstalkd, with KEDA's
// default dial timeout, on a tube nobody has used yet (beanstalkd answers NOT_FOUND: 0 jobs, the
// workers stay at 0). beanstalkd has no credentials, and KEDA's trigger no authentication
// parameter: plain metadata. One ready job activates the workers; jobs held by a worker still
// count; twenty jobs take the real HPA to the maximum of 4; delayed ones count with
// includeDelayed; once every job is done the workers go back to 0 after the cooldown.
func TestBeanstalkdScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	srv := beanstalkdserver.Start(t)

	ns := s.newNamespace(t, "beanstalkd")
	s.apply(t, ns, deployment("worker", 0, nil))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
spec:
  scaleTargetRef:
    name: worker
  pollingInterval: 1
  cooldownPeriod: 5
  maxReplicaCount: 4
  triggers:
    - type: beanstalkd
      metadata:
        server: %s
        tube: emails
        value: "2"
        includeDelayed: "true"
`, srv.Addr))

	const metric = "s0-beanstalkd-emails"
	so := s.waitReady(t, ns, "worker", metav1.ConditionTrue)
	if got := so.Status.ExternalMetricNames; len(got) != 1 || got[0] != metric {
		t.Fatalf("status.externalMetricNames = %v, want [%s]", got, metric)
	}
	hpa, err := s.hpa(context.Background(), ns, "keda-hpa-worker")
	if err != nil {
		t.Fatalf("HPA keda-hpa-worker: %v", err)
	}
	if len(hpa.Spec.Metrics) != 1 || hpa.Spec.Metrics[0].External == nil || hpa.Spec.Metrics[0].External.Metric.Name != metric ||
		hpa.Spec.Metrics[0].External.Target.Type != autoscalingv2.AverageValueMetricType || hpa.Spec.Metrics[0].External.Target.AverageValue.Value() != 2 {
		t.Fatalf("HPA metrics = %+v, want %s with AverageValue 2", hpa.Spec.Metrics, metric)
	}

	// The tube does not exist yet: the trigger is ready and inactive, not failing.
	s.holdReplicas(t, ns, "worker", 0, 3*time.Second)
	if so, err := s.scaledObject(context.Background(), ns, "worker"); err != nil || so.Status.Conditions.IsTrue(kedav1alpha1.ConditionActive) ||
		!so.Status.Conditions.IsTrue(kedav1alpha1.ConditionReady) {
		t.Fatalf("a tube beanstalkd does not know: the ScaledObject is active or not ready (%v): %+v", err, so.Status.Conditions)
	}

	// One job: 0 -> 1. A worker takes it; reserved, it still counts.
	producer := srv.Dial(t)
	if err := producer.Put("emails", 1, 0); err != nil {
		t.Fatal(err)
	}
	s.waitReplicas(t, ns, "worker", 1, 30*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetActivated, "from 0 to 1")
	worker := srv.Dial(t)
	held, err := worker.Reserve("emails", 1)
	if err != nil {
		t.Fatal(err)
	}
	s.holdReplicas(t, ns, "worker", 1, 3*time.Second)
	if v := s.externalMetric(t, ns, metric, "worker"); v != 1 {
		t.Errorf("external metric %s = %d with one reserved job, want 1", metric, v)
	}

	// Nineteen more, four of them delayed (counted with includeDelayed): 20 jobs / 2 = 10
	// workers, more than the maximum of 4.
	if err := producer.Put("emails", 15, 0); err != nil {
		t.Fatal(err)
	}
	if err := producer.Put("emails", 4, time.Hour); err != nil {
		t.Fatal(err)
	}
	s.waitReplicas(t, ns, "worker", 4, 60*time.Second)
	if v := s.externalMetric(t, ns, metric, "worker"); v != 20 {
		t.Errorf("external metric %s = %d, want 20", metric, v)
	}

	// Every job done: the ready and reserved ones deleted by the worker, the delayed ones kicked
	// and deleted too. Back to 0 after the cooldown.
	if err := worker.Delete(held[0]); err != nil {
		t.Fatal(err)
	}
	ids, err := worker.Reserve("emails", 15)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if err := worker.Delete(id); err != nil {
			t.Fatal(err)
		}
	}
	if err := producer.Kick("emails", 4); err != nil {
		t.Fatal(err)
	}
	if ids, err = worker.Reserve("emails", 4); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if err := worker.Delete(id); err != nil {
			t.Fatal(err)
		}
	}
	s.waitReplicas(t, ns, "worker", 0, 30*time.Second)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScaleTargetDeactivated, "from 4 to 0")
}

// TestBeanstalkdScaledJob: a ScaledJob reads the same metric (one Job per job in the tube, value
// 1), up to maxReplicaCount.
func TestBeanstalkdScaledJob(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	srv := beanstalkdserver.Start(t)
	ns := s.newNamespace(t, "beanstalkd-sj")
	s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledJob
metadata:
  name: mailers
spec:
  pollingInterval: 1
  maxReplicaCount: 5
  jobTargetRef:
    backoffLimit: 0
    template:
      metadata:
        labels:
          %s: %s
      spec:
        restartPolicy: Never
        containers:
          - name: mailer
            image: example.com/mailer:1
  triggers:
    - type: beanstalkd
      metadata:
        server: %s
        tube: outbox
        value: "1"
`, cluster.JobOutcomeLabel, cluster.JobOutcomeRun, srv.Addr))
	s.waitScaledJob(t, ns, "mailers", "Ready", func(sj *kedav1alpha1.ScaledJob) (bool, string) {
		c := sj.Status.Conditions.Get(kedav1alpha1.ConditionReady)
		return c != nil && c.Status == metav1.ConditionTrue, fmt.Sprintf("%+v", sj.Status)
	})
	producer := srv.Dial(t)
	if err := producer.Put("outbox", 2, 0); err != nil {
		t.Fatal(err)
	}
	s.waitJobs(t, ns, "mailers", "2 Jobs for 2 jobs in the tube", func(c jobCounts) bool { return c.unfinished == 2 })
	if err := producer.Put("outbox", 10, 0); err != nil {
		t.Fatal(err)
	}
	s.waitJobs(t, ns, "mailers", "5 Jobs (maxReplicaCount) for 12 jobs in the tube", func(c jobCounts) bool { return c.unfinished == 5 })
}
