// Package timeline merges what happened to a ScaledObject or ScaledJob into one time-ordered list:
// the Kubernetes events of the object, its HPA, its scale target and its Jobs, and the recent
// history the operator keeps (trigger samples and decisions, served as history.kedactl.dev). It is
// pure: the command fetches, Build decides what to show, Render writes it.
package timeline

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	historyv1alpha1 "github.com/kedactl/kedactl/api/history/v1alpha1"
	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// Kind says what an entry is about.
type Kind string

// The kinds of entry.
const (
	KindValues          Kind = "values"
	KindActivated       Kind = "activated"
	KindDeactivated     Kind = "deactivated"
	KindRescaled        Kind = "rescaled"
	KindScaleFailed     Kind = "scale-failed"
	KindJobsCreated     Kind = "jobs-created"
	KindPaused          Kind = "paused"
	KindResumed         Kind = "resumed"
	KindFallbackOn      Kind = "fallback-on"
	KindFallbackOff     Kind = "fallback-off"
	KindScalerError     Kind = "scaler-error"
	KindScalerRecovered Kind = "scaler-recovered"
	KindConfigChanged   Kind = "config-changed"
	KindEvent           Kind = "event"
)

// SourceOperator marks entries from the operator's history; event entries name the object the
// event is about (Kind/name).
const SourceOperator = "operator"

// Entry is one line of the timeline.
type Entry struct {
	Time time.Time `json:"time"`
	Kind Kind      `json:"kind"`
	// Source is "operator" or the object an event is about, as Kind/name.
	Source string `json:"source"`
	// Trigger names the trigger(s) the entry is due to.
	Trigger string `json:"trigger,omitempty"`
	// Metric is the metric an HPA event names.
	Metric       string `json:"metric,omitempty"`
	FromReplicas *int32 `json:"fromReplicas,omitempty"`
	ToReplicas   *int32 `json:"toReplicas,omitempty"`
	Message      string `json:"message"`
	Warning      bool   `json:"warning,omitempty"`
	// Count is how many times the event happened (Kubernetes aggregates repeats).
	Count int32 `json:"count,omitempty"`
}

// Ref names an object the timeline collects events of.
type Ref struct {
	Kind string
	Name string
}

// Trigger is one trigger of the object's spec, to name the trigger behind a metric.
type Trigger struct {
	Index int
	Name  string
	Type  string
}

// Input is everything Build merges.
type Input struct {
	// Object is the ScaledObject or ScaledJob; HPA and Target are its HPA and scale target (empty
	// for a ScaledJob); Jobs are a ScaledJob's Jobs.
	Object Ref
	HPA    Ref
	Target Ref
	Jobs   []string
	// Triggers are the object's spec.triggers, in order.
	Triggers []Trigger
	// Events are the namespace's events; those about other objects are ignored.
	Events []corev1.Event
	// ManagedFields are the object's field managers: without the operator's history, their write
	// times are the only record of spec changes.
	ManagedFields []metav1.ManagedFieldsEntry
	Generation    int64
	// History is the operator's history; nil when the cluster does not serve it.
	History *historyv1alpha1.History
	// Since drops older entries; zero keeps all.
	Since time.Time
}

// Build returns the timeline, oldest first.
func Build(in Input) []Entry {
	var out []Entry
	if in.History != nil {
		out = append(out, samples(in.History.Samples)...)
		for _, d := range in.History.Decisions {
			out = append(out, decision(d))
		}
	} else {
		out = append(out, writes(in)...)
	}
	out = append(out, events(in)...)
	kept := out[:0]
	for _, e := range out {
		if in.Since.IsZero() || !e.Time.Before(in.Since) {
			kept = append(kept, e)
		}
	}
	sort.SliceStable(kept, func(i, j int) bool { return kept[i].Time.Before(kept[j].Time) })
	return kept
}

