package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kedactl/kedactl/api/v1alpha1"
)

// TestHPAConfigAndStatusFields: advanced.horizontalPodAutoscalerConfig names the HPA and its
// behavior reaches the HPA unchanged; the ScaledObject's labels are copied to the HPA except
// those listed in scaledobject.keda.sh/hpa-excluded-labels; status carries hpaName,
// triggersTypes, authenticationsTypes and triggersActivity as KEDA writes them, and the activation
// event names the trigger by its name.
func TestHPAConfigAndStatusFields(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "hpaconfig")
	list := "hpaconfig-" + ns
	s.redisAuthentications(t, ns, "hpaconfig-"+ns)
	s.apply(t, ns, deployment("worker", 0, nil))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
  labels:
    team: payments
    internal-only: "yes"
  annotations:
    scaledobject.keda.sh/hpa-excluded-labels: internal-only
spec:
  scaleTargetRef:
    name: worker
  pollingInterval: 1
  advanced:
    horizontalPodAutoscalerConfig:
      name: worker-autoscaler
      behavior:
        scaleDown:
          stabilizationWindowSeconds: 17
          policies:
            - type: Pods
              value: 2
              periodSeconds: 11
  triggers:
    - type: redis
      name: backlog
      authenticationRef:
        name: redis-auth
      metadata:
        address: %[1]s
        listName: %[2]s
    - type: cron
      metadata:
        timezone: Etc/UTC
        start: 0 0 1 1 *
        end: 0 1 1 1 *
        desiredReplicas: "1"
`, s.redis.Addr, list))
	rc := s.redis.Client()
	defer rc.Close()
	if err := rc.RPush(context.Background(), list, "a").Err(); err != nil {
		t.Fatal(err)
	}
	s.waitReplicas(t, ns, "worker", 1, 30*time.Second)

	eventually(t, 30*time.Second, "HPA worker-autoscaler as configured", func(ctx context.Context) (bool, string) {
		hpa, err := s.hpa(ctx, ns, "worker-autoscaler")
		if err != nil {
			return false, err.Error()
		}
		b := hpa.Spec.Behavior
		ok := b != nil && b.ScaleDown != nil && b.ScaleDown.StabilizationWindowSeconds != nil && *b.ScaleDown.StabilizationWindowSeconds == 17 &&
			len(b.ScaleDown.Policies) == 1 && b.ScaleDown.Policies[0].Value == 2 && b.ScaleDown.Policies[0].PeriodSeconds == 11
		_, excluded := hpa.Labels["internal-only"]
		return ok && hpa.Labels["team"] == "payments" && !excluded, fmt.Sprintf("behavior %+v labels %v", b, hpa.Labels)
	})
	if _, err := s.hpa(context.Background(), ns, "keda-hpa-worker"); err == nil {
		t.Error("the default HPA name keda-hpa-worker exists next to the configured one")
	}
	eventually(t, 30*time.Second, "status fields", func(ctx context.Context) (bool, string) {
		so, err := s.scaledObject(ctx, ns, "worker")
		if err != nil {
			return false, err.Error()
		}
		types, auths := "", ""
		if so.Status.TriggersTypes != nil {
			types = *so.Status.TriggersTypes
		}
		auths = so.Status.AuthenticationsTypes
		activity := so.Status.TriggersActivity["s0-redis-"+list]
		got := fmt.Sprintf("hpaName=%s triggersTypes=%s authenticationsTypes=%s activity=%+v", so.Status.HpaName, types, auths, so.Status.TriggersActivity)
		return so.Status.HpaName == "worker-autoscaler" && types == "redis,cron" && auths == "redis-auth" && activity.IsActive &&
			len(so.Status.TriggersActivity) == 2, got
	})
	// The activation event names the trigger by its name.
	s.waitEvent(t, ns, "worker", v1alpha1.EventKEDAScaleTargetActivated, "triggered by backlog")
}

// TestCustomHpaName is KEDA's custom_hpa_name: changing advanced.horizontalPodAutoscalerConfig.name
// of a running ScaledObject (from the default keda-hpa-<name> to a custom name, and back) creates
// the HPA under the new name and deletes the one under the old.
func TestCustomHpaName(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	so := func(hpaName string) string {
		advanced := ""
		if hpaName != "" {
			advanced = "  advanced:\n    horizontalPodAutoscalerConfig:\n      name: " + hpaName + "\n"
		}
		return `apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
