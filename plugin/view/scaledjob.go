package view

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/operator/scaledjob"
)

// RecentJobs is how many of a ScaledJob's Jobs ScaledJobStateOf keeps, newest first: enough to see
// what the last polls started without flooding describe or the TUI with the history.
const RecentJobs = 10

// Job phases as describe and the TUI show them.
const (
	PhasePending   = "Pending"
	PhaseRunning   = "Running"
	PhaseSucceeded = "Succeeded"
	PhaseFailed    = "Failed"
)

// QueueFromOperatorOnly ends the explanation when the queue cannot be shown because the operator
// does not serve it: upstream KEDA keeps a ScaledJob's queue to itself.
const QueueFromOperatorOnly = "the queue length is served by kedactl's operator only"

// JobMetric is one external metric of a ScaledJob as kedactl's operator serves it: the trigger's
// latest value, with its metricLabels.
type JobMetric struct {
	Value  resource.Quantity
	Labels map[string]string
}

// ScaledJobInputs is what the cluster shows about one ScaledJob's Jobs and queue.
type ScaledJobInputs struct {
	ScaledJob *kedav1alpha1.ScaledJob
	// Jobs and Pods are those labelled scaledjob.keda.sh/name=<ScaledJob>; JobsErr says why they
	// could not be listed.
	Jobs    []batchv1.Job
	Pods    []corev1.Pod
	JobsErr error
	// Metrics are the external metrics API's answers by metric name, MetricErrors its failures.
	Metrics      map[string]JobMetric
	MetricErrors map[string]error
}

// JobTrigger is one trigger of a ScaledJob with its latest sample.
type JobTrigger struct {
	Trigger    string `json:"trigger"`
	Type       string `json:"type"`
	Metric     string `json:"metric,omitempty"`
	Activation string `json:"activation"`
	// Value, Target (per Job) and Active are "-" when the metric could not be read; Error says why.
	Value  string `json:"value"`
	Target string `json:"target"`
	Active string `json:"active"`
	Error  string `json:"error,omitempty"`
}

// JobLine is one Job of a ScaledJob.
type JobLine struct {
	Name    string    `json:"name"`
	Phase   string    `json:"phase"`
	Created time.Time `json:"created"`
}

// ScaledJobState is a ScaledJob's scaling arithmetic redone from live data, as kedactl's operator
// does it each poll: the triggers' samples combined into a queue, the Jobs counted, and the decision
// on how many Jobs to create. Its fields are what -o json|yaml prints.
type ScaledJobState struct {
	// Queue is the triggers' combined queue length and MaxScale the Jobs it asks for; both are
	// absent when the queue is unavailable, and QueueUnavailable says why.
	Queue            *int64 `json:"queue,omitempty"`
	MaxScale         *int64 `json:"maxScale,omitempty"`
	Active           *bool  `json:"active,omitempty"`
	QueueUnavailable string `json:"queueUnavailable,omitempty"`
	// Running counts the unfinished Jobs, Pending ones included, as the operator counts them.
	Running   int64 `json:"running"`
	Pending   int64 `json:"pending"`
	Succeeded int64 `json:"succeeded"`
	Failed    int64 `json:"failed"`
	// JobsUnavailable says why the Jobs could not be counted.
	JobsUnavailable string `json:"jobsUnavailable,omitempty"`
	// Min and Max are the fewest and most unfinished Jobs (scaledjob.Bounds, Max its Total).
	Min      int64  `json:"min"`
	Max      int64  `json:"max"`
	Strategy string `json:"strategy"`
	// NewJobs is how many Jobs the operator creates with these numbers, Why why none (or why
	// minReplicaCount drives them), Decision the sentence of both. Absent without a queue or Jobs.
	// While the ScaledJob is paused the operator creates nothing, so NewJobs is 0 and Why "paused".
	NewJobs  *int64       `json:"newJobs,omitempty"`
	Why      string       `json:"why,omitempty"`
	Decision string       `json:"decision,omitempty"`
	Triggers []JobTrigger `json:"triggers"`
	// MetricErrors are the metrics that could not be read for another reason than not being served.
	MetricErrors map[string]string `json:"metricErrors,omitempty"`
	// Jobs are the RecentJobs newest Jobs, newest first.
	Jobs []JobLine `json:"jobs"`
	// Result is the decision the fields above print, for diagnose; nil when there is none.
	Result *scaledjob.Decision `json:"-"`
}

