package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/plugin/commands"
	"github.com/kedactl/kedactl/plugin/view"
)

// kubectlKeda runs `kubectl keda args...` in process against the local cluster.
func (s *suite) kubectlKeda(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := commands.NewRootCommand(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, nil)
	root.SetArgs(append([]string{"--kubeconfig", s.env.Cluster.KubeconfigPath()}, args...))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := root.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

// TestPluginTopMetricsPauseResume drives the plugin's commands against a live ScaledObject: top and
// metrics show the value the HPA sees and follow the Redis list; pause and resume write and remove
// KEDA's annotations; --dry-run prints the patch without sending it.
func TestPluginTopMetricsPauseResume(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "plugin")
	list := "plugin-" + ns
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
  maxReplicaCount: 3
  triggers:
    - type: redis
      metadata:
        address: %s
        passwordFromEnv: REDIS_PASSWORD
        listName: %s
        listLength: "10"
        activationListLength: "2"
`, s.redis.Addr, list))
	s.waitReady(t, ns, "worker", "True")
	metric := "s0-redis-" + list

	topRow := func(t *testing.T) view.TriggerRow {
		t.Helper()
		out, errOut, err := s.kubectlKeda(t, "top", "worker", "-n", ns, "-o", "json")
		if err != nil {
			t.Fatalf("top: %v %s", err, errOut)
		}
		var list struct{ Items []view.TriggerRow }
		if err := json.Unmarshal([]byte(out), &list); err != nil || len(list.Items) != 1 {
			t.Fatalf("top -o json = %s (%v)", out, err)
		}
		return list.Items[0]
	}
	eventually(t, 20*time.Second, "top to show 0", func(context.Context) (bool, string) {
		r := topRow(t)
		return r.Value == "0" && r.TargetValue == "10 (avg)" && r.Activation == "2", fmt.Sprintf("%+v", r)
	})

	rc := s.redis.Client()
	defer rc.Close()
	if err := rc.RPush(context.Background(), list, "a", "b", "c", "d").Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "top to follow the list to 4 and activate", func(context.Context) (bool, string) {
		r := topRow(t)
		return r.Value == "4" && r.Active == "true" && r.Metric == metric, fmt.Sprintf("%+v", r)
	})
	out, _, err := s.kubectlKeda(t, "top", "-n", ns)
	if err != nil || !strings.Contains(out, "SCALEDOBJECT") || !strings.Contains(out, "Deployment/worker") {
		t.Errorf("top table = %q (%v)", out, err)
	}

	out, _, err = s.kubectlKeda(t, "metrics", "worker", "-n", ns)
	if err != nil || !strings.Contains(out, metric) || !strings.Contains(out, "\t") && !strings.Contains(out, " 4 ") {
		t.Errorf("metrics = %q (%v)", out, err)
	}
	out, _, err = s.kubectlKeda(t, "metrics", "worker", metric, "-n", ns, "--raw")
	if err != nil || !strings.Contains(out, `"kind":"ExternalMetricValueList"`) {
		t.Errorf("metrics --raw = %q (%v)", out, err)
	}

	out, _, err = s.kubectlKeda(t, "pause", "worker", "-n", ns, "--replicas", "2", "--dry-run=client")
	if err != nil || !strings.Contains(out, `"autoscaling.keda.sh/paused-replicas":"2"`) {
		t.Fatalf("pause --dry-run=client = %q (%v)", out, err)
	}
	if so, _ := s.scaledObject(context.Background(), ns, "worker"); so.Annotations[kedav1alpha1.AnnotationPausedReplicas] != "" {
		t.Fatal("--dry-run=client changed the object")
	}
	if _, _, err := s.kubectlKeda(t, "pause", "worker", "-n", ns, "--dry-run=server"); err != nil {
		t.Fatalf("pause --dry-run=server: %v", err)
	}
	if so, _ := s.scaledObject(context.Background(), ns, "worker"); so.Annotations[kedav1alpha1.AnnotationPaused] != "" {
		t.Fatal("--dry-run=server changed the object")
	}
	if _, _, err := s.kubectlKeda(t, "pause", "worker", "-n", ns); err != nil {
		t.Fatal(err)
	}
	so, _ := s.scaledObject(context.Background(), ns, "worker")
	if so.Annotations[kedav1alpha1.AnnotationPaused] != "true" {
		t.Fatalf("annotations after pause = %v", so.Annotations)
	}
	if _, _, err := s.kubectlKeda(t, "resume", "worker", "-n", ns); err != nil {
		t.Fatal(err)
	}
	so, _ = s.scaledObject(context.Background(), ns, "worker")
	for _, a := range []string{kedav1alpha1.AnnotationPaused, kedav1alpha1.AnnotationPausedReplicas, kedav1alpha1.AnnotationPausedScaleIn, kedav1alpha1.AnnotationPausedScaleOut} {
		if _, ok := so.Annotations[a]; ok {
			t.Errorf("resume left %s", a)
		}
	}

	if _, _, err := s.kubectlKeda(t, "pause", "worker", "-n", ns, "--scale-in", "--scale-out"); err == nil || !strings.Contains(err.Error(), "--scale-in and --scale-out") {
		t.Errorf("conflicting flags error = %v", err)
	}
	if _, _, err := s.kubectlKeda(t, "top", "missing", "-n", ns); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("top of a missing object error = %v", err)
	}
}