spec:
  scaleTargetRef:
    name: worker
  minReplicaCount: 1
  maxReplicaCount: 1
  cooldownPeriod: 10
` + advanced + `  triggers:
    - type: cron
      metadata:
        timezone: Etc/UTC
        start: 0 0 1 1 *
        end: 0 1 1 1 *
        desiredReplicas: "1"
`
	}
	for _, c := range []struct{ name, first, second string }{
		{"default to custom", "", "worker-custom"},
		{"custom to default", "worker-custom", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ns := s.newNamespace(t, "hpaname")
			hpaName := func(custom string) string {
				if custom == "" {
					return "keda-hpa-worker"
				}
				return custom
			}
			s.apply(t, ns, deployment("worker", 1, nil))
			s.apply(t, ns, so(c.first))
			s.waitHPA(t, ns, hpaName(c.first), true)
			s.apply(t, ns, so(c.second))
			s.waitHPA(t, ns, hpaName(c.second), true)
			s.waitHPA(t, ns, hpaName(c.first), false)
			eventually(t, 30*time.Second, "status.hpaName "+hpaName(c.second), func(ctx context.Context) (bool, string) {
				obj, err := s.scaledObject(ctx, ns, "worker")
				if err != nil {
					return false, err.Error()
				}
				return obj.Status.HpaName == hpaName(c.second), obj.Status.HpaName
			})
		})
	}
}

// TestStatusUpdate is KEDA's status_update: status.triggersTypes lists each trigger type once in
// the order of the triggers (metrics-api, cron and cron give "metrics-api,cron") and
// status.authenticationsTypes names the TriggerAuthentication, on a ScaledObject and on a
// ScaledJob alike.
func TestStatusUpdate(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "statusupdate")
	api := startValueAPI(t, 0)
	s.apply(t, ns, `apiVersion: v1
kind: Secret
metadata:
  name: api-secret
stringData:
  username: user
  password: secret
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: api-auth
spec:
  secretTargetRef:
    - parameter: username
      name: api-secret
      key: username
    - parameter: password
      name: api-secret
      key: password
`)
	triggers := fmt.Sprintf(`  triggers:
    - type: metrics-api
      authenticationRef:
        name: api-auth
      metadata:
        url: %q
        valueLocation: value
        targetValue: "5"
        activationTargetValue: "20"
        authMode: basic
    - type: cron
      metadata:
        timezone: Asia/Kolkata
        start: 0 6 * * *
        end: 0 8 * * *
        desiredReplicas: "9"
    - type: cron
      metadata:
        timezone: Asia/Kolkata
        start: 0 22 * * *
        end: 0 23 * * *
        desiredReplicas: "9"
`, api.URL)
	s.apply(t, ns, deployment("worker", 0, nil))
	s.apply(t, ns, "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: worker\nspec:\n  scaleTargetRef:\n    name: worker\n  minReplicaCount: 0\n  maxReplicaCount: 2\n  cooldownPeriod: 1\n"+triggers)
	s.apply(t, ns, "apiVersion: keda.sh/v1alpha1\nkind: ScaledJob\nmetadata:\n  name: importer\nspec:\n  pollingInterval: 5\n  minReplicaCount: 0\n  maxReplicaCount: 2\n  successfulJobsHistoryLimit: 0\n  failedJobsHistoryLimit: 0\n  jobTargetRef:\n    template:\n      spec:\n        restartPolicy: Never\n        containers:\n          - name: importer\n            image: example.com/importer:1.0\n"+triggers)
	eventually(t, 30*time.Second, "triggersTypes and authenticationsTypes", func(ctx context.Context) (bool, string) {
		so, err := s.scaledObject(ctx, ns, "worker")
		if err != nil {
			return false, err.Error()
		}
		sj, err := s.scaledJob(ctx, ns, "importer")
		if err != nil {
			return false, err.Error()
		}
		got := fmt.Sprintf("ScaledObject %q %q, ScaledJob %q %q", ptrString(so.Status.TriggersTypes), so.Status.AuthenticationsTypes, ptrString(sj.Status.TriggersTypes), sj.Status.AuthenticationsTypes)
		return got == fmt.Sprintf("ScaledObject %q %q, ScaledJob %q %q", "metrics-api,cron", "api-auth", "metrics-api,cron", "api-auth"), got
	})
}

func ptrString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