// samples turns the history's samples into "values" entries, one each time a reading changes
// (a value, an activity, an error, the replicas): a steady metric is one line, not one per poll.
func samples(ss []historyv1alpha1.Sample) []Entry {
	var out []Entry
	last := ""
	for _, s := range ss {
		msg := sampleLine(s)
		if msg == last {
			continue
		}
		last = msg
		out = append(out, Entry{Time: s.Time.Time, Kind: KindValues, Source: SourceOperator, Trigger: activeNames(s.Triggers),
			FromReplicas: s.Replicas, ToReplicas: s.DesiredReplicas, Message: msg})
	}
	return out
}

func sampleLine(s historyv1alpha1.Sample) string {
	parts := make([]string, 0, len(s.Triggers)+1)
	for _, t := range s.Triggers {
		parts = append(parts, readingLine(t))
	}
	if s.Replicas != nil {
		r := "replicas " + strconv.Itoa(int(*s.Replicas))
		if s.DesiredReplicas != nil && *s.DesiredReplicas != *s.Replicas {
			r += fmt.Sprintf(" (desired %d)", *s.DesiredReplicas)
		}
		parts = append(parts, r)
	}
	return strings.Join(parts, "; ")
}

// readingLine is "name=value/target (activation A, active)".
func readingLine(t historyv1alpha1.TriggerReading) string {
	value := "?"
	if t.Value != nil {
		value = t.Value.String()
	}
	if t.Target != nil {
		value += "/" + t.Target.String()
	}
	state := "inactive"
	if t.Active {
		state = "active"
	}
	if t.Error != "" {
		state = "failing"
	}
	detail := state
	if t.Activation != "" {
		detail = "activation " + t.Activation + ", " + state
	}
	return fmt.Sprintf("%s=%s (%s)", readingName(t), value, detail)
}

// readingName names a trigger as the operator's decisions and KEDA's activation events do: its
// name, else its type with "Scaler" appended.
func readingName(t historyv1alpha1.TriggerReading) string {
	return Trigger{Name: t.Name, Type: t.Type}.label()
}

func activeNames(ts []historyv1alpha1.TriggerReading) string {
	var names []string
	for _, t := range ts {
		if t.Active {
			names = append(names, readingName(t))
		}
	}
	return strings.Join(names, ";")
}

var decisionKinds = map[historyv1alpha1.DecisionType]Kind{
	historyv1alpha1.DecisionActivated:       KindActivated,
	historyv1alpha1.DecisionDeactivated:     KindDeactivated,
	historyv1alpha1.DecisionScaleFailed:     KindScaleFailed,
	historyv1alpha1.DecisionFallbackOn:      KindFallbackOn,
	historyv1alpha1.DecisionFallbackOff:     KindFallbackOff,
	historyv1alpha1.DecisionPaused:          KindPaused,
	historyv1alpha1.DecisionResumed:         KindResumed,
	historyv1alpha1.DecisionScalerError:     KindScalerError,
	historyv1alpha1.DecisionScalerRecovered: KindScalerRecovered,
	historyv1alpha1.DecisionJobsCreated:     KindJobsCreated,
	historyv1alpha1.DecisionConfigChanged:   KindConfigChanged,
}

func decision(d historyv1alpha1.Decision) Entry {
	kind, ok := decisionKinds[d.Type]
	if !ok {
		kind = KindEvent
	}
	e := Entry{Time: d.Time.Time, Kind: kind, Source: SourceOperator, Trigger: d.Trigger, FromReplicas: d.FromReplicas, ToReplicas: d.ToReplicas,
		Warning: kind == KindScalerError || kind == KindScaleFailed || kind == KindFallbackOn}
	var msg []string
	if d.Trigger != "" {
		switch kind {
		case KindActivated:
			msg = append(msg, "by "+d.Trigger)
		case KindDeactivated:
			msg = append(msg, d.Trigger+" went inactive")
		default:
			msg = append(msg, d.Trigger)
		}
	}
	if d.FromReplicas != nil && d.ToReplicas != nil {
		msg = append(msg, fmt.Sprintf("%d -> %d replicas", *d.FromReplicas, *d.ToReplicas))
	} else if d.ToReplicas != nil {
		msg = append(msg, fmt.Sprintf("at %d replicas", *d.ToReplicas))
	}
	if d.Message != "" && kind != KindPaused {
		msg = append(msg, d.Message)
	} else if kind == KindPaused && d.ToReplicas == nil {
		msg = append(msg, d.Message)
	}
	e.Message = strings.Join(msg, ": ")
	return e
}

