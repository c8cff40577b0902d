package view

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/operator/scaledjob"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// testScaledJob is a ScaledJob "worker" with one redis trigger per list, served by kedactl's
// operator under s<index>-redis-<list>.
func testScaledJob(lists ...string) *kedav1alpha1.ScaledJob {
	sj := &kedav1alpha1.ScaledJob{
		ObjectMeta: metav1.ObjectMeta{Namespace: "jobs", Name: "worker"},
		Spec:       kedav1alpha1.ScaledJobSpec{MaxReplicaCount: ptr.To[int32](20), ScalingStrategy: kedav1alpha1.ScalingStrategy{Strategy: "accurate"}},
	}
	for i, l := range lists {
		sj.Spec.Triggers = append(sj.Spec.Triggers, kedav1alpha1.ScaleTriggers{Type: "redis", Metadata: map[string]string{"listName": l, "listLength": "1"}})
		sj.Status.ExternalMetricNames = append(sj.Status.ExternalMetricNames, fmt.Sprintf("s%d-redis-%s", i, l))
	}
	return sj
}

func testJob(name string, age time.Duration, finished batchv1.JobConditionType) batchv1.Job {
	j := batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "jobs", Name: name, CreationTimestamp: metav1.NewTime(t0.Add(-age))}}
	if finished != "" {
		j.Status.Conditions = []batchv1.JobCondition{{Type: finished, Status: corev1.ConditionTrue}}
	}
	return j
}

func testPod(job string, phase corev1.PodPhase) corev1.Pod {
	return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "jobs", Name: job + "-pod", Labels: map[string]string{scaledjob.LabelPodJobName: job}},
		Status: corev1.PodStatus{Phase: phase}}
}

func metric(value int64, target string, active bool) JobMetric {
	labels := map[string]string{kedav1alpha1.MetricLabelActive: fmt.Sprint(active)}
	if target != "" {
		labels[kedav1alpha1.MetricLabelTargetAverageValue] = target
	}
	return JobMetric{Value: *resource.NewQuantity(value, resource.DecimalSI), Labels: labels}
}

// liveJobs are 3 unfinished Jobs (one of them pending: its pod is not running yet), 2 succeeded and
// 1 failed.
func liveJobs() ([]batchv1.Job, []corev1.Pod) {
	jobs := []batchv1.Job{
		testJob("worker-a", 10*time.Minute, batchv1.JobComplete),
		testJob("worker-b", 9*time.Minute, batchv1.JobFailed),
		testJob("worker-c", 8*time.Minute, batchv1.JobComplete),
		testJob("worker-d", 3*time.Minute, ""),
		testJob("worker-e", 2*time.Minute, ""),
		testJob("worker-f", 30*time.Second, ""),
	}
	pods := []corev1.Pod{testPod("worker-d", corev1.PodRunning), testPod("worker-e", corev1.PodRunning), testPod("worker-f", corev1.PodPending)}
	return jobs, pods
}

var notFound = apierrors.NewNotFound(schema.GroupResource{Group: "external.metrics.k8s.io", Resource: "s0-redis-orders"}, "")

