package view

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// TestTriggerTableFromKEDAStatus reads a ScaledObject whose status is written as upstream KEDA
// writes it, so the plugin is known to read KEDA's objects.
func TestTriggerTableFromKEDAStatus(t *testing.T) {
	data, err := os.ReadFile("testdata/keda-scaledobject.yaml")
	if err != nil {
		t.Fatal(err)
	}
	so := &kedav1alpha1.ScaledObject{}
	if err := yaml.UnmarshalStrict(data, so); err != nil {
		t.Fatal(err)
	}
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{Metrics: []autoscalingv2.MetricSpec{
			{External: &autoscalingv2.ExternalMetricSource{Metric: autoscalingv2.MetricIdentifier{Name: "s0-redis-orders"}, Target: autoscalingv2.MetricTarget{AverageValue: resource.NewQuantity(5, resource.DecimalSI)}}},
			{External: &autoscalingv2.ExternalMetricSource{Metric: autoscalingv2.MetricIdentifier{Name: "s1-cron-Europe-Paris-08xxx-018xxx"}, Target: autoscalingv2.MetricTarget{AverageValue: resource.NewQuantity(1, resource.DecimalSI)}}},
		}},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{DesiredReplicas: 3},
	}
	scale := &autoscalingv1.Scale{Status: autoscalingv1.ScaleStatus{Replicas: 2}}
	in := Inputs{ScaledObject: so, HPA: hpa, Scale: scale,
		Values: map[string]string{"s0-redis-orders": "12"},
		Errors: map[string]error{"s1-cron-Europe-Paris-08xxx-018xxx": errors.New("unavailable")}}
	rows := TriggerRows(in)
	for _, tc := range []struct {
		name          string
		allNamespaces bool
		wide          bool
	}{{"top.golden", false, false}, {"top-wide-all.golden", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := PrintTriggerTable(&buf, rows, tc.allNamespaces, tc.wide); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, buf.Bytes())
		})
	}
	if rows[0].Activation != "1" || rows[0].Active != "true" || rows[1].Health != "Failing(4)" || rows[0].Paused != "True(2)" {
		t.Errorf("rows = %+v", rows)
	}
}

// TestScaledJobRowsFromKEDAStatus: a ScaledJob as upstream KEDA writes it gets its own table after
// the ScaledObjects', as `kubectl get so,sj` prints them.
func TestScaledJobRowsFromKEDAStatus(t *testing.T) {
	data, err := os.ReadFile("testdata/keda-scaledjob.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sj := &kedav1alpha1.ScaledJob{}
	if err := yaml.UnmarshalStrict(data, sj); err != nil {
		t.Fatal(err)
	}
	so := &kedav1alpha1.ScaledObject{}
	so.Namespace, so.Name = "shop", "orders"
	so.Spec.ScaleTargetRef = &kedav1alpha1.ScaleTarget{Name: "orders"}
	so.Spec.Triggers = []kedav1alpha1.ScaleTriggers{{Type: "cron", Metadata: map[string]string{"timezone": "Etc/UTC"}}}
	// Upstream KEDA serves no queue for a ScaledJob: its Jobs are counted, its queue is "-".
	var jobs []batchv1.Job
	var pods []corev1.Pod
	for _, name := range []string{"reports-a", "reports-b", "reports-c"} {
		jobs = append(jobs, batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "batch", Name: name}})
		pods = append(pods, corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "batch", Labels: map[string]string{"job-name": name}}, Status: corev1.PodStatus{Phase: corev1.PodRunning}})
	}
	st := ScaledJobStateOf(ScaledJobInputs{ScaledJob: sj, Jobs: jobs, Pods: pods})
	rows := append(TriggerRows(Inputs{ScaledObject: so}), ScaledJobRows(sj, &st)...)
	var buf bytes.Buffer
	if err := PrintTriggerTable(&buf, rows, true, false); err != nil {
		t.Fatal(err)
	}
	golden(t, "top-scaledjobs.golden", buf.Bytes())
	if r := rows[1]; r.Kind != "ScaledJob" || r.Replicas != "3/-" || r.MinMax != "0-8" || r.Active != "True" || r.Activation != "2" || r.Ready != "True" || r.Queue != nil || *r.Running != 3 || *r.Max != 8 {
		t.Errorf("ScaledJob row = %+v", r)
	}
}