// writes is the fallback for spec changes without the operator's history: the write times of
// the object's field managers (other than status writers).
func writes(in Input) []Entry {
	var out []Entry
	for _, m := range in.ManagedFields {
		if m.Subresource != "" || m.Time == nil {
			continue
		}
		out = append(out, Entry{Time: m.Time.Time, Kind: KindConfigChanged, Source: in.Object.Kind + "/" + in.Object.Name,
			Message: fmt.Sprintf("last written by %s (%s); generation now %d", m.Manager, strings.ToLower(string(m.Operation)), in.Generation)})
	}
	return out
}

// eventKinds maps the reasons of the operator's events (KEDA's and ours alike) to entry kinds;
// other reasons stay plain events.
var eventKinds = map[string]Kind{
	kedav1alpha1.EventKEDAScaleTargetActivated:          KindActivated,
	kedav1alpha1.EventKEDAScaleTargetDeactivated:        KindDeactivated,
	kedav1alpha1.EventKEDAScaleTargetActivationFailed:   KindScaleFailed,
	kedav1alpha1.EventKEDAScaleTargetDeactivationFailed: KindScaleFailed,
	kedav1alpha1.EventScaledObjectFallbackActivated:     KindFallbackOn,
	kedav1alpha1.EventScaledObjectFallbackDeactivated:   KindFallbackOff,
	kedav1alpha1.EventScaledObjectPaused:                KindPaused,
	kedav1alpha1.EventScaledJobPaused:                   KindPaused,
	kedav1alpha1.EventScaledObjectUnpaused:              KindResumed,
	kedav1alpha1.EventScaledJobUnpaused:                 KindResumed,
	kedav1alpha1.EventKEDAScalerFailed:                  KindScalerError,
	kedav1alpha1.EventKEDAMetricSourceFailed:            KindScalerError,
	kedav1alpha1.EventKEDAJobsCreated:                   KindJobsCreated,
	kedav1alpha1.EventScaledJobActive:                   KindActivated,
	kedav1alpha1.EventScaledJobInactive:                 KindDeactivated,
}

// covered are the kinds the operator's history records itself: with the history, the object's
// events of these kinds repeat it, except those older than the history (before the operator
// started, or pushed out of the ring).
var covered = map[Kind]bool{
	KindActivated: true, KindDeactivated: true, KindScaleFailed: true, KindFallbackOn: true, KindFallbackOff: true,
	KindPaused: true, KindResumed: true, KindScalerError: true, KindJobsCreated: true,
}

func events(in Input) []Entry {
	hpaName, targetRef := in.HPA, in.Target
	jobs := map[string]bool{}
	for _, j := range in.Jobs {
		jobs[j] = true
	}
	var out []Entry
	for i := range in.Events {
		ev := &in.Events[i]
		obj := ev.InvolvedObject
		is := func(r Ref) bool { return r.Name != "" && obj.Kind == r.Kind && obj.Name == r.Name }
		switch {
		case is(in.Object):
			e := objectEvent(ev)
			if in.History != nil && covered[e.Kind] && historyCovers(in.History, e.Time) {
				continue
			}
			out = append(out, e)
		case is(hpaName):
			out = append(out, hpaEvent(ev, in.Triggers))
		case is(targetRef), obj.Kind == "Job" && jobs[obj.Name]:
			out = append(out, plainEvent(ev, KindEvent))
		}
	}
	return out
}

// historyCovers reports whether t falls in the time the history remembers: after its first
// decision, or its first entry when its decision ring has not filled.
func historyCovers(h *historyv1alpha1.History, t time.Time) bool {
	start := h.Since.Time
	if int32(len(h.Decisions)) >= h.DecisionCapacity && len(h.Decisions) > 0 {
		start = h.Decisions[0].Time.Time
	}
	return !t.Before(start)
}

