package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// TestPauseHoldsReplicasAndResumeRestores: `kubectl keda pause` freezes the target (the HPA goes
// away), `pause --replicas N` scales to N and holds it, `resume` brings the HPA and scaling back.
func TestPauseHoldsReplicasAndResumeRestores(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "pause")
	list := "pause-" + ns
	rc := s.redis.Client()
	defer rc.Close()
	ctx := context.Background()
	if err := rc.RPush(ctx, list, "1", "2", "3", "4").Err(); err != nil {
		t.Fatal(err)
	}
	s.apply(t, ns, deployment("worker", 0, map[string]string{"REDIS_PASSWORD": redisPassword}))
	s.apply(t, ns, s.redisScaledObject("worker", list, "  cooldownPeriod: 300\n  maxReplicaCount: 3\n"))
	s.waitReplicas(t, ns, "worker", 2, 40*time.Second)

	if _, errOut, err := s.kubectlKeda(t, "pause", "worker", "-n", ns); err != nil {
		t.Fatalf("pause: %v %s", err, errOut)
	}
	s.waitGone(t, "HPA keda-hpa-worker while paused", func(ctx context.Context) error {
		_, err := s.hpa(ctx, ns, "keda-hpa-worker")
		return err
	})
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventScaledObjectPaused)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScalersStopped, "Stopped scalers watch")
	if err := rc.RPush(ctx, list, "5", "6", "7", "8", "9", "10").Err(); err != nil {
		t.Fatal(err)
	}
	s.holdReplicas(t, ns, "worker", 2, 5*time.Second)
	so, _ := s.scaledObject(ctx, ns, "worker")
	if c := so.Status.Conditions.Get(kedav1alpha1.ConditionPaused); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Paused condition = %+v", c)
	}

	if _, errOut, err := s.kubectlKeda(t, "pause", "worker", "-n", ns, "--replicas", "0"); err != nil {
		t.Fatalf("pause --replicas 0: %v %s", err, errOut)
	}
	s.waitReplicas(t, ns, "worker", 0, 20*time.Second)
	s.holdReplicas(t, ns, "worker", 0, 4*time.Second)
	eventually(t, 10*time.Second, "status.pausedReplicaCount 0", func(ctx context.Context) (bool, string) {
		so, err := s.scaledObject(ctx, ns, "worker")
		if err != nil {
			return false, err.Error()
		}
		return so.Status.PausedReplicaCount != nil && *so.Status.PausedReplicaCount == 0, fmt.Sprint(so.Status.PausedReplicaCount)
	})

	if _, errOut, err := s.kubectlKeda(t, "resume", "worker", "-n", ns); err != nil {
		t.Fatalf("resume: %v %s", err, errOut)
	}
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventScaledObjectUnpaused)
	eventually(t, 20*time.Second, "the HPA to come back", func(ctx context.Context) (bool, string) {
		_, err := s.hpa(ctx, ns, "keda-hpa-worker")
		return err == nil, fmt.Sprint(err)
	})
	s.waitReplicas(t, ns, "worker", 3, 60*time.Second)
	so, _ = s.scaledObject(ctx, ns, "worker")
	if so.Status.PausedReplicaCount != nil || so.Status.Conditions.IsTrue(kedav1alpha1.ConditionPaused) {
		t.Errorf("after resume: pausedReplicaCount=%v paused=%+v", so.Status.PausedReplicaCount, so.Status.Conditions.Get(kedav1alpha1.ConditionPaused))
	}
}

