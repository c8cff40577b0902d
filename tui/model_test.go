package tui

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/plugin/commands"
	"github.com/kedactl/kedactl/plugin/diagnose"
	"github.com/kedactl/kedactl/plugin/view"
)

// updating reports whether -update was given. teatest's golden package defines the flag for the
// whole test binary, so this package reads it rather than defining its own.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

type fakeSource struct {
	objects     []Object
	paused      []string
	transferred []string
	// idle are the external metrics API's answers by namespace/name/metric; valueReads counts the
	// objects asked for.
	idle       map[string]float64
	valueReads int
}

func (f *fakeSource) TriggerValues(_ context.Context, ns, name string, metrics []string) (map[string]float64, error) {
	f.valueReads++
	out := map[string]float64{}
	for _, m := range metrics {
		if v, ok := f.idle[ns+"/"+name+"/"+m]; ok {
			out[m] = v
		}
	}
	return out, nil
}

func (f *fakeSource) Metrics(_ context.Context, ns, name string) ([]commands.MetricRow, error) {
	return []commands.MetricRow{{Metric: "s0-redis-" + name, Value: "42", Timestamp: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}}, nil
}

func (f *fakeSource) TransferHPA(_ context.Context, ns, name, hpa string) (string, error) {
	f.transferred = append(f.transferred, ns+"/"+name+" <- "+hpa)
	return fmt.Sprintf("ScaledObject %s/%s now owns HPA %s", ns, name, hpa), nil
}

func (f *fakeSource) Objects(_ context.Context, ns string) ([]Object, error) {
	var out []Object
	for _, o := range f.objects {
		if ns == "" || o.ref().namespace == ns {
			out = append(out, o)
		}
	}
	return out, nil
}

func (f *fakeSource) Describe(_ context.Context, kind, ns, name string) (*commands.Description, error) {
	if kind == commands.KindScaledJob {
		for _, o := range f.objects {
			if o.ScaledJob != nil && o.ScaledJob.Namespace == ns && o.ScaledJob.Name == name {
				d := commands.DescribeScaledJobFrom(liveScaledJob(o.ScaledJob))
				d.Events = []commands.EventLine{{Object: "ScaledJob/" + name, Type: "Normal", Reason: "KEDAJobsCreated", Message: "Created 2 jobs"}}
				return d, nil
			}
		}
		return nil, fmt.Errorf("ScaledJob %s/%s not found", ns, name)
	}
	return &commands.Description{Kind: kind, Namespace: ns, Name: name, Findings: []diagnose.Finding{
		{Severity: diagnose.Warning, Title: "HPA limited: TooManyReplicas", Detail: "the desired replica count is more than the maximum replica count (maxReplicaCount is 5)"},
	}, Events: []commands.EventLine{{Object: "ScaledObject/" + name, Type: "Normal", Reason: "KEDAScaleTargetActivated", Message: "Scaled apps/v1.Deployment from 0 to 1"}}}, nil
}

func (f *fakeSource) SetPaused(_ context.Context, kind, ns, name string, paused bool) error {
	verb := "resume"
	if paused {
		verb = "pause"
	}
	if kind == commands.KindScaledJob {
		verb += " sj"
	}
	f.paused = append(f.paused, verb+" "+ns+"/"+name)
	return nil
}

// scaledJob is a ScaledJob at its maximum of running Jobs.
func scaledJob(ns, name string, running int) Object {
	return Object{RunningJobs: running, ScaledJob: &kedav1alpha1.ScaledJob{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: kedav1alpha1.ScaledJobSpec{MaxReplicaCount: ptr32(4),
			Triggers: []kedav1alpha1.ScaleTriggers{{Type: "rabbitmq", Metadata: map[string]string{"queueName": name, "activationValue": "2"}}}},
		Status: kedav1alpha1.ScaledJobStatus{Conditions: kedav1alpha1.Conditions{
			{Type: kedav1alpha1.ConditionReady, Status: metav1.ConditionTrue}, {Type: kedav1alpha1.ConditionActive, Status: metav1.ConditionTrue}, {Type: kedav1alpha1.ConditionPaused, Status: metav1.ConditionFalse}}},
	}}
}