func objectEvent(ev *corev1.Event) Entry {
	kind, ok := eventKinds[ev.Reason]
	if !ok {
		kind = KindEvent
	}
	e := plainEvent(ev, kind)
	if kind == KindActivated {
		if _, by, found := strings.Cut(ev.Message, "triggered by "); found {
			e.Trigger = by
		}
	}
	return e
}

func plainEvent(ev *corev1.Event, kind Kind) Entry {
	msg := ev.Message
	if kind == KindEvent {
		msg = ev.Reason + ": " + msg
	}
	return Entry{Time: EventTime(ev), Kind: kind, Source: ev.InvolvedObject.Kind + "/" + ev.InvolvedObject.Name,
		Message: msg, Warning: ev.Type == corev1.EventTypeWarning, Count: ev.Count}
}

var (
	newSize    = regexp.MustCompile(`New size: (\d+)`)
	hpaMetric  = regexp.MustCompile(`(external|pods|object) metric ([A-Za-z0-9_.:\-]+)`)
	hpaRes     = regexp.MustCompile(`(cpu|memory) resource`)
	hpaReason  = regexp.MustCompile(`reason: (.*)$`)
	labelsPart = regexp.MustCompile(`\(&LabelSelector\{.*?\},\}\)|\(nil\)`)
)

// hpaEvent reads the HPA controller's SuccessfulRescale ("New size: 3; reason: external metric
// s0-redis-queue(&LabelSelector{...}) above target"), naming the trigger behind the metric.
func hpaEvent(ev *corev1.Event, triggers []Trigger) Entry {
	if ev.Reason != "SuccessfulRescale" {
		return plainEvent(ev, KindEvent)
	}
	e := plainEvent(ev, KindRescaled)
	if m := newSize.FindStringSubmatch(ev.Message); m != nil {
		if n, err := strconv.ParseInt(m[1], 10, 32); err == nil {
			e.ToReplicas = ptr(int32(n))
		}
	}
	reason := ev.Message
	if m := hpaReason.FindStringSubmatch(ev.Message); m != nil {
		reason = m[1]
	}
	reason = labelsPart.ReplaceAllString(reason, "")
	if m := hpaMetric.FindStringSubmatch(ev.Message); m != nil {
		e.Metric = m[2]
		e.Trigger = triggerOfMetric(m[2], triggers)
	} else if m := hpaRes.FindStringSubmatch(ev.Message); m != nil {
		e.Metric = m[1]
		e.Trigger = triggerOfType(m[1], triggers)
	}
	e.Message = reason
	if e.ToReplicas != nil {
		e.Message = fmt.Sprintf("to %d replicas: %s", *e.ToReplicas, reason)
	}
	if e.Trigger != "" {
		e.Message += " (trigger " + e.Trigger + ")"
	}
	return e
}

// triggerOfMetric names the trigger behind an external metric: the operator names trigger i's
// metric s<i>-..., as KEDA does.
func triggerOfMetric(metric string, triggers []Trigger) string {
	prefix, _, found := strings.Cut(metric, "-")
	if !found || len(prefix) < 2 || prefix[0] != 's' {
		return ""
	}
	i, err := strconv.Atoi(prefix[1:])
	if err != nil {
		return ""
	}
	for _, t := range triggers {
		if t.Index == i {
			return t.label()
		}
	}
	return ""
}

func triggerOfType(typ string, triggers []Trigger) string {
	for _, t := range triggers {
		if t.Type == typ {
			return t.label()
		}
	}
	return ""
}

func (t Trigger) label() string {
	if t.Name != "" {
		return t.Name
	}
	return t.Type + "Scaler"
}

// EventTime is when an event last happened.
func EventTime(e *corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	default:
		return e.CreationTimestamp.Time
	}
}

func ptr[T any](v T) *T { return &v }
