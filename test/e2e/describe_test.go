package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/plugin/commands"
)

// TestDescribeNamesTheRealCause builds broken set-ups and checks that `kubectl keda describe`
// names each one's cause as its first finding.
func TestDescribeNamesTheRealCause(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newUnadmittedNamespace(t, "why")
	rc := s.redis.Client()
	defer rc.Close()
	if err := rc.RPush(context.Background(), "why-one-item-"+ns, "x").Err(); err != nil {
		t.Fatal(err)
	}
	redisTrigger := func(list, extra string) string {
		return fmt.Sprintf(`    - type: redis
      metadata:
        address: %s
        passwordFromEnv: REDIS_PASSWORD
        listName: %s
%s`, s.redis.Addr, list, extra)
	}
	so := func(name, target, triggers, annotations string) string {
		return fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: %s
%s
spec:
  scaleTargetRef:
    name: %s
  pollingInterval: 1
  triggers:
%s`, name, annotations, target, triggers)
	}
	env := map[string]string{"REDIS_PASSWORD": redisPassword}
	for _, d := range []string{"shared", "fought", "idle", "paused", "broken-source", "bad-type"} {
		s.apply(t, ns, deployment(d, 1, env))
	}
	s.apply(t, ns, deployment("bad-password", 1, map[string]string{"REDIS_PASSWORD": "not-" + redisPassword}))
	s.apply(t, ns, deployment("idle", 0, env))
	s.apply(t, ns, foreignHPA("hand-made", "fought"))
	cases := []struct {
		name     string
		manifest string
		want     string
	}{
		{"missing-target", so("missing-target", "ghost", redisTrigger("a", ""), ""), "Not ready: ScaleTargetNotFound"},
		{"bad-type", so("bad-type", "bad-type", "    - type: no-such-scaler\n      metadata:\n        a: b\n", ""), "Not ready: TriggerError"},
		{"paused", so("paused", "paused", redisTrigger("b", ""), "  annotations:\n    autoscaling.keda.sh/paused: \"true\""), "Paused"},
		{"broken-source", so("broken-source", "broken-source", "    - type: redis\n      metadata:\n        address: 127.0.0.1:1\n        listName: c\n", ""), "Trigger failing: s0-redis-c (source unreachable)"},
		{"bad-password", so("bad-password", "bad-password", redisTrigger("f", ""), ""), "Trigger failing: s0-redis-f (credentials refused)"},
		{"fought", so("fought", "fought", redisTrigger("d", ""), ""), "A foreign HPA scales the same target"},
		{"shared-1", so("shared-1", "shared", redisTrigger("e", ""), ""), "Another ScaledObject scales the same target"},
		{"shared-2", so("shared-2", "shared", redisTrigger("e", ""), ""), "Another ScaledObject scales the same target"},
		{"idle", so("idle", "idle", redisTrigger("why-one-item-"+ns, "        activationListLength: \"5\"\n"), ""), "No trigger active"},
	}
	for _, c := range cases {
		s.apply(t, ns, c.manifest)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var last string
			eventually(t, 40*time.Second, "describe to name "+c.want, func(context.Context) (bool, string) {
				out, errOut, err := s.kubectlKeda(t, "describe", c.name, "-n", ns, "-o", "json")
				if err != nil {
					return false, err.Error() + errOut
				}
				var d commands.Description
				if err := json.Unmarshal([]byte(out), &d); err != nil || len(d.Findings) == 0 {
					return false, out
				}
				last = out
				return strings.Contains(d.Findings[0].Title, c.want), fmt.Sprintf("%+v", d.Findings)
			})
			text, _, err := s.kubectlKeda(t, "why", c.name, "-n", ns)
			if err != nil || !strings.Contains(text, c.want) || !strings.Contains(text, "Events:") {
				t.Errorf("why text = %q (%v); json was %s", text, err, last)
			}
		})
	}
}