// ScaledJobStateOf redoes the operator's arithmetic for one ScaledJob. Like the operator, it leaves
// a trigger whose metric failed out of the combination.
func ScaledJobStateOf(in ScaledJobInputs) ScaledJobState {
	sj := in.ScaledJob
	bounds := scaledjob.BoundsFor(&sj.Spec)
	st := ScaledJobState{Min: bounds.Min, Max: bounds.Total(), Strategy: sj.Spec.EffectiveScalingStrategy(), Triggers: []JobTrigger{}, Jobs: []JobLine{}}
	var counts scaledjob.JobCounts
	if in.JobsErr != nil {
		st.JobsUnavailable = in.JobsErr.Error()
	} else {
		conds := sj.Spec.ScalingStrategy.PendingPodConditions
		counts = scaledjob.CountJobs(in.Jobs, in.Pods, conds)
		st.Running, st.Pending, st.Succeeded, st.Failed = counts.Running, counts.Pending, counts.Succeeded, counts.Failed
		st.Jobs = recentJobs(in.Jobs, in.Pods, conds)
	}

	byTrigger := metricsByTrigger(sj.Status.ExternalMetricNames)
	var samples []scaledjob.TriggerSample
	read, failed := 0, 0
	var notServed error
	for i, t := range sj.Spec.Triggers {
		row := JobTrigger{Trigger: TriggerName(t, i), Type: t.Type, Activation: ActivationThreshold(t.Metadata), Value: "-", Target: "-", Active: "-"}
		names := byTrigger[i]
		if len(names) > 0 {
			row.Metric = names[0]
		}
		sample, err := triggerSample(names, in.Metrics, in.MetricErrors)
		switch {
		case len(names) == 0:
		case err != nil:
			row.Error = err.Error()
			if apierrors.IsNotFound(err) {
				notServed = err
			} else {
				failed++
				if st.MetricErrors == nil {
					st.MetricErrors = map[string]string{}
				}
				st.MetricErrors[names[0]] = err.Error()
			}
		default:
			read++
			samples = append(samples, sample)
			v := in.Metrics[names[0]].Value
			row.Value = v.String()
			row.Target = strconv.FormatFloat(sample.TargetAverageValue, 'g', -1, 64)
			row.Active = strconv.FormatBool(sample.Active)
		}
		st.Triggers = append(st.Triggers, row)
	}

	var queue *scaledjob.Queue
	switch {
	case len(sj.Status.ExternalMetricNames) == 0:
		st.QueueUnavailable = "status.externalMetricNames is empty: " + QueueFromOperatorOnly
	case read == 0 && sj.Paused():
		// kedactl's operator stops polling a paused ScaledJob, so it serves no sample either.
		st.QueueUnavailable = "paused: the operator reads no trigger while the ScaledJob is paused"
	case read == 0 && failed == 0 && notServed != nil:
		st.QueueUnavailable = fmt.Sprintf("the external metrics API serves no sample of this ScaledJob (%v); %s", notServed, QueueFromOperatorOnly)
	case read == 0:
		st.QueueUnavailable = "no trigger's value could be read"
	default:
		q := scaledjob.CombineTriggers(&sj.Spec, samples)
		queue = &q
		st.Queue, st.MaxScale, st.Active = &q.Length, &q.MaxScale, &q.Active
	}
	if queue != nil && in.JobsErr == nil {
		d := scaledjob.Decide(&sj.Spec, *queue, counts)
		if sj.Paused() {
			// The operator does not decide at all while paused: it creates no Job, whatever the
			// arithmetic says.
			d.Create, d.Why = 0, "paused"
		}
		st.Result = &d
		st.Strategy, st.NewJobs, st.Why, st.Decision = d.Strategy, &d.Create, d.Why, d.String()
	}
	return st
}

// SampleOf reads one ScaledJob metric as the operator's TriggerSample: the value is the queue
// length, kedav1alpha1.MetricLabelTargetAverageValue the items one Job takes (0 when absent, as the
// operator counts a trigger without an AverageValue target) and kedav1alpha1.MetricLabelActive
// whether the trigger is above its activation threshold.
func SampleOf(m JobMetric) (scaledjob.TriggerSample, error) {
	s := scaledjob.TriggerSample{QueueLength: m.Value.AsApproximateFloat64(), Active: m.Labels[kedav1alpha1.MetricLabelActive] == "true"}
	if raw, ok := m.Labels[kedav1alpha1.MetricLabelTargetAverageValue]; ok {
		q, err := resource.ParseQuantity(raw)
		if err != nil {
			return scaledjob.TriggerSample{}, fmt.Errorf("label %s: %w", kedav1alpha1.MetricLabelTargetAverageValue, err)
		}
		s.TargetAverageValue = q.AsApproximateFloat64()
	}
	return s, nil
}

