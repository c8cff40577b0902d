package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/plugin/timeline"
)

// TestTimelineActivationAndRescale drives a ScaledObject with a Redis list the test fills, and
// checks through `kubectl keda timeline` that the operator's history is served through the
// aggregation layer and merged with the events: the activation names the trigger, the HPA's
// rescale names the metric and the trigger behind it, and trigger values appear.
func TestTimelineActivationAndRescale(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "timeline")
	list := "timeline-" + ns
	s.apply(t, ns, deployment("worker", 0, map[string]string{"REDIS_PASSWORD": redisPassword}))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
spec:
  scaleTargetRef:
    name: worker
  pollingInterval: 1
  cooldownPeriod: 300
  maxReplicaCount: 4
  triggers:
    - type: redis
      name: queue
      metadata:
        address: %s
        passwordFromEnv: REDIS_PASSWORD
        listName: %s
        listLength: "2"
        activationListLength: "1"
`, s.redis.Addr, list))
	s.waitReady(t, ns, "worker", "True")
	rc := s.redis.Client()
	defer rc.Close()
	if err := rc.RPush(context.Background(), list, "a", "b", "c", "d", "e", "f").Err(); err != nil {
		t.Fatal(err)
	}
	s.waitReplicas(t, ns, "worker", 3, 90*time.Second)

	var report struct {
		HistoryServed bool             `json:"historyServed"`
		Note          string           `json:"note"`
		Entries       []timeline.Entry `json:"entries"`
	}
	var last string
	eventually(t, 60*time.Second, "the timeline to show the activation by queue and the HPA's rescale", func(context.Context) (bool, string) {
		out, errOut, err := s.kubectlKeda(t, "timeline", "worker", "-n", ns, "-o", "json")
		if err != nil {
			return false, fmt.Sprintf("%v: %s", err, errOut)
		}
		last = out
		if err := json.Unmarshal([]byte(out), &report); err != nil {
			return false, err.Error()
		}
		var activated, rescaled, values bool
		for _, e := range report.Entries {
			switch {
			case e.Kind == timeline.KindActivated && e.Source == timeline.SourceOperator && e.Trigger == "queue":
				activated = true
			case e.Kind == timeline.KindRescaled && e.Metric == "s0-redis-"+list && e.Trigger == "queue" && e.ToReplicas != nil:
				rescaled = true
			case e.Kind == timeline.KindValues && strings.Contains(e.Message, "queue=6/2 (activation 1, active)"):
				values = true
			}
		}
		return report.HistoryServed && activated && rescaled && values,
			fmt.Sprintf("served=%v note=%q activated=%v rescaled=%v values=%v", report.HistoryServed, report.Note, activated, rescaled, values)
	})

	out, errOut, err := s.kubectlKeda(t, "history", "worker", "-n", ns, "--since", "10m")
	if err != nil {
		t.Fatalf("history: %v %s", err, errOut)
	}
	t.Logf("kubectl keda timeline worker:\n%s", out)
	for _, want := range []string{"TIME", "operator", "activated", "by queue: 0 -> 1 replicas", "hpa/keda-hpa-worker", "rescaled", "(trigger queue)"} {
		if !strings.Contains(out, want) {
			t.Errorf("timeline lacks %q:\n%s\njson was:\n%s", want, out, last)
		}
	}
	if strings.Contains(out, redisPassword) || strings.Contains(last, redisPassword) {
		t.Errorf("the timeline shows the Redis password")
	}
	if errOut != "" {
		t.Errorf("timeline printed a note with the history served: %q", errOut)
	}
}
