package tui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/plugin/commands"
	"github.com/kedactl/kedactl/plugin/view"
	"github.com/kedactl/kedactl/tui/chart"
	"github.com/kedactl/kedactl/tui/samples"
)

// chartMaxSpan is the longest the chart looks back; chartSpans are the spans it rounds up to, so
// that the axis reads in round numbers.
const chartMaxSpan = 15 * time.Minute

var chartSpans = []time.Duration{time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, chartMaxSpan}

// hpaLine names the ScaledObject's HPA, whether the ScaledObject owns it (an HPA it does not own
// is not scaled by it: see transfer-hpa) and its replicas.
func (m Model) hpaLine(o *Object) string {
	so := &o.ScaledObject
	var line string
	if o.HPA == nil {
		name := so.Status.HpaName
		if name == "" {
			name = so.HPAName()
		}
		line = fmt.Sprintf("none (expected %s)", name)
	} else {
		line = fmt.Sprintf("%s  %s  current %d  desired %d", o.HPA.Name, ownership(o.HPA, so), o.HPA.Status.CurrentReplicas, o.HPA.Status.DesiredReplicas)
	}
	return line
}

// ownerLine is the operator replica that owns the object (with HA, the one whose samples the
// history holds), when the history says; "" otherwise.
func (m Model) ownerLine() string {
	if m.seeded == nil || m.seeded.Replica == "" {
		return ""
	}
	return "Owner replica: " + m.seeded.Replica
}

// ownership says who controls the HPA: this ScaledObject, another owner, or nobody.
func ownership(hpa *autoscalingv2.HorizontalPodAutoscaler, so *kedav1alpha1.ScaledObject) string {
	for _, ref := range hpa.OwnerReferences {
		if ref.Controller == nil || !*ref.Controller {
			continue
		}
		if ref.Kind == "ScaledObject" && ref.Name == so.Name && (so.UID == "" || ref.UID == so.UID) {
			return "owned by this ScaledObject"
		}
		return fmt.Sprintf("NOT owned: controlled by %s %s", ref.Kind, ref.Name)
	}
	return "NOT owned: no controller"
}

// activation is a trigger's activation threshold as a number, 0 when it sets none or it is not one.
func activation(meta map[string]string) float64 {
	v, err := strconv.ParseFloat(view.ActivationThreshold(meta), 64)
	if err != nil {
		return 0
	}
	return v
}

// eventMark is how an event shows on the chart's marker row and before it in the event list.
func eventMark(typ, reason string) rune {
	switch {
	case typ == "Warning":
		return '!'
	case strings.Contains(reason, "Deactivated"):
		return 'D'
	case strings.Contains(reason, "Activated"):
		return 'A'
	case strings.Contains(reason, "Rescale"):
		return 'R'
	case strings.Contains(reason, "Paused"), strings.Contains(reason, "Resumed"):
		return 'P'
	}
	return '*'
}

// charted reports whether the detail view shows a chart: a ScaledObject's, when not hidden.
func (m Model) charted() bool {
	return m.showChart && m.selected.kind == commands.KindScaledObject
}

// renderChart draws each trigger's value against its target and activation threshold, and the
// replicas, over the samples the TUI recorded (and those a History seeded), with the events as
// markers.
func (m Model) renderChart(o *Object) string {
	ring, ok := m.rings[o.ref()]
	if !ok || ring.Len() == 0 || m.sampledAt.IsZero() {
		return m.styles.dim.Render("Timeline: no samples yet.") + "\n\n"
	}
	ss := ring.Samples()
	to := m.sampledAt
	span := chartMaxSpan
	for _, s := range chartSpans {
		if !ss[0].At.Before(to.Add(-s)) {
			span = s
			break
		}
	}
	from := to.Add(-span)
	// A short terminal gets short panels, so that the diagnosis keeps some room.
	triggerRows, replicaRows := 4, 3
	if m.height < 30 {
		triggerRows, replicaRows = 3, 2
	}
	var panels []chart.Panel
	last := ss[len(ss)-1]
	for i, t := range last.Triggers {
		title := t.Metric
		if idx, ok := triggerIndex(t.Metric); ok && idx < len(o.ScaledObject.Spec.Triggers) {
			title = view.TriggerName(o.ScaledObject.Spec.Triggers[idx], idx) + " " + o.ScaledObject.Spec.Triggers[idx].Type
		}
		value, target, act := series(ss, i)
		panels = append(panels, chart.Panel{Title: title, Height: triggerRows, Series: []chart.Series{
			{Label: "value", Mark: '•', Points: value, Paint: paint(m.styles.ok)},
			{Label: "target", Mark: '─', Points: target, Paint: paint(m.styles.warn)},
			{Label: "activation", Mark: '┈', Points: act, Paint: paint(m.styles.dim)},
		}})
	}
	current, desired := replicaSeries(ss)
	panels = append(panels, chart.Panel{Title: "replicas", Height: replicaRows, Series: []chart.Series{
		{Label: "current", Mark: '•', Points: current, Paint: paint(m.styles.ok)},
		{Label: "desired", Mark: '○', Points: desired, Paint: paint(m.styles.accent)},
	}})
	lines := chart.Render(panels, m.markers(), from, to, m.width)
	if lines == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString(m.styles.header.Render("Timeline") + "\n")
	for _, l := range lines {
		b.WriteString(truncate(l, m.width) + "\n")
	}
	return b.String() + "\n"
}

func paint(s interface{ Render(...string) string }) func(string) string {
	return func(t string) string { return s.Render(t) }
}

// series is the value, target and activation threshold of trigger i over the samples; a sample
// without the trigger (its triggers changed) is a gap.
func series(ss []samples.Sample, i int) (value, target, act []chart.Point) {
	for _, s := range ss {
		if i >= len(s.Triggers) {
			value = append(value, chart.Point{At: s.At})
			target = append(target, chart.Point{At: s.At})
			act = append(act, chart.Point{At: s.At})
			continue
		}
		t := s.Triggers[i]
		value = append(value, chart.Point{At: s.At, V: t.Value, OK: t.HasValue})
		target = append(target, chart.Point{At: s.At, V: t.Target, OK: true})
		act = append(act, chart.Point{At: s.At, V: t.Activation, OK: t.Activation > 0})
	}
	return value, target, act
}

func replicaSeries(ss []samples.Sample) (current, desired []chart.Point) {
	for _, s := range ss {
		current = append(current, chart.Point{At: s.At, V: float64(s.Current), OK: s.HasReplicas})
		desired = append(desired, chart.Point{At: s.At, V: float64(s.Desired), OK: s.HasReplicas})
	}
	return current, desired
}

// markers are the events of the selected object: those the diagnosis read and those a History
// kept, at the time each last happened.
func (m Model) markers() []chart.Marker {
	var out []chart.Marker
	if m.seeded != nil {
		for _, e := range m.seeded.Events {
			out = append(out, chart.Marker{At: e.At, Mark: eventMark(e.Type, e.Reason)})
		}
	}
	if m.detail != nil {
		for _, e := range m.detail.Events {
			out = append(out, chart.Marker{At: e.Last, Mark: eventMark(e.Type, e.Reason)})
		}
	}
	return out
}