func TestScaledJobStateOf(t *testing.T) {
	jobs, pods := liveJobs()
	tests := []struct {
		name string
		in   func() ScaledJobInputs
		// decision is the Decision sentence, "" when there must be none.
		decision         string
		queue            string
		queueUnavailable string
		metricErrors     int
		check            func(t *testing.T, st ScaledJobState)
	}{
		{
			// accurate: 12 + 3 running - 1 pending fits in 20, so 12 asked minus 1 pending.
			name: "kedactl's operator serves the queue",
			in: func() ScaledJobInputs {
				return ScaledJobInputs{ScaledJob: testScaledJob("orders"), Jobs: jobs, Pods: pods,
					Metrics: map[string]JobMetric{"s0-redis-orders": metric(12, "1", true)}}
			},
			decision: "queue 12, running 3, pending 1 -> 11 new Jobs (accurate, max 20)", queue: "12",
			check: func(t *testing.T, st ScaledJobState) {
				if got := st.Counts(); got != (scaledjob.JobCounts{Running: 3, Pending: 1, Succeeded: 2, Failed: 1}) {
					t.Errorf("counts = %+v", got)
				}
				if tr := st.Triggers[0]; tr.Value != "12" || tr.Target != "1" || tr.Active != "true" || tr.Metric != "s0-redis-orders" || tr.Activation != "0" {
					t.Errorf("trigger = %+v", tr)
				}
				if *st.NewJobs != 11 || st.Max != 20 || st.Strategy != "accurate" {
					t.Errorf("state = %+v", st)
				}
			},
		},
		{
			name: "upstream KEDA lists no metric",
			in: func() ScaledJobInputs {
				sj := testScaledJob("orders")
				sj.Status.ExternalMetricNames = nil
				return ScaledJobInputs{ScaledJob: sj, Jobs: jobs, Pods: pods}
			},
			queue: "-", queueUnavailable: "status.externalMetricNames is empty: " + QueueFromOperatorOnly,
			check: func(t *testing.T, st ScaledJobState) {
				if st.Running != 3 || st.Pending != 1 || st.Triggers[0].Value != "-" || st.Triggers[0].Metric != "" {
					t.Errorf("state = %+v", st)
				}
			},
		},
		{
			name: "the metrics API does not serve ScaledJobs",
			in: func() ScaledJobInputs {
				return ScaledJobInputs{ScaledJob: testScaledJob("orders"), Jobs: jobs, Pods: pods,
					MetricErrors: map[string]error{"s0-redis-orders": fmt.Errorf("metric s0-redis-orders: %w", notFound)}}
			},
			queue: "-", queueUnavailable: "the external metrics API serves no sample of this ScaledJob (metric s0-redis-orders: s0-redis-orders.external.metrics.k8s.io \"\" not found); " + QueueFromOperatorOnly,
		},
		{
			name: "paused: the operator serves no sample",
			in: func() ScaledJobInputs {
				sj := testScaledJob("orders")
				sj.Annotations = map[string]string{kedav1alpha1.AnnotationPaused: "true"}
				return ScaledJobInputs{ScaledJob: sj, Jobs: jobs, Pods: pods,
					MetricErrors: map[string]error{"s0-redis-orders": fmt.Errorf("metric s0-redis-orders: %w", notFound)}}
			},
			queue: "-", queueUnavailable: "paused: the operator reads no trigger while the ScaledJob is paused",
		},
		{
			// The operator leaves a failing trigger out: the queue is the other one's.
			name: "one trigger's metric fails",
			in: func() ScaledJobInputs {
				return ScaledJobInputs{ScaledJob: testScaledJob("orders", "refunds"), Jobs: jobs, Pods: pods,
					Metrics:      map[string]JobMetric{"s1-redis-refunds": metric(4, "2", true)},
					MetricErrors: map[string]error{"s0-redis-orders": errors.New("metric s0-redis-orders of ScaledJob jobs/worker has not been polled yet")}}
			},
			decision: "queue 4, running 3, pending 1 -> 1 new Job (accurate, max 20)", queue: "4", metricErrors: 1,
			check: func(t *testing.T, st ScaledJobState) {
				if st.Triggers[0].Value != "-" || !strings.Contains(st.Triggers[0].Error, "not been polled") || st.Triggers[1].Target != "2" {
					t.Errorf("triggers = %+v", st.Triggers)
				}
			},
		},
		{
			name: "every metric fails",
			in: func() ScaledJobInputs {
				return ScaledJobInputs{ScaledJob: testScaledJob("orders"), Jobs: jobs, Pods: pods,
					MetricErrors: map[string]error{"s0-redis-orders": errors.New("service unavailable")}}
			},
			queue: "-", queueUnavailable: "no trigger's value could be read", metricErrors: 1,
		},
		{
			name: "paused: the operator creates nothing",
			in: func() ScaledJobInputs {
				sj := testScaledJob("orders")
				sj.Annotations = map[string]string{kedav1alpha1.AnnotationPaused: "true"}
				return ScaledJobInputs{ScaledJob: sj, Jobs: jobs, Pods: pods, Metrics: map[string]JobMetric{"s0-redis-orders": metric(12, "1", true)}}
			},
			decision: "queue 12, running 3, pending 1 -> 0 new Jobs (accurate, max 20): paused", queue: "12",
		},
		{
			name: "not active",
			in: func() ScaledJobInputs {
				return ScaledJobInputs{ScaledJob: testScaledJob("orders"), Metrics: map[string]JobMetric{"s0-redis-orders": metric(1, "1", false)}}
			},
			decision: "queue 0, running 0, pending 0 -> 0 new Jobs (accurate, max 20): no trigger is active", queue: "0",
		},
		{
			name: "Jobs unreadable: the queue is still shown",
			in: func() ScaledJobInputs {
				return ScaledJobInputs{ScaledJob: testScaledJob("orders"), JobsErr: errors.New("jobs.batch is forbidden"),
					Metrics: map[string]JobMetric{"s0-redis-orders": metric(12, "1", true)}}
			},
			queue: "12",
			check: func(t *testing.T, st ScaledJobState) {
				if st.JobsUnavailable != "jobs.batch is forbidden" || st.NewJobs != nil {
					t.Errorf("state = %+v", st)
				}
			},
		},
		{
			name: "a bad target label is a metric error",
			in: func() ScaledJobInputs {
				return ScaledJobInputs{ScaledJob: testScaledJob("orders"), Metrics: map[string]JobMetric{"s0-redis-orders": metric(12, "lots", true)}}
			},
			queue: "-", queueUnavailable: "no trigger's value could be read", metricErrors: 1,
		},
		{
			// KEDA's quirk kept by BoundsFor: minReplicaCount above maxReplicaCount lets 2*max run.
			name: "max is the bounds' total",
			in: func() ScaledJobInputs {
				sj := testScaledJob("orders")
				sj.Spec.MinReplicaCount, sj.Spec.MaxReplicaCount = ptr.To[int32](5), ptr.To[int32](3)
				return ScaledJobInputs{ScaledJob: sj, Metrics: map[string]JobMetric{"s0-redis-orders": metric(0, "1", false)}}
			},
			decision: "queue 0, running 0, pending 0 -> 3 new Jobs (accurate, max 6): to keep minReplicaCount 3", queue: "0",
			check: func(t *testing.T, st ScaledJobState) {
				if st.Min != 3 || st.Max != 6 {
					t.Errorf("min-max %d-%d, want 3-6", st.Min, st.Max)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := ScaledJobStateOf(tt.in())
			if st.Decision != tt.decision {
				t.Errorf("decision = %q, want %q", st.Decision, tt.decision)
			}
			if (st.Result == nil) != (tt.decision == "") || (st.Result != nil && st.Result.String() != st.Decision) {
				t.Errorf("result %+v does not match the decision %q", st.Result, st.Decision)
			}
			if got := st.QueueString(); got != tt.queue {
				t.Errorf("queue = %s, want %s", got, tt.queue)
			}
			if st.QueueUnavailable != tt.queueUnavailable {
				t.Errorf("queue unavailable = %q, want %q", st.QueueUnavailable, tt.queueUnavailable)
			}
			if len(st.MetricErrors) != tt.metricErrors {
				t.Errorf("metric errors = %v, want %d", st.MetricErrors, tt.metricErrors)
			}
			if tt.check != nil {
				tt.check(t, st)
			}
		})
	}
}

func TestSampleOf(t *testing.T) {
	tests := []struct {
		name    string
		m       JobMetric
		want    scaledjob.TriggerSample
		wantErr bool
	}{
		{"active with target", metric(12, "3", true), scaledjob.TriggerSample{QueueLength: 12, TargetAverageValue: 3, Active: true}, false},
		{"inactive", metric(0, "1", false), scaledjob.TriggerSample{TargetAverageValue: 1}, false},
		{"milli target", metric(1, "500m", true), scaledjob.TriggerSample{QueueLength: 1, TargetAverageValue: 0.5, Active: true}, false},
		// The operator counts a trigger without an AverageValue target as target 0, which asks for no Job.
		{"no target label", metric(7, "", true), scaledjob.TriggerSample{QueueLength: 7, Active: true}, false},
		{"no labels at all", JobMetric{Value: resource.MustParse("7")}, scaledjob.TriggerSample{QueueLength: 7}, false},
		{"bad target", metric(7, "x", true), scaledjob.TriggerSample{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SampleOf(tt.m)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("SampleOf = %+v, %v; want %+v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestRecentJobs(t *testing.T) {
	var jobs []batchv1.Job
	var pods []corev1.Pod
	for i := range 12 {
		jobs = append(jobs, testJob(fmt.Sprintf("worker-%02d", i), time.Duration(i)*time.Minute, ""))
		pods = append(pods, testPod(fmt.Sprintf("worker-%02d", i), corev1.PodRunning))
	}
	jobs = append(jobs, testJob("worker-tie", 0, batchv1.JobFailed))
	st := ScaledJobStateOf(ScaledJobInputs{ScaledJob: testScaledJob(), Jobs: jobs, Pods: pods})
	if len(st.Jobs) != RecentJobs {
		t.Fatalf("%d Jobs kept, want %d", len(st.Jobs), RecentJobs)
	}
	// Newest first; on a tie by name.
	if st.Jobs[0].Name != "worker-00" || st.Jobs[1].Name != "worker-tie" || st.Jobs[1].Phase != PhaseFailed || st.Jobs[9].Name != "worker-08" {
		t.Errorf("jobs = %+v", st.Jobs)
	}
	if st.Running != 12 || st.Failed != 1 {
		t.Errorf("counts count every Job, not the recent ones: %+v", st.Counts())
	}
}

func TestJobPhase(t *testing.T) {
	conds := []string{"Ready"}
	ready := corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}}
	tests := []struct {
		name  string
		job   batchv1.Job
		pods  []corev1.Pod
		conds []string
		want  string
	}{
		{"complete", testJob("a", 0, batchv1.JobComplete), nil, nil, PhaseSucceeded},
		{"failed", testJob("a", 0, batchv1.JobFailed), nil, nil, PhaseFailed},
		{"no pod yet", testJob("a", 0, ""), nil, nil, PhasePending},
		{"pod pending", testJob("a", 0, ""), []corev1.Pod{testPod("a", corev1.PodPending)}, nil, PhasePending},
		{"pod running", testJob("a", 0, ""), []corev1.Pod{testPod("a", corev1.PodRunning)}, nil, PhaseRunning},
		{"running but not Ready with pendingPodConditions", testJob("a", 0, ""), []corev1.Pod{testPod("a", corev1.PodRunning)}, conds, PhasePending},
		{"Ready with pendingPodConditions", testJob("a", 0, ""), []corev1.Pod{ready}, conds, PhaseRunning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := JobPhase(&tt.job, tt.pods, tt.conds); got != tt.want {
				t.Errorf("JobPhase = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestScaledJobTable: with kedactl's operator the ScaledJob table shows each trigger's value and
// target per Job, the combined queue and the Jobs by state.
func TestScaledJobTable(t *testing.T) {
	jobs, pods := liveJobs()
	sj := testScaledJob("orders", "refunds")
	sj.Spec.Triggers[1].Name = "refunds"
	sj.Spec.Triggers[1].Metadata["activationListLength"] = "5"
	sj.Status.Conditions = kedav1alpha1.Conditions{{Type: kedav1alpha1.ConditionReady, Status: metav1.ConditionTrue}, {Type: kedav1alpha1.ConditionActive, Status: metav1.ConditionTrue}}
	st := ScaledJobStateOf(ScaledJobInputs{ScaledJob: sj, Jobs: jobs, Pods: pods,
		Metrics: map[string]JobMetric{"s0-redis-orders": metric(12, "1", true), "s1-redis-refunds": metric(3, "2", false)}})
	rows := ScaledJobRows(sj, &st)
	// Three replicas split the objects: -o wide names the one that polls this ScaledJob.
	for i := range rows {
		rows[i].Owner = "keda-operator-7c9f-fghij_0f1e2d3c-aaaa-bbbb-cccc-1234567890ab"
	}
	for _, tc := range []struct {
		name                string
		allNamespaces, wide bool
	}{{"top-scaledjobs-kedactl.golden", false, false}, {"top-scaledjobs-kedactl-wide-all.golden", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := PrintTriggerTable(&buf, rows, tc.allNamespaces, tc.wide); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, buf.Bytes())
		})
	}
	if r := rows[1]; *r.Queue != 12 || *r.Running != 3 || *r.Pending != 1 || *r.Succeeded != 2 || *r.Failed != 1 || *r.Max != 20 || r.Active != "false" || r.Value != "3" {
		t.Errorf("row = %+v", r)
	}
}

func TestAge(t *testing.T) {
	for d, want := range map[time.Duration]string{45 * time.Second: "45s", 12 * time.Minute: "12m", 3 * time.Hour: "3h"} {
		if got := Age(d); got != want {
			t.Errorf("Age(%s) = %s, want %s", d, got, want)
		}
	}
}