// testNow is the clock of the tests: the ages of Jobs are as of it.
var testNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// liveScaledJob is what the cluster shows about sj, a ScaledJob at its maximum of 4 unfinished Jobs
// (one pending) with 12 items queued, as kedactl's operator serves them; 3 Jobs have finished.
func liveScaledJob(sj *kedav1alpha1.ScaledJob) view.ScaledJobInputs {
	sj = sj.DeepCopy()
	metric := "s0-rabbitmq-" + sj.Name
	sj.Status.ExternalMetricNames = []string{metric}
	in := view.ScaledJobInputs{ScaledJob: sj, Metrics: map[string]view.JobMetric{metric: {Value: resource.MustParse("12"),
		Labels: map[string]string{kedav1alpha1.MetricLabelTargetAverageValue: "1", kedav1alpha1.MetricLabelActive: "true"}}}}
	for i, st := range []struct {
		age      time.Duration
		finished batchv1.JobConditionType
		pod      corev1.PodPhase
	}{
		{50 * time.Minute, batchv1.JobComplete, corev1.PodSucceeded},
		{40 * time.Minute, batchv1.JobFailed, corev1.PodFailed},
		{30 * time.Minute, batchv1.JobComplete, corev1.PodSucceeded},
		{6 * time.Minute, "", corev1.PodRunning},
		{5 * time.Minute, "", corev1.PodRunning},
		{2 * time.Minute, "", corev1.PodRunning},
		{15 * time.Second, "", corev1.PodPending},
	} {
		name := fmt.Sprintf("%s-%05d", sj.Name, 7*i+3)
		j := batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: sj.Namespace, Name: name, CreationTimestamp: metav1.NewTime(testNow.Add(-st.age))}}
		if st.finished != "" {
			j.Status.Conditions = []batchv1.JobCondition{{Type: st.finished, Status: corev1.ConditionTrue}}
		}
		in.Jobs = append(in.Jobs, j)
		in.Pods = append(in.Pods, corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: sj.Namespace, Name: name + "-pod", Labels: map[string]string{"job-name": name}},
			Status: corev1.PodStatus{Phase: st.pod}})
	}
	return in
}

func object(ns, name string, current, desired int32, value, target int64, active bool) Object {
	status := metav1.ConditionFalse
	if active {
		status = metav1.ConditionTrue
	}
	metric := "s0-redis-" + name
	return Object{
		ScaledObject: kedav1alpha1.ScaledObject{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: kedav1alpha1.ScaledObjectSpec{ScaleTargetRef: &kedav1alpha1.ScaleTarget{Name: name}, MaxReplicaCount: ptr32(5),
				Triggers: []kedav1alpha1.ScaleTriggers{{Type: "redis", Metadata: map[string]string{"listName": name, "activationListLength": "1"}}}},
			Status: kedav1alpha1.ScaledObjectStatus{
				Conditions:          kedav1alpha1.Conditions{{Type: kedav1alpha1.ConditionReady, Status: metav1.ConditionTrue}, {Type: kedav1alpha1.ConditionActive, Status: status}, {Type: kedav1alpha1.ConditionPaused, Status: metav1.ConditionFalse}},
				ExternalMetricNames: []string{metric},
				TriggersActivity:    map[string]kedav1alpha1.TriggerActivityStatus{metric: {IsActive: active}},
				Health:              map[string]kedav1alpha1.HealthStatus{metric: {Status: kedav1alpha1.HealthStatusHappy, NumberOfFailures: ptr32(0)}},
			},
		},
		HPA: &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "keda-hpa-" + name, OwnerReferences: []metav1.OwnerReference{
				{APIVersion: "keda.sh/v1alpha1", Kind: "ScaledObject", Name: name, Controller: ptrBool(true)}}},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
				Metric: autoscalingv2.MetricIdentifier{Name: metric}, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: resource.NewQuantity(target, resource.DecimalSI)}}}}},
			Status: autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: current, DesiredReplicas: desired, CurrentMetrics: []autoscalingv2.MetricStatus{{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricStatus{
				Metric: autoscalingv2.MetricIdentifier{Name: metric}, Current: autoscalingv2.MetricValueStatus{AverageValue: resource.NewQuantity(value, resource.DecimalSI)}}}}},
		},
	}
}

func ptr32(v int32) *int32 { return &v }

func ptrBool(v bool) *bool { return &v }

