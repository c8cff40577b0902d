package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/test/env"
)

// newNamespace creates a namespace for one test and deletes it afterwards.
func (s *suite) newNamespace(t *testing.T, prefix string) string {
	t.Helper()
	return s.createNamespace(t, prefix, nil)
}

// newUnadmittedNamespace is a namespace the admission webhook stays out of, for tests of how the
// controller and the plugin report objects the webhook would refuse.
func (s *suite) newUnadmittedNamespace(t *testing.T, prefix string) string {
	t.Helper()
	return s.createNamespace(t, prefix, map[string]string{env.SkipAdmissionLabel: "skip"})
}

func (s *suite) createNamespace(t *testing.T, prefix string, labels map[string]string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: prefix + "-" + rand.String(5), Labels: labels}}
	if err := s.env.Client.Create(context.Background(), ns); err != nil {
		t.Fatalf("failed to create namespace: %v", err)
	}
	t.Cleanup(func() { _ = s.env.Client.Delete(context.Background(), ns) })
	return ns.Name
}

func (s *suite) apply(t *testing.T, ns, doc string) {
	t.Helper()
	if err := s.env.ApplyYAML(context.Background(), ns, doc); err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond every 200ms until it returns true, failing the test after timeout with
// the last description cond gave.
func eventually(t *testing.T, timeout time.Duration, what string, cond func(ctx context.Context) (bool, string)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	last := ""
	for {
		ok, desc := cond(ctx)
		if ok {
			return
		}
		last = desc
		select {
		case <-ctx.Done():
			t.Fatalf("timed out after %s waiting for %s; last seen: %s", timeout, what, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (s *suite) replicas(ctx context.Context, ns, name string) (int32, error) {
	sc, err := s.env.Kube.AppsV1().Deployments(ns).GetScale(ctx, name, metav1.GetOptions{})
	if err != nil {
		return 0, err
	}
	return sc.Spec.Replicas, nil
}

func (s *suite) waitReplicas(t *testing.T, ns, name string, want int32, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, fmt.Sprintf("deployment %s/%s at %d replicas", ns, name, want), func(ctx context.Context) (bool, string) {
		got, err := s.replicas(ctx, ns, name)
		if err != nil {
			return false, err.Error()
		}
		return got == want, fmt.Sprintf("%d replicas; %s", got, s.describeHPAs(ctx, ns))
	})
}

// holdReplicas checks that the deployment stays at want for d.
func (s *suite) holdReplicas(t *testing.T, ns, name string, want int32, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		got, err := s.replicas(context.Background(), ns, name)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("deployment %s/%s went to %d replicas, want it held at %d", ns, name, got, want)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// describeHPAs summarises the HPAs of ns for failure messages.
func (s *suite) describeHPAs(ctx context.Context, ns string) string {
	list, err := s.env.Kube.AutoscalingV2().HorizontalPodAutoscalers(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, h := range list.Items {
		fmt.Fprintf(&b, "HPA %s desired=%d", h.Name, h.Status.DesiredReplicas)
		for _, c := range h.Status.Conditions {
			fmt.Fprintf(&b, " [%s=%s %s: %s]", c.Type, c.Status, c.Reason, c.Message)
		}
	}
	return b.String()
}

func (s *suite) scaledObject(ctx context.Context, ns, name string) (*kedav1alpha1.ScaledObject, error) {
	so := &kedav1alpha1.ScaledObject{}
	err := s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, so)
	return so, err
}

// waitReady waits for the Ready condition to have status want and returns the object.
func (s *suite) waitReady(t *testing.T, ns, name string, want metav1.ConditionStatus) *kedav1alpha1.ScaledObject {
	t.Helper()
	var so *kedav1alpha1.ScaledObject
	eventually(t, 30*time.Second, fmt.Sprintf("ScaledObject %s/%s Ready=%s", ns, name, want), func(ctx context.Context) (bool, string) {
		var err error
		so, err = s.scaledObject(ctx, ns, name)
		if err != nil {
			return false, err.Error()
		}
		c := so.Status.Conditions.Get(kedav1alpha1.ConditionReady)
		if c == nil {
			return false, "no Ready condition"
		}
		return c.Status == want, fmt.Sprintf("%+v", *c)
	})
	return so
}

func (s *suite) hpa(ctx context.Context, ns, name string) (*autoscalingv2.HorizontalPodAutoscaler, error) {
	return s.env.Kube.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, name, metav1.GetOptions{})
}

// waitEvent waits for an event on the named object with the given reason whose message contains
// every one of parts.
func (s *suite) waitEvent(t *testing.T, ns, objName, reason string, parts ...string) {
	t.Helper()
	eventually(t, 30*time.Second, fmt.Sprintf("event %s on %s mentioning %q", reason, objName, parts), func(ctx context.Context) (bool, string) {
		list, err := s.env.Kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		var seen []string
		for _, ev := range list.Items {
			if ev.InvolvedObject.Name != objName {
				continue
			}
			seen = append(seen, ev.Reason+": "+ev.Message)
			if ev.Reason != reason {
				continue
			}
			all := true
			for _, p := range parts {
				all = all && strings.Contains(ev.Message, p)
			}
			if all {
				return true, ""
			}
		}
		return false, strings.Join(seen, " | ")
	})
}

func (s *suite) waitGone(t *testing.T, what string, get func(ctx context.Context) error) {
	t.Helper()
	eventually(t, 60*time.Second, what+" to be deleted", func(ctx context.Context) (bool, string) {
		err := get(ctx)
		if apierrors.IsNotFound(err) {
			return true, ""
		}
		if err != nil {
			return false, err.Error()
		}
		return false, "still there"
	})
}

// deployment is a Deployment manifest for a worker whose pods kwok fakes.
func deployment(name string, replicas int, env map[string]string) string {
	var envYAML strings.Builder
	for k, v := range env {
		fmt.Fprintf(&envYAML, "\n            - name: %s\n              value: %q", k, v)
	}
	envBlock := ""
	if envYAML.Len() > 0 {
		envBlock = "\n          env:" + envYAML.String()
	}
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
spec:
  replicas: %[2]d
  selector:
    matchLabels:
      app: %[1]s
  template:
    metadata:
      labels:
        app: %[1]s
    spec:
      containers:
        - name: worker
          image: example.com/worker:1.0%[3]s
`, name, replicas, envBlock)
}

// foreignHPA is an HPA made by hand (not by a ScaledObject) that scales the Deployment target.
func foreignHPA(name, target string) string {
	return fmt.Sprintf(`apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: %s
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: %s
  minReplicas: 1
  maxReplicas: 3
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 50
`, name, target)
}

// checkCooldown fails when the target went to zero sooner after its source drained than the
// cooldown allows. The cooldown runs from the last poll that saw the source active, which may come
// up to slack before the drain the test sees (one polling interval, plus a scrape interval for a
// source that samples).
func checkCooldown(t *testing.T, drained time.Time, cooldown, slack time.Duration) {
	t.Helper()
	if took := time.Since(drained); took < cooldown-slack {
		t.Errorf("deactivated %s after the source drained, before the %s cooldown (less %s)", took.Round(time.Millisecond), cooldown, slack)
	}
}
