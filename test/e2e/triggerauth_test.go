package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// TestTriggerAuthenticationSecrets: the Redis password comes from a Secret through a
// TriggerAuthentication (secretTargetRef), through a ClusterTriggerAuthentication whose Secret
// lives in the cluster object namespace (keda), and from a ConfigMap (configMapTargetRef), as KEDA
// users write them; it never appears in the operator's log, events or status.
func TestTriggerAuthenticationSecrets(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "auth")
	list := "auth-" + ns
	ctaName := "redis-" + ns
	s.redisAuthentications(t, ns, ctaName)
	// KEDA allows parameters from a ConfigMap too (configMapTargetRef); here the password.
	s.apply(t, ns, fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: redis-config
data:
  password: %s
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: redis-cm-auth
spec:
  configMapTargetRef:
    - parameter: password
      name: redis-config
      key: password
`, redisPassword))
	for _, c := range []struct{ name, ref string }{
		{"namespaced", "name: redis-auth"},
		{"clustered", "name: " + ctaName + "\n        kind: ClusterTriggerAuthentication"},
		{"configmapped", "name: redis-cm-auth"},
	} {
		s.apply(t, ns, deployment(c.name, 0, nil))
		s.apply(t, ns, s.redisScaledObjectWithAuth(c.name, c.ref, list))
	}
	rc := s.redis.Client()
	defer rc.Close()
	if err := rc.RPush(context.Background(), list, "a").Err(); err != nil {
		t.Fatal(err)
	}
	s.waitReplicas(t, ns, "namespaced", 1, 30*time.Second)
	s.waitReplicas(t, ns, "clustered", 1, 30*time.Second)
	s.waitReplicas(t, ns, "configmapped", 1, 30*time.Second)
	s.waitEvent(t, ns, "redis-cm-auth", kedav1alpha1.EventTriggerAuthenticationAdded)
	so, err := s.scaledObject(context.Background(), ns, "clustered")
	if err != nil {
		t.Fatal(err)
	}
	if so.Status.AuthenticationsTypes != ctaName {
		t.Errorf("status.authenticationsTypes = %q", so.Status.AuthenticationsTypes)
	}

	eventually(t, 20*time.Second, "status.scaledobjects back-references", func(ctx context.Context) (bool, string) {
		ta := &kedav1alpha1.TriggerAuthentication{}
		cta := &kedav1alpha1.ClusterTriggerAuthentication{}
		if err := s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "redis-auth"}, ta); err != nil {
			return false, err.Error()
		}
		if err := s.env.Client.Get(ctx, client.ObjectKey{Name: ctaName}, cta); err != nil {
			return false, err.Error()
		}
		return ta.Status.ScaledObjectNamesStr == "namespaced" && cta.Status.ScaledObjectNamesStr == "clustered",
			fmt.Sprintf("ta %q cta %q", ta.Status.ScaledObjectNamesStr, cta.Status.ScaledObjectNamesStr)
	})

	// A changed Secret takes effect without a restart: a wrong password makes the trigger fail,
	// the right one heals it.
	health := func(want string) {
		t.Helper()
		eventually(t, 30*time.Second, "namespaced trigger "+want, func(ctx context.Context) (bool, string) {
			so, err := s.scaledObject(ctx, ns, "namespaced")
			if err != nil {
				return false, err.Error()
			}
			h := so.Status.Health["s0-redis-"+list]
			return string(h.Status) == want, fmt.Sprintf("%+v", so.Status.Health)
		})
	}
	s.apply(t, ns, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: redis-secret\nstringData:\n  password: not-the-password\n")
	health("Failing")
	s.apply(t, ns, fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: redis-secret\nstringData:\n  password: %s\n", redisPassword))
	health("Happy")
	s.checkNoLeak(t, ns, []string{"namespaced", "clustered", "configmapped"}, map[string]string{
		"password (secretTargetRef, ClusterTriggerAuthentication, configMapTargetRef)": redisPassword,
		"wrong password": "not-the-password",
	})

	// As KEDA's, the operator's finalizer is on the authentication, and its deletion is recorded.
	cm := &kedav1alpha1.TriggerAuthentication{}
	if err := s.env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "redis-cm-auth"}, cm); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(cm.Finalizers, kedav1alpha1.FinalizerName) {
		t.Errorf("TriggerAuthentication finalizers %v, want %s", cm.Finalizers, kedav1alpha1.FinalizerName)
	}
	if err := s.env.Client.Delete(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
	s.waitEvent(t, ns, "redis-cm-auth", kedav1alpha1.EventTriggerAuthenticationDeleted, "TriggerAuthentication was deleted")
	eventually(t, 30*time.Second, "the deleted TriggerAuthentication to go", func(ctx context.Context) (bool, string) {
		err := s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "redis-cm-auth"}, &kedav1alpha1.TriggerAuthentication{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
}

// TestUpdateTa is KEDA's update_ta: status.scaledobjects and status.scaledjobs of a
// TriggerAuthentication and a ClusterTriggerAuthentication list the ScaledObjects and ScaledJobs
// whose triggers refer to them, and an object drops out when its trigger stops referring to it or
// when it is deleted. Both kinds list names alone, as KEDA 2.21 writes them.
func TestUpdateTa(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "backrefs")
	ctaName := "backrefs-" + ns
	s.redisAuthentications(t, ns, ctaName)
	taRef := "name: redis-auth"
	ctaRef := "name: " + ctaName + "\n        kind: ClusterTriggerAuthentication"
	for _, name := range []string{"web", "api"} {
		s.apply(t, ns, deployment(name, 0, nil))
	}
	s.apply(t, ns, s.redisScaledObjectWithAuth("web", taRef, "backrefs"))
	s.apply(t, ns, s.redisScaledObjectWithAuth("api", ctaRef, "backrefs"))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledJob
metadata:
  name: importer
spec:
  jobTargetRef:
    template:
      spec:
        restartPolicy: Never
        containers:
          - name: importer
            image: example.com/importer:1.0
  triggers:
    - type: redis
      authenticationRef:
        %[1]s
      metadata:
        address: %[3]s
        listName: backrefs
    - type: redis
      authenticationRef:
        %[2]s
      metadata:
        address: %[3]s
        listName: backrefs
`, taRef, ctaRef, s.redis.Addr))

	want := func(what, taSO, taSJ, ctaSO, ctaSJ string) {
		t.Helper()
		eventually(t, 30*time.Second, what, func(ctx context.Context) (bool, string) {
			ta := &kedav1alpha1.TriggerAuthentication{}
			cta := &kedav1alpha1.ClusterTriggerAuthentication{}
			if err := s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "redis-auth"}, ta); err != nil {
				return false, err.Error()
			}
			if err := s.env.Client.Get(ctx, client.ObjectKey{Name: ctaName}, cta); err != nil {
				return false, err.Error()
			}
			got := fmt.Sprintf("ta %q/%q cta %q/%q", ta.Status.ScaledObjectNamesStr, ta.Status.ScaledJobNamesStr, cta.Status.ScaledObjectNamesStr, cta.Status.ScaledJobNamesStr)
			return got == fmt.Sprintf("ta %q/%q cta %q/%q", taSO, taSJ, ctaSO, ctaSJ), got
		})
	}
	want("both kinds list their users", "web", "importer", "api", "importer")

	// web now uses the cluster kind: the TriggerAuthentication no longer lists it.
	s.apply(t, ns, s.redisScaledObjectWithAuth("web", ctaRef, "backrefs"))
	want("an edited trigger moves web", "", "importer", "api,web", "importer")

	if err := s.env.Client.Delete(context.Background(), &kedav1alpha1.ScaledJob{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "importer"}}); err != nil {
		t.Fatal(err)
	}
	want("a deleted ScaledJob drops out", "", "", "api,web", "")

	if err := s.env.Client.Delete(context.Background(), &kedav1alpha1.ScaledObject{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "api"}}); err != nil {
		t.Fatal(err)
	}
	want("a deleted ScaledObject drops out", "", "", "web", "")
}