// TestPauseScaledobject is KEDA's pause_scaledobject: autoscaling.keda.sh/paused-replicas holds the
// target at that count whatever its source says (0 while the source asks for 1, 5 while it asks
// for 0), and removing it hands the target back to scaling (to max 1, then to 0).
func TestPauseScaledobject(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "pauseso")
	s.apply(t, ns, deployment("monitored", 0, nil))
	s.apply(t, ns, deployment("worker", 0, nil))
	s.apply(t, ns, workloadScaledObject("worker", "monitored", "", "  minReplicaCount: 0\n  maxReplicaCount: 1\n  cooldownPeriod: 5\n"))
	s.waitReady(t, ns, "worker", metav1.ConditionTrue)
	s.waitReplicas(t, ns, "worker", 0, 60*time.Second)

	s.annotate(t, ns, "worker", map[string]*string{kedav1alpha1.AnnotationPausedReplicas: set("0")})
	s.waitHPA(t, ns, "keda-hpa-worker", false)
	s.scaleDeployment(t, ns, "monitored", 2)
	s.holdReplicas(t, ns, "worker", 0, 10*time.Second)

	s.annotate(t, ns, "worker", map[string]*string{kedav1alpha1.AnnotationPausedReplicas: unset})
	s.waitReplicas(t, ns, "worker", 1, 60*time.Second)

	s.annotate(t, ns, "worker", map[string]*string{kedav1alpha1.AnnotationPausedReplicas: set("5")})
	s.scaleDeployment(t, ns, "monitored", 0)
	s.waitReplicas(t, ns, "worker", 5, 60*time.Second)
	s.holdReplicas(t, ns, "worker", 5, 8*time.Second)

	s.annotate(t, ns, "worker", map[string]*string{kedav1alpha1.AnnotationPausedReplicas: unset})
	s.waitReplicas(t, ns, "worker", 0, 60*time.Second)
}

