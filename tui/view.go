package tui

import (
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	autoscalingv1 "k8s.io/api/autoscaling/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/plugin/diagnose"
	"github.com/kedactl/kedactl/plugin/view"
)

// styles is the theme, defined once; NO_COLOR gives plain text with only bold/reverse kept for
// the cursor.
type styles struct {
	title, header, selected, dim, err, warn, ok, accent lipgloss.Style
}

func newStyles(noColor bool) styles {
	if noColor {
		plain := lipgloss.NewStyle()
		return styles{title: plain.Bold(true), header: plain.Bold(true), selected: plain.Reverse(true), dim: plain, err: plain, warn: plain, ok: plain, accent: plain}
	}
	return styles{
		title:    lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("12")),
		header:   lipgloss.NewStyle().Bold(true),
		selected: lipgloss.NewStyle().Reverse(true),
		dim:      lipgloss.NewStyle().Foreground(lipgloss.Color("8")),
		err:      lipgloss.NewStyle().Foreground(lipgloss.Color("9")),
		warn:     lipgloss.NewStyle().Foreground(lipgloss.Color("11")),
		ok:       lipgloss.NewStyle().Foreground(lipgloss.Color("10")),
		accent:   lipgloss.NewStyle().Foreground(lipgloss.Color("12")),
	}
}

// View renders the state; it never touches the cluster.
func (m Model) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	v.WindowTitle = "kubectl keda"
	return v
}

