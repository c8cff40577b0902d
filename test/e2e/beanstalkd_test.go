package e2e

import (
	"fmt"
	"testing"
	"time"

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

	producer, worker := srv.Dial(t), srv.Dial(t)
	var held []uint64
	done := func(ids []uint64, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if err := worker.Delete(id); err != nil {
				t.Fatal(err)
			}
		}
	}
	s.runScalerJourney(t, scalerJourney{
		namespace:   "beanstalkd",
		triggerType: "beanstalkd",
		metadata: fmt.Sprintf(`server: %s
			tube: emails
			value: "2"
			includeDelayed: "true"`, srv.Addr),
		metric:       "s0-beanstalkd-emails",
		averageValue: 2,
		// The tube does not exist yet: the trigger is ready and inactive, not failing.
		idleHold: 3 * time.Second,
		set: func(t *testing.T, n int) {
			t.Helper()
			if n == 1 {
				if err := producer.Put("emails", 1, 0); err != nil {
					t.Fatal(err)
				}
				return
			}
			// Nineteen more, four of them delayed (counted with includeDelayed).
			if err := producer.Put("emails", 15, 0); err != nil {
				t.Fatal(err)
			}
			if err := producer.Put("emails", 4, time.Hour); err != nil {
				t.Fatal(err)
			}
		},
		// A worker takes the one job; reserved, it still counts.
		atOne: func(t *testing.T, ns string) {
			var err error
			if held, err = worker.Reserve("emails", 1); err != nil {
				t.Fatal(err)
			}
			s.holdReplicas(t, ns, "worker", 1, 3*time.Second)
		},
		// 20 jobs / 2 = 10 workers, more than the maximum of 4.
		one: 1, max: 20,
		// Every job done: the ready and reserved ones deleted by the worker, the delayed ones
		// kicked and deleted too.
		drain: func(t *testing.T) {
			done(held, nil)
			done(worker.Reserve("emails", 15))
			if err := producer.Kick("emails", 4); err != nil {
				t.Fatal(err)
			}
			done(worker.Reserve("emails", 4))
		},
	})
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
