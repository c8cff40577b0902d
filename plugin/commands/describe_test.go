package commands

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	eventingv1alpha1 "github.com/kedactl/kedactl/api/eventing/v1alpha1"
	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/plugin/view"
)

func goldenFile(t *testing.T, name string, got []byte) {
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
		t.Errorf("output differs from %s (go test -update rewrites it):\n%s", path, got)
	}
}

// describedScaledJob is what the cluster shows about ScaledJob jobs/worker at now: 3 unfinished
// Jobs (one pending), 2 succeeded, 1 failed; with served, kedactl's operator serves its queue of 12
// on the external metrics API.
func describedScaledJob(now time.Time, served bool) view.ScaledJobInputs {
	sj := &kedav1alpha1.ScaledJob{
		ObjectMeta: metav1.ObjectMeta{Namespace: "jobs", Name: "worker"},
		Spec: kedav1alpha1.ScaledJobSpec{MaxReplicaCount: ptr.To[int32](20), ScalingStrategy: kedav1alpha1.ScalingStrategy{Strategy: "accurate"},
			Triggers: []kedav1alpha1.ScaleTriggers{{Type: "redis", Name: "orders", Metadata: map[string]string{"listName": "orders", "listLength": "2", "activationListLength": "1"}}}},
		Status: kedav1alpha1.ScaledJobStatus{Conditions: kedav1alpha1.Conditions{
			{Type: kedav1alpha1.ConditionReady, Status: metav1.ConditionTrue}, {Type: kedav1alpha1.ConditionActive, Status: metav1.ConditionTrue}}},
	}
	in := view.ScaledJobInputs{ScaledJob: sj, Metrics: map[string]view.JobMetric{}}
	for i, st := range []struct {
		name     string
		age      time.Duration
		finished batchv1.JobConditionType
		pod      corev1.PodPhase
	}{
		{"worker-7k2lq", 40 * time.Minute, batchv1.JobComplete, corev1.PodSucceeded},
		{"worker-9dx4m", 35 * time.Minute, batchv1.JobFailed, corev1.PodFailed},
		{"worker-b8vtr", 20 * time.Minute, batchv1.JobComplete, corev1.PodSucceeded},
		{"worker-c2wpz", 4 * time.Minute, "", corev1.PodRunning},
		{"worker-h5nfs", 3 * time.Minute, "", corev1.PodRunning},
		{"worker-x6mjd", 20 * time.Second, "", corev1.PodPending},
	} {
		j := batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "jobs", Name: st.name, CreationTimestamp: metav1.NewTime(now.Add(-st.age))}}
		if st.finished != "" {
			j.Status.Conditions = []batchv1.JobCondition{{Type: st.finished, Status: corev1.ConditionTrue}}
		}
		in.Jobs = append(in.Jobs, j)
		in.Pods = append(in.Pods, corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "jobs", Name: st.name + "-p" + string(rune('a'+i)),
			Labels: map[string]string{"job-name": st.name, kedav1alpha1.LabelScaledJobName: "worker"}}, Status: corev1.PodStatus{Phase: st.pod}})
	}
	if served {
		sj.Status.ExternalMetricNames = []string{"s0-redis-orders"}
		in.Metrics["s0-redis-orders"] = view.JobMetric{Value: resource.MustParse("12"),
			Labels: map[string]string{kedav1alpha1.MetricLabelTargetAverageValue: "2", kedav1alpha1.MetricLabelActive: "true"}}
	}
	return in
}

// TestDescribeScaledJobGolden: describe sj/NAME prints the operator's arithmetic on live data with
// kedactl's operator, and the Job counts with upstream KEDA, which does not serve the queue; -o yaml
// carries the same numbers.
func TestDescribeScaledJobGolden(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		served bool
	}{{"describe-sj-kedactl", true}, {"describe-sj-keda", false}} {
		t.Run(tc.name, func(t *testing.T) {
			d := DescribeScaledJobFrom(describedScaledJob(now, tc.served))
			d.Events = []EventLine{{Object: "ScaledJob/worker", Type: "Normal", Reason: "KEDAJobsCreated", Message: "Created 2 jobs", Count: 1, Last: now.Add(-3 * time.Minute)}}
			if tc.served {
				ces, cces := describedCloudEventSources()
				d.CloudEvents = cloudEventDeliveries(KindScaledJob, ces, cces)
				// Three replicas split the objects, and the one that polls this one stopped renewing its Lease.
				d.Owner = "keda-operator-7c9f-klmno_3, which may be unreachable: it has not renewed its membership Lease for 9s (the other replicas take its objects when the Lease ends in 6s)"
			}
			var text, data bytes.Buffer
			if err := PrintDescription(&text, d, now); err != nil {
				t.Fatal(err)
			}
			goldenFile(t, tc.name+".golden", text.Bytes())
			if err := printData(&data, "yaml", d); err != nil {
				t.Fatal(err)
			}
			goldenFile(t, tc.name+".yaml.golden", data.Bytes())

			// -o json is what scripts (and the e2e tests) read back.
			var js bytes.Buffer
			if err := printData(&js, "json", d); err != nil {
				t.Fatal(err)
			}
			var back Description
			if err := json.Unmarshal(js.Bytes(), &back); err != nil {
				t.Fatal(err)
			}
			st := back.ScaledJob
			if st == nil || st.Running != 3 || st.Pending != 1 || st.Succeeded != 2 || st.Failed != 1 || st.Max != 20 {
				t.Fatalf("-o json numbers = %+v", st)
			}
			if tc.served && (st.Queue == nil || *st.Queue != 12 || st.NewJobs == nil || *st.NewJobs != 5) {
				t.Errorf("-o json queue and new Jobs = %v, %v; want 12, 5", st.Queue, st.NewJobs)
			}
			if !tc.served && (st.Queue != nil || st.QueueUnavailable == "") {
				t.Errorf("-o json without a served queue = %+v", st)
			}
		})
	}
}

// describedCloudEventSources: one source of the namespace keeps ScaledJob events and is failing,
// one keeps only ScaledObject failures (not shown for a ScaledJob), and a cluster source is active.
func describedCloudEventSources() ([]eventingv1alpha1.CloudEventSource, []eventingv1alpha1.ClusterCloudEventSource) {
	failing := eventingv1alpha1.ActiveCondition(false, "the destination answered 401 Unauthorized")
	ns := []eventingv1alpha1.CloudEventSource{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "jobs", Name: "team-events"}, Status: eventingv1alpha1.CloudEventSourceStatus{Conditions: kedav1alpha1.Conditions{failing}}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "jobs", Name: "so-failures"}, Spec: eventingv1alpha1.CloudEventSourceSpec{
			EventSubscription: eventingv1alpha1.EventSubscription{IncludedEventTypes: []eventingv1alpha1.CloudEventType{eventingv1alpha1.ScaledObjectFailed}}}},
	}
	cluster := []eventingv1alpha1.ClusterCloudEventSource{
		{ObjectMeta: metav1.ObjectMeta{Name: "platform"}, Status: eventingv1alpha1.CloudEventSourceStatus{Conditions: kedav1alpha1.Conditions{eventingv1alpha1.ActiveCondition(true, "")}}},
	}
	return ns, cluster
}