// Render is the screen as a string (golden tests compare it).
func (m Model) Render() string {
	var b strings.Builder
	ns := m.namespace
	if ns == "" {
		ns = "all"
	}
	title := fmt.Sprintf("kubectl keda  namespace: %s  ScaledObjects: %d  ScaledJobs: %d", ns, len(m.objects)-m.jobs, m.jobs)
	if m.filter != "" {
		title += "  filter: " + m.filter
	}
	if m.mode == modeList && !m.showHelp && m.sortCol < m.firstColumn() {
		// The header shows the sort on the sorted column; this one is not on screen.
		title += "  sort: " + listHeader[m.sortCol] + m.sortArrow()
	}
	b.WriteString(m.styles.title.Render(truncate(title, m.width)) + "\n")
	switch {
	case m.showHelp:
		b.WriteString("\n" + m.help.FullHelpView(m.keys.FullHelp()) + "\n")
	case m.mode == modeDetail || ((m.mode == modeConfirm || m.mode == modeTransfer) && m.prevMode == modeDetail):
		b.WriteString(m.renderDetail())
	default:
		b.WriteString(m.renderList())
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	footer := m.footer()
	if max := m.height - 1; max > 0 && len(lines) > max {
		lines = lines[:max]
	}
	for len(lines) < m.height-1 {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n") + "\n" + footer
}

func (m Model) sortArrow() string {
	if m.sortDesc {
		return "↓"
	}
	return "↑"
}

func (m Model) footer() string {
	switch m.mode {
	case modeFilter:
		return "/" + m.input + "█"
	case modeNamespace:
		return ":namespace " + m.input + "█  (empty for all)"
	case modeTransfer:
		return truncate(fmt.Sprintf("HPA for %s to adopt: %s█", m.confirm.target, m.input), m.width)
	case modeConfirm:
		return m.styles.warn.Render(truncate(m.confirm.prompt()+" (y/n)", m.width))
	}
	if m.err != nil {
		return m.styles.err.Render(truncate("error: "+m.err.Error(), m.width))
	}
	if m.status != "" {
		return truncate(m.status, m.width)
	}
	m.help.SetWidth(m.width)
	// help truncates only while its ellipsis fits, so cut the line to the terminal here.
	return truncate(m.help.ShortHelpView(m.keys.ShortHelp()), m.width)
}

// renderList lays out the rows on screen only; they were rendered when the list last changed.
func (m Model) renderList() string {
	if len(m.rows) == 0 {
		return "\n" + m.styles.dim.Render("No ScaledObjects or ScaledJobs. Press : to change the namespace.") + "\n"
	}
	first := m.firstColumn()
	var b strings.Builder
	b.WriteString("\n")
	var head strings.Builder
	for c := first; c < sortColumns; c++ {
		h := listHeader[c]
		if c == m.sortCol {
			h += m.sortArrow()
		}
		m.cell(&head, h, c)
	}
	b.WriteString(m.styles.header.Render(truncate(strings.TrimRight(head.String(), " "), m.width)) + "\n")
	end := min(m.offset+m.listHeight(), len(m.rows))
	for i := m.offset; i < end; i++ {
		var line strings.Builder
		for c := first; c < sortColumns; c++ {
			m.cell(&line, m.rows[i].cells[c], c)
		}
		l := truncate(strings.TrimRight(line.String(), " "), m.width)
		if i == m.cursor {
			l = m.styles.selected.Render(l)
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}

// firstColumn is the list's first column: the namespace only when it fits.
func (m Model) firstColumn() sortColumn {
	if m.width >= 110 {
		return sortNamespace
	}
	return sortName
}

// cell writes text padded to column c's width and the gap after it.
func (m Model) cell(b *strings.Builder, text string, c sortColumn) {
	b.WriteString(text)
	if c < sortColumns-1 {
		b.WriteString(strings.Repeat(" ", max(m.widths[c]-cellWidth(text), 0)+2))
	}
}

// jobTriggerSummary lists a ScaledJob's trigger types.
func jobTriggerSummary(sj *kedav1alpha1.ScaledJob) string {
	types := make([]string, 0, len(sj.Spec.Triggers))
	for _, t := range sj.Spec.Triggers {
		types = append(types, t.Type)
	}
	return strings.Join(types, ", ")
}

func (m Model) renderDetail() string {
	o := m.selectedObject()
	var b strings.Builder
	b.WriteString("\n" + m.styles.header.Render(m.selected.kind+" "+m.selected.String()) + "\n")
	if o == nil {
		b.WriteString(m.styles.dim.Render("(gone)") + "\n")
		return b.String()
	}
	if o.ScaledJob != nil {
		b.WriteString(m.renderJobDetail(o))
	} else {
		b.WriteString(m.renderObjectDetail(o))
	}
	b.WriteString(m.renderDiagnosis())
	return b.String()
}

// renderJobDetail is a ScaledJob's triggers with their values, its queue and Jobs, its conditions
// and its recent Jobs. The numbers come with the diagnosis (read from the apiserver, Pods and
// external metrics included); until it arrives, the Jobs the list counted are shown.
func (m Model) renderJobDetail(o *Object) string {
	var b strings.Builder
	sj := o.ScaledJob
	var st *view.ScaledJobState
	if m.detail != nil && m.detail.ScaledJob != nil {
		st = m.detail.ScaledJob
	}
	rows := [][]string{{"TRIGGER", "TYPE", "VALUE", "TARGET", "ACTIVATION", "ACTIVE"}}
	if st != nil {
		for _, r := range view.ScaledJobRows(sj, st) {
			rows = append(rows, []string{r.Trigger, r.Type, r.Value, r.TargetValue, r.Activation, r.Active})
		}
	} else {
		for i, t := range sj.Spec.Triggers {
			rows = append(rows, []string{view.TriggerName(t, i), t.Type, "-", "-", view.ActivationThreshold(t.Metadata), cond(sj.Status.Conditions, kedav1alpha1.ConditionActive)})
		}
	}
	b.WriteString(m.table(rows))
	line := fmt.Sprintf("Jobs: %d running  min %d  max %d  strategy %s", o.RunningJobs, sj.Spec.MinReplicas(), sj.Spec.MaxReplicas(), sj.Spec.EffectiveScalingStrategy())
	if st != nil {
		limits := fmt.Sprintf("max %d", st.Max)
		if st.Min > 0 {
			limits = fmt.Sprintf("min %d  %s", st.Min, limits)
		}
		line = fmt.Sprintf("Queue %s  running %d  pending %d  succeeded %d  failed %d  %s  strategy %s",
			st.QueueString(), st.Running, st.Pending, st.Succeeded, st.Failed, limits, st.Strategy)
	}
	b.WriteString(truncate(line, m.width) + "\n")
	b.WriteString(truncate("Conditions: "+conditionList(sj.Status.Conditions), m.width) + "\n\n")
	if st != nil {
		b.WriteString(m.renderJobs(st))
	}
	return b.String()
}

// renderJobs lists the newest Jobs, as many as leave a short diagnosis room below (at least 3, at
// most view.RecentJobs): 4 on an 80x24 terminal.
func (m Model) renderJobs(st *view.ScaledJobState) string {
	if len(st.Jobs) == 0 {
		return m.styles.dim.Render("No Jobs.") + "\n\n"
	}
	n := min(len(st.Jobs), max(3, min(view.RecentJobs, m.height-20)))
	rows := [][]string{{"JOB", "PHASE", "AGE"}}
	for _, j := range st.Jobs[:n] {
		rows = append(rows, []string{j.Name, j.Phase, view.Age(m.detailAt.Sub(j.Created))})
	}
	out := m.table(rows)
	if more := len(st.Jobs) - n; more > 0 {
		out += m.styles.dim.Render(fmt.Sprintf("… %d more", more)) + "\n"
	}
	return out + "\n"
}

// renderObjectDetail is a ScaledObject's triggers against their targets, its HPA and conditions.
func (m Model) renderObjectDetail(o *Object) string {
	var b strings.Builder
	in := view.Inputs{ScaledObject: &o.ScaledObject, HPA: o.HPA, Values: map[string]string{}}
	if o.HPA != nil {
		in.Scale = &autoscalingv1.Scale{Status: autoscalingv1.ScaleStatus{Replicas: o.HPA.Status.CurrentReplicas}}
		for _, name := range o.ScaledObject.Status.ExternalMetricNames {
			if v, ok := m.valueOf(o, name); ok {
				in.Values[name] = trimFloat(v)
			}
		}
	}
	// The external metrics API's own answers, read with the diagnosis, are exact; the HPA's are
	// what it last saw.
	if m.detail != nil {
		for name, v := range m.detail.Values {
			in.Values[name] = v
		}
	}
	rows := [][]string{{"TRIGGER", "TYPE", "VALUE", "TARGET", "ACTIVATION", "ACTIVE", "HEALTH"}}
	for _, r := range view.TriggerRows(in) {
		rows = append(rows, []string{r.Trigger, r.Type, r.Value, r.TargetValue, r.Activation, r.Active, r.Health})
	}
	b.WriteString(m.table(rows))
	b.WriteString(truncate("HPA: "+m.hpaLine(o), m.width) + "\n")
	if l := m.ownerLine(); l != "" {
		b.WriteString(truncate(l, m.width) + "\n")
	}
	b.WriteString(truncate("Conditions: "+conditionList(o.ScaledObject.Status.Conditions), m.width) + "\n\n")
	if m.showMetrics {
		b.WriteString(m.renderMetrics())
	}
	if m.showChart {
		b.WriteString(m.renderChart(o))
	}
	return b.String()
}

// table aligns rows, the first being the header, cut to the terminal's width.
func (m Model) table(rows [][]string) string {
	var b strings.Builder
	for i, l := range columns(rows) {
		l = truncate(l, m.width)
		if i == 0 {
			l = m.styles.header.Render(l)
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}

func conditionList(conds kedav1alpha1.Conditions) string {
	out := make([]string, 0, len(conds))
	for _, c := range conds {
		out = append(out, fmt.Sprintf("%s=%s", c.Type, c.Status))
	}
	return strings.Join(out, " ")
}

// renderDiagnosis is describe's findings and the recent events.
func (m Model) renderDiagnosis() string {
	var b strings.Builder
	b.WriteString(m.styles.header.Render("Diagnosis") + "\n")
	switch {
	case m.detailErr != nil:
		b.WriteString(m.styles.err.Render(truncate(m.detailErr.Error(), m.width)) + "\n")
	case m.detail == nil:
		b.WriteString(m.styles.dim.Render("reading…") + "\n")
	default:
		for _, f := range m.detail.Findings {
			st := m.styles.ok
			switch f.Severity {
			case diagnose.Error:
				st = m.styles.err
			case diagnose.Warning:
				st = m.styles.warn
			}
			b.WriteString(st.Render(truncate(fmt.Sprintf("%-7s %s", strings.ToUpper(f.Severity.String()), f.Title), m.width)) + "\n")
			if f.Detail != "" {
				b.WriteString(m.styles.dim.Render(truncate("        "+f.Detail, m.width)) + "\n")
			}
		}
		if n := len(m.detail.Events); n > 0 {
			b.WriteString("\n" + m.styles.header.Render("Events") + "\n")
			for _, e := range m.detail.Events[max(0, n-5):] {
				line := fmt.Sprintf("%s %s: %s", e.Object, e.Reason, e.Message)
				if m.charted() {
					// The event's mark on the chart.
					line = string(eventMark(e.Type, e.Reason)) + " " + line
				}
				b.WriteString(truncate(line, m.width) + "\n")
			}
		}
	}
	return b.String()
}

// renderMetrics is `kubectl keda metrics`: what external.metrics.k8s.io answers the HPA right now.
func (m Model) renderMetrics() string {
	var b strings.Builder
	b.WriteString(m.styles.header.Render("Raw metrics (external.metrics.k8s.io)") + "\n")
	switch {
	case m.metricsErr != nil:
		b.WriteString(m.styles.err.Render(truncate(m.metricsErr.Error(), m.width)) + "\n")
	case m.metrics == nil:
		b.WriteString(m.styles.dim.Render("querying…") + "\n")
	default:
		rows := [][]string{{"METRIC", "VALUE", "TIMESTAMP"}}
		for _, r := range m.metrics {
			if r.Error != "" {
				rows = append(rows, []string{r.Metric, "<error>", r.Error})
				continue
			}
			rows = append(rows, []string{r.Metric, r.Value, r.Timestamp.UTC().Format(time.RFC3339)})
		}
		for i, l := range columns(rows) {
			l = truncate(l, m.width)
			if i == 0 {
				l = m.styles.dim.Render(l)
			}
			b.WriteString(l + "\n")
		}
	}
	return b.String() + "\n"
}

func cond(conds kedav1alpha1.Conditions, t kedav1alpha1.ConditionType) string {
	c := conds.Get(t)
	if c == nil {
		return "-"
	}
	return string(c.Status)
}

// columns aligns rows into space-separated columns.
func columns(rows [][]string) []string {
	var widths []int
	for _, r := range rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], lipgloss.Width(c))
		}
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		var b strings.Builder
		for j, c := range r {
			b.WriteString(c)
			if j < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[j]-lipgloss.Width(c)+2))
			}
		}
		out[i] = b.String()
	}
	return out
}

var sparkRunes = []rune("▁▂▃▄▅▆▇█")

// sparkline draws the last width values scaled to their maximum.
func sparkline(values []float64, width int) string {
	if len(values) > width {
		values = values[len(values)-width:]
	}
	top := 0.0
	for _, v := range values {
		top = max(top, v)
	}
	var b strings.Builder
	for i := 0; i < width-len(values); i++ {
		b.WriteRune(' ')
	}
	for _, v := range values {
		idx := 0
		if top > 0 {
			idx = int(v / top * float64(len(sparkRunes)-1))
		}
		b.WriteRune(sparkRunes[idx])
	}
	return b.String()
}

func trimFloat(f float64) string {
	s := fmt.Sprintf("%.2f", f)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

// truncate cuts s, which may hold ANSI styles, to width cells.
func truncate(s string, width int) string {
	if width <= 0 {
		return s
	}
	return ansi.Truncate(s, width, "…")
}