func newTestModel(t *testing.T, src *fakeSource) Model {
	t.Helper()
	m := New(src, Options{NoColor: true, Now: func() time.Time { return testNow }})
	m, _ = step(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	return load(t, m)
}

// load runs the model's list command, as the program would, and the reads of values it asks for.
func load(t *testing.T, m Model) Model {
	t.Helper()
	msg := m.loadObjects()()
	m, cmd := step(m, msg)
	for cmd != nil {
		m, cmd = step(m, cmd())
	}
	return m
}

func step(m Model, msg tea.Msg) (Model, tea.Cmd) {
	next, cmd := m.Update(msg)
	return next.(Model), cmd
}

func press(m Model, keys ...string) (Model, tea.Cmd) {
	var cmd tea.Cmd
	for _, k := range keys {
		var msg tea.KeyPressMsg
		switch k {
		case "enter":
			msg = tea.KeyPressMsg{Code: tea.KeyEnter}
		case "esc":
			msg = tea.KeyPressMsg{Code: tea.KeyEscape}
		case "backspace":
			msg = tea.KeyPressMsg{Code: tea.KeyBackspace}
		case "pgdown":
			msg = tea.KeyPressMsg{Code: tea.KeyPgDown}
		default:
			r := []rune(k)[0]
			msg = tea.KeyPressMsg{Code: r, Text: k}
		}
		m, cmd = step(m, msg)
	}
	return m, cmd
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if updating() {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if got != string(want) {
		t.Errorf("screen differs from %s (go test -update rewrites it):\n%s", path, got)
	}
}

func fixtures() *fakeSource {
	return &fakeSource{objects: []Object{
		object("shop", "orders", 3, 5, 42, 10, true),
		object("shop", "emails", 0, 0, 0, 5, false),
		object("batch", "reports", 1, 1, 2, 5, true),
		scaledJob("shop", "sync", 4),
	}, idle: map[string]float64{"shop/emails/s0-redis-emails": 3}}
}

func TestScreens(t *testing.T) {
	src := fixtures()
	m := newTestModel(t, src)
	for _, v := range []int64{10, 30, 42} {
		src.objects[0].HPA.Status.CurrentMetrics[0].External.Current.AverageValue = resource.NewQuantity(v, resource.DecimalSI)
		m = load(t, m)
	}
	golden(t, "list-80x24", m.Render())

	wide := m
	wide, _ = step(wide, tea.WindowSizeMsg{Width: 120, Height: 12})
	golden(t, "list-120x12", wide.Render())

	detail, cmd := press(m, "j", "j", "enter")
	if cmd == nil {
		t.Fatal("enter must ask for the details")
	}
	detail, _ = step(detail, detail.describe(detail.selected)())
	golden(t, "detail-80x24", detail.Render())

	job, _ := press(m, "j", "j", "j", "enter")
	golden(t, "detail-scaledjob-reading-80x24", job.Render())
	job, _ = step(job, job.describe(job.selected)())
	golden(t, "detail-scaledjob-80x24", job.Render())
	tall, _ := step(job, tea.WindowSizeMsg{Width: 100, Height: 40})
	golden(t, "detail-scaledjob-100x40", tall.Render())

	helpScreen, _ := press(m, "?")
	golden(t, "help-80x24", helpScreen.Render())
}

func TestUpdate(t *testing.T) {
	t.Run("cursor stays in bounds", func(t *testing.T) {
		m := newTestModel(t, fixtures())
		m, _ = press(m, "k", "k", "j", "j", "j", "j", "j")
		if m.cursor != 3 {
			t.Errorf("cursor = %d, want 3", m.cursor)
		}
	})
	t.Run("filter narrows and esc clears", func(t *testing.T) {
		m := newTestModel(t, fixtures())
		m, _ = press(m, "/", "o", "r", "d", "enter")
		if len(m.visible()) != 1 || m.visible()[0].ScaledObject.Name != "orders" || m.mode != modeList {
			t.Fatalf("visible = %d, mode %v", len(m.visible()), m.mode)
		}
		m, _ = press(m, "esc")
		if m.filter != "" || len(m.visible()) != 4 {
			t.Errorf("esc left filter %q", m.filter)
		}
	})
	t.Run("namespace switch reloads", func(t *testing.T) {
		m := newTestModel(t, fixtures())
		m, cmd := press(m, ":", "b", "a", "t", "c", "h", "enter")
		if m.namespace != "batch" || cmd == nil {
			t.Fatalf("namespace %q cmd %v", m.namespace, cmd)
		}
		m, _ = step(m, cmd())
		if len(m.objects) != 1 {
			t.Errorf("objects in batch = %d", len(m.objects))
		}
	})
	t.Run("pause asks first and cancel does nothing", func(t *testing.T) {
		src := fixtures()
		m := newTestModel(t, src)
		m, _ = press(m, "p")
		if m.mode != modeConfirm || !strings.Contains(m.Render(), "Pause autoscaling of batch/reports? (y/n)") {
			t.Fatalf("no confirmation: %v\n%s", m.mode, m.Render())
		}
		m, _ = press(m, "n")
		if len(src.paused) != 0 || m.mode != modeList {
			t.Fatalf("cancel paused %v", src.paused)
		}
		m, _ = press(m, "j", "r")
		m, cmd := press(m, "y")
		m, _ = step(m, cmd())
		if len(src.paused) != 1 || src.paused[0] != "resume shop/emails" || !strings.Contains(m.status, "resumed") {
			t.Errorf("paused = %v status %q", src.paused, m.status)
		}
	})
	t.Run("a ScaledJob pauses as a ScaledJob", func(t *testing.T) {
		src := fixtures()
		m := newTestModel(t, src)
		m, _ = press(m, "j", "j", "j", "p")
		if !strings.Contains(m.Render(), "Pause autoscaling of ScaledJob shop/sync? (y/n)") {
			t.Fatalf("no confirmation naming the ScaledJob:\n%s", m.Render())
		}
		m, cmd := press(m, "y")
		m, _ = step(m, cmd())
		if len(src.paused) != 1 || src.paused[0] != "pause sj shop/sync" || m.status != "shop/sync paused" {
			t.Errorf("paused = %v status %q", src.paused, m.status)
		}
	})
	t.Run("a ScaledJob has no raw metrics and no HPA to transfer", func(t *testing.T) {
		src := fixtures()
		m := newTestModel(t, src)
		m, _ = press(m, "j", "j", "j", "t")
		if m.mode != modeList || m.status != noHPA {
			t.Errorf("t on a ScaledJob: mode %v status %q", m.mode, m.status)
		}
		m, _ = press(m, "enter")
		m, cmd := press(m, "m")
		if cmd != nil || m.showMetrics || m.status != noExternalMetrics {
			t.Errorf("m on a ScaledJob: metrics %v status %q", m.showMetrics, m.status)
		}
		if len(src.transferred) != 0 {
			t.Errorf("transfer reached the source: %v", src.transferred)
		}
	})
	t.Run("an idle trigger shows the external metrics API's value, as top does", func(t *testing.T) {
		src := fixtures()
		m := newTestModel(t, src)
		// emails is at zero replicas: its HPA reads no metric, so the value is the API's.
		if got := m.rows[1].cells[sortTriggers]; !strings.Contains(got, " 3/5") {
			t.Fatalf("emails shows %q, want 3/5", got)
		}
		delete(src.idle, "shop/emails/s0-redis-emails")
		m, _ = step(m, m.readValues()())
		if got := m.rows[1].cells[sortTriggers]; !strings.Contains(got, " ?/5") {
			t.Errorf("after a failed read emails shows %q, want ?/5 (no stale value)", got)
		}
	})
	t.Run("quit", func(t *testing.T) {
		m := newTestModel(t, fixtures())
		_, cmd := press(m, "q")
		if cmd == nil {
			t.Fatal("q must quit")
		}
		if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Error("q did not return tea.Quit")
		}
	})
	t.Run("esc leaves the detail view", func(t *testing.T) {
		m := newTestModel(t, fixtures())
		m, _ = press(m, "enter")
		if m.mode != modeDetail {
			t.Fatal("enter did not open details")
		}
		m, _ = press(m, "esc")
		if m.mode != modeList || m.selected != (ref{}) {
			t.Errorf("mode %v selected %q", m.mode, m.selected)
		}
	})
}

func TestSparkline(t *testing.T) {
	if got := sparkline([]float64{0, 5, 10}, 5); got != "  ▁▄█" {
		t.Errorf("sparkline = %q", got)
	}
	if got := sparkline(nil, 3); got != "   " {
		t.Errorf("empty sparkline = %q", got)
	}
}

// visible is the filtered list, in the list's order.
func (m Model) visible() []Object {
	out := make([]Object, 0, len(m.rows))
	for i := range m.rows {
		if o := m.object(m.rows[i].ref); o != nil {
			out = append(out, *o)
		}
	}
	return out
}