// redisAuthentications applies, with the Redis password, a Secret and TriggerAuthentication
// redis-auth in ns and a Secret (in the cluster object namespace keda) and
// ClusterTriggerAuthentication named ctaName, deleted when the test ends.
func (s *suite) redisAuthentications(t *testing.T, ns, ctaName string) {
	t.Helper()
	s.apply(t, ns, fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: redis-secret
stringData:
  password: %[1]s
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: redis-auth
spec:
  secretTargetRef:
    - parameter: password
      name: redis-secret
      key: password
`, redisPassword))
	s.apply(t, "keda", fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\nstringData:\n  password: %s\n", ctaName, redisPassword))
	s.apply(t, "", fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ClusterTriggerAuthentication
metadata:
  name: %[1]s
spec:
  secretTargetRef:
    - parameter: password
      name: %[1]s
      key: password
`, ctaName))
	t.Cleanup(func() {
		_ = s.env.Client.Delete(context.Background(), &kedav1alpha1.ClusterTriggerAuthentication{ObjectMeta: metav1.ObjectMeta{Name: ctaName}})
	})
}

// redisScaledObjectWithAuth scales Deployment name on the length of list of the suite's Redis, with the
// password from the authentication ref (the lines under authenticationRef), polled every second.
func (s *suite) redisScaledObjectWithAuth(name, ref, list string) string {
	return fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: %[1]s
spec:
  scaleTargetRef:
    name: %[1]s
  pollingInterval: 1
  triggers:
    - type: redis
      authenticationRef:
        %[2]s
      metadata:
        address: %[3]s
        listName: %[4]s
`, name, ref, s.redis.Addr, list)
}
