package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// TestPausedScaleInAndOut: autoscaling.keda.sh/paused-scale-in holds the target up when the source
// drains (neither the HPA nor deactivation scales it in) while scale-out still works, and
// paused-scale-out keeps it down when the source fills (neither activation nor the HPA scales it
// out) while scale-in still works. Each direction is one annotation on a running ScaledObject.
func TestPausedScaleInAndOut(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "direction")
	list := "dir-" + ns
	ctx := context.Background()
	s.apply(t, ns, deployment("dir", 0, map[string]string{"REDIS_PASSWORD": redisPassword}))
	s.apply(t, ns, s.redisScaledObject("dir", list, "  cooldownPeriod: 3\n  maxReplicaCount: 6\n"))
	s.waitReady(t, ns, "dir", metav1.ConditionTrue)
	annotate := func(patch string) {
		t.Helper()
		so := &kedav1alpha1.ScaledObject{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "dir"}}
		if err := s.env.Client.Patch(ctx, so, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
			t.Fatalf("annotating: %v", err)
		}
	}
	selectPolicy := func(up bool) autoscalingv2.ScalingPolicySelect {
		h, err := s.hpa(ctx, ns, "keda-hpa-dir")
		if err != nil || h.Spec.Behavior == nil {
			return ""
		}
		rules := h.Spec.Behavior.ScaleDown
		if up {
			rules = h.Spec.Behavior.ScaleUp
		}
		if rules == nil || rules.SelectPolicy == nil {
			return ""
		}
		return *rules.SelectPolicy
	}
	rc := s.redis.Client()
	defer rc.Close()

	// Scale-in paused: 6 items take the target to 3, draining keeps it at 3.
	annotate(`{"metadata":{"annotations":{"autoscaling.keda.sh/paused-scale-in":"true"}}}`)
	eventually(t, 20*time.Second, "HPA scale-down disabled", func(context.Context) (bool, string) {
		p := selectPolicy(false)
		return p == autoscalingv2.DisabledPolicySelect, fmt.Sprintf("scaleDown.selectPolicy %q", p)
	})
	if err := rc.RPush(ctx, list, "1", "2", "3", "4", "5", "6").Err(); err != nil {
		t.Fatal(err)
	}
	s.waitReplicas(t, ns, "dir", 3, 60*time.Second)
	if err := rc.Del(ctx, list).Err(); err != nil {
		t.Fatal(err)
	}
	s.holdReplicas(t, ns, "dir", 3, 10*time.Second) // well past the 3 s cooldown and the HPA's sync

	// Scale-out paused instead: the drained source now takes the target to 0 ...
	annotate(`{"metadata":{"annotations":{"autoscaling.keda.sh/paused-scale-in":null,"autoscaling.keda.sh/paused-scale-out":"true"}}}`)
	eventually(t, 20*time.Second, "HPA scale-up disabled", func(context.Context) (bool, string) {
		p := selectPolicy(true)
		return p == autoscalingv2.DisabledPolicySelect, fmt.Sprintf("scaleUp.selectPolicy %q", p)
	})
	s.waitReplicas(t, ns, "dir", 0, 60*time.Second)
	// ... and a full source does not bring it back.
	if err := rc.RPush(ctx, list, "1", "2", "3", "4", "5", "6").Err(); err != nil {
		t.Fatal(err)
	}
	s.holdReplicas(t, ns, "dir", 0, 8*time.Second)
	s.waitEvent(t, ns, "dir", "KEDAScaleTargetDeactivated")

	// Both lifted: the full source activates it again.
	annotate(`{"metadata":{"annotations":{"autoscaling.keda.sh/paused-scale-out":null}}}`)
	s.waitReplicas(t, ns, "dir", 3, 60*time.Second)
}