// triggerSample is one trigger's sample from its metrics, as the operator builds it: the first
// metric's value and activity, the mean of the metrics' targets. A trigger with several metrics
// whose later ones could not be read averages the targets it has.
func triggerSample(names []string, metrics map[string]JobMetric, errs map[string]error) (scaledjob.TriggerSample, error) {
	if len(names) == 0 {
		return scaledjob.TriggerSample{}, nil
	}
	if err := errs[names[0]]; err != nil {
		return scaledjob.TriggerSample{}, err
	}
	first, ok := metrics[names[0]]
	if !ok {
		return scaledjob.TriggerSample{}, fmt.Errorf("metric %s was not read", names[0])
	}
	s, err := SampleOf(first)
	if err != nil {
		return s, fmt.Errorf("metric %s: %w", names[0], err)
	}
	sum, n := s.TargetAverageValue, 1
	for _, name := range names[1:] {
		if m, ok := metrics[name]; ok {
			if other, err := SampleOf(m); err == nil {
				sum += other.TargetAverageValue
				n++
			}
		}
	}
	s.TargetAverageValue = sum / float64(n)
	return s, nil
}

// metricsByTrigger groups status.externalMetricNames by trigger index: each name starts with
// s<index>-, and status lists them in trigger order.
func metricsByTrigger(names []string) map[int][]string {
	out := map[int][]string{}
	for _, m := range names {
		var idx int
		if _, err := fmt.Sscanf(m, "s%d-", &idx); err == nil {
			out[idx] = append(out[idx], m)
		}
	}
	return out
}

// TriggerName is a trigger's name, or #<index> when it has none.
func TriggerName(t kedav1alpha1.ScaleTriggers, i int) string {
	if t.Name != "" {
		return t.Name
	}
	return fmt.Sprintf("#%d", i)
}

// JobPhase names a Job's state as the operator counts it: Succeeded or Failed once finished,
// Pending while scaledjob.IsPending says so (given the Job's own Pods), else Running.
func JobPhase(job *batchv1.Job, pods []corev1.Pod, pendingPodConditions []string) string {
	switch scaledjob.FinishedType(job) {
	case batchv1.JobComplete:
		return PhaseSucceeded
	case batchv1.JobFailed:
		return PhaseFailed
	}
	if scaledjob.IsPending(job, pods, pendingPodConditions) {
		return PhasePending
	}
	return PhaseRunning
}

// recentJobs is the RecentJobs newest Jobs with their phases, newest first (by name on a tie, so the
// order is stable between refreshes).
func recentJobs(jobs []batchv1.Job, pods []corev1.Pod, conds []string) []JobLine {
	podsOf := map[string][]corev1.Pod{}
	for _, p := range pods {
		if name, ok := p.Labels[scaledjob.LabelPodJobName]; ok {
			podsOf[p.Namespace+"/"+name] = append(podsOf[p.Namespace+"/"+name], p)
		}
	}
	out := make([]JobLine, 0, len(jobs))
	for i := range jobs {
		j := &jobs[i]
		out = append(out, JobLine{Name: j.Name, Phase: JobPhase(j, podsOf[j.Namespace+"/"+j.Name], conds), Created: j.CreationTimestamp.Time})
	}
	sort.Slice(out, func(a, b int) bool {
		if !out[a].Created.Equal(out[b].Created) {
			return out[a].Created.After(out[b].Created)
		}
		return out[a].Name < out[b].Name
	})
	if len(out) > RecentJobs {
		out = out[:RecentJobs]
	}
	return out
}

// QueueString is the combined queue length, "-" when unavailable.
func (s *ScaledJobState) QueueString() string {
	if s.Queue == nil {
		return "-"
	}
	return strconv.FormatInt(*s.Queue, 10)
}

// Counts are the Jobs as scaledjob counts them.
func (s *ScaledJobState) Counts() scaledjob.JobCounts {
	return scaledjob.JobCounts{Running: s.Running, Pending: s.Pending, Succeeded: s.Succeeded, Failed: s.Failed}
}

// Summary is the Job counts in one line, e.g. "running 3, pending 1, succeeded 5, failed 0 (max 20)",
// for when no decision can be made.
func (s *ScaledJobState) Summary() string {
	return fmt.Sprintf("running %d, pending %d, succeeded %d, failed %d (max %d)", s.Running, s.Pending, s.Succeeded, s.Failed, s.Max)
}

// Age prints a duration as kubectl prints ages: 45s, 12m, 3h.
func Age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	default:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
}