// TestPauseScaledobjectExplicitly is KEDA's pause_scaledobject_explicitly, once for each way of
// lifting autoscaling.keda.sh/paused (removing it, setting it to "false"): paused freezes the
// target where it is, going up or down; with paused-replicas as well the target goes to that
// count, in whichever order the two arrive; while either pause holds there is no HPA, and paused
// takes precedence over paused-scale-in and paused-scale-out, whichever came first; a new
// paused-replicas value is followed; switching from paused-replicas to paused keeps the replicas.
func TestPauseScaledobjectExplicitly(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	for _, c := range []struct {
		name    string
		unpause *string
	}{{"annotation removed", unset}, {"annotation false", set("false")}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ns := s.newNamespace(t, "pauseexplicit")
			const hpa = "keda-hpa-worker"
			s.apply(t, ns, deployment("monitored", 0, nil))
			s.apply(t, ns, deployment("worker", 0, nil))
			s.apply(t, ns, workloadScaledObject("worker", "monitored", "", "  minReplicaCount: 0\n  maxReplicaCount: 10\n  cooldownPeriod: 1\n"))
			s.waitReady(t, ns, "worker", metav1.ConditionTrue)
			s.waitReplicas(t, ns, "worker", 0, 60*time.Second)
			annotate := func(key string, value *string) {
				t.Helper()
				s.annotate(t, ns, "worker", map[string]*string{key: value})
			}

			// Paused on the way up: the target stays at 0; lifted, it follows the source to 5.
			annotate(kedav1alpha1.AnnotationPaused, set("true"))
			s.waitHPA(t, ns, hpa, false)
			s.scaleDeployment(t, ns, "monitored", 2)
			s.holdReplicas(t, ns, "worker", 0, 8*time.Second)
			annotate(kedav1alpha1.AnnotationPaused, c.unpause)
			s.scaleDeployment(t, ns, "monitored", 5)
			s.waitReplicas(t, ns, "worker", 5, 60*time.Second)

			// Paused on the way down: the target stays at 5; lifted, it goes to 0.
			annotate(kedav1alpha1.AnnotationPaused, set("true"))
			s.waitHPA(t, ns, hpa, false)
			s.scaleDeployment(t, ns, "monitored", 0)
			s.holdReplicas(t, ns, "worker", 5, 8*time.Second)
			annotate(kedav1alpha1.AnnotationPaused, c.unpause)
			s.waitReplicas(t, ns, "worker", 0, 60*time.Second)

			// Both pauses, paused first: paused-replicas decides the count.
			annotate(kedav1alpha1.AnnotationPaused, set("true"))
			s.waitHPA(t, ns, hpa, false)
			annotate(kedav1alpha1.AnnotationPausedReplicas, set("5"))
			s.scaleDeployment(t, ns, "monitored", 10)
			s.waitReplicas(t, ns, "worker", 5, 60*time.Second)
			annotate(kedav1alpha1.AnnotationPaused, unset)
			annotate(kedav1alpha1.AnnotationPausedReplicas, unset)
			s.waitReplicas(t, ns, "worker", 10, 60*time.Second)
			s.scaleDeployment(t, ns, "monitored", 0)
			s.waitReplicas(t, ns, "worker", 0, 60*time.Second)
			// ... and paused-replicas first.
			annotate(kedav1alpha1.AnnotationPausedReplicas, set("5"))
			s.waitHPA(t, ns, hpa, false)
			annotate(kedav1alpha1.AnnotationPaused, set("true"))
			s.scaleDeployment(t, ns, "monitored", 10)
			s.waitReplicas(t, ns, "worker", 5, 60*time.Second)
			s.holdReplicas(t, ns, "worker", 5, 4*time.Second)

			// No HPA while paused, nor while paused-replicas alone holds.
			annotate(kedav1alpha1.AnnotationPaused, unset)
			annotate(kedav1alpha1.AnnotationPausedReplicas, set("3"))
			s.waitReplicas(t, ns, "worker", 3, 60*time.Second)
			if _, err := s.hpa(context.Background(), ns, hpa); !apierrors.IsNotFound(err) {
				t.Errorf("HPA while paused-replicas holds: %v, want not found", err)
			}
			annotate(kedav1alpha1.AnnotationPausedReplicas, unset)
			s.waitHPA(t, ns, hpa, true)

			// paused takes precedence over paused-scale-in and paused-scale-out, whichever came first.
			for _, direction := range []string{kedav1alpha1.AnnotationPausedScaleIn, kedav1alpha1.AnnotationPausedScaleOut} {
				annotate(direction, set("true"))
				s.waitHPA(t, ns, hpa, true)
				annotate(kedav1alpha1.AnnotationPaused, set("true"))
				s.waitHPA(t, ns, hpa, false)
				annotate(kedav1alpha1.AnnotationPaused, unset)
				annotate(direction, unset)
				s.waitHPA(t, ns, hpa, true)

				annotate(kedav1alpha1.AnnotationPaused, set("true"))
				s.waitHPA(t, ns, hpa, false)
				annotate(direction, set("true"))
				holdNoHPA(t, s, ns, hpa, 3*time.Second)
				annotate(direction, unset)
				annotate(kedav1alpha1.AnnotationPaused, unset)
				s.waitHPA(t, ns, hpa, true)
			}

			// A new paused-replicas value is followed.
			annotate(kedav1alpha1.AnnotationPausedReplicas, set("3"))
			s.waitReplicas(t, ns, "worker", 3, 60*time.Second)
			annotate(kedav1alpha1.AnnotationPausedReplicas, set("7"))
			s.waitReplicas(t, ns, "worker", 7, 60*time.Second)
			annotate(kedav1alpha1.AnnotationPausedReplicas, unset)
			s.waitHPA(t, ns, hpa, true)

			// From paused-replicas to paused: the replicas stay where paused-replicas put them.
			annotate(kedav1alpha1.AnnotationPausedReplicas, set("5"))
			s.waitReplicas(t, ns, "worker", 5, 60*time.Second)
			// One edit (kubectl annotate with both), so that no unpaused moment lets the HPA in.
			s.annotate(t, ns, "worker", map[string]*string{kedav1alpha1.AnnotationPausedReplicas: unset, kedav1alpha1.AnnotationPaused: set("true")})
			s.waitHPA(t, ns, hpa, false)
			s.holdReplicas(t, ns, "worker", 5, 8*time.Second)
			annotate(kedav1alpha1.AnnotationPaused, unset)
			s.scaleDeployment(t, ns, "monitored", 0)
			s.waitReplicas(t, ns, "worker", 0, 60*time.Second)
		})
	}
}

// holdNoHPA fails if the HPA name appears within d.
func holdNoHPA(t *testing.T, s *suite, ns, name string, d time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if _, err := s.hpa(context.Background(), ns, name); !apierrors.IsNotFound(err) {
			t.Fatalf("HPA %s/%s while paused: %v, want not found", ns, name, err)
		}
	}
}
