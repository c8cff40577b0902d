package tui

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/charmbracelet/x/ansi"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/plugin/view"
)

// sortColumn is a column of the list the rows can be sorted by.
type sortColumn int

const (
	sortNamespace sortColumn = iota
	sortName
	sortReplicas
	sortMinMax
	sortReady
	sortActive
	sortPaused
	sortTriggers
	sortColumns // how many there are
)

// listHeader is the list's columns, in sortColumn order.
var listHeader = [sortColumns]string{"NAMESPACE", "NAME", "REPLICAS", "MIN-MAX", "READY", "ACTIVE", "PAUSED", "TRIGGERS (value/target)"}

// listRow is one object of the list, rendered once per refresh so that a frame only lays out the
// rows on screen: with 1,000 objects, View must not format every row.
type listRow struct {
	ref   ref
	cells [sortColumns]string
	// The sort keys that are not the cells' text.
	current, desired, max int32
	load                  float64 // the highest value/target of the triggers; NaN when none is known
}

// naturalLess orders strings as people read them: runs of digits compare as numbers, so so-2 comes
// before so-10.
func naturalLess(a, b string) bool { return naturalCompare(a, b) < 0 }

func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := cmp.Compare(len(na), len(nb)); c != 0 {
				return c
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			// Equal numbers: fewer leading zeros first, so the order is total.
			if c := cmp.Compare(da, db); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// compareRows orders two rows by col, ties broken by namespace, then name (naturally), then a
// ScaledObject before a ScaledJob of the same name: kubectl's order, with numbers read as numbers.
func compareRows(a, b *listRow, col sortColumn) int {
	c := 0
	switch col {
	case sortName:
		c = naturalCompare(a.ref.name, b.ref.name)
	case sortReplicas:
		c = cmp.Or(cmp.Compare(a.current, b.current), cmp.Compare(a.desired, b.desired))
	case sortMinMax:
		c = cmp.Compare(a.max, b.max)
	case sortReady, sortActive, sortPaused:
		c = strings.Compare(a.cells[col], b.cells[col])
	case sortTriggers:
		// Unknown loads sort below every known one.
		switch an, bn := math.IsNaN(a.load), math.IsNaN(b.load); {
		case an && bn:
		case an:
			c = -1
		case bn:
			c = 1
		default:
			c = cmp.Compare(a.load, b.load)
		}
	}
	return cmp.Or(c,
		naturalCompare(a.ref.namespace, b.ref.namespace),
		naturalCompare(a.ref.name, b.ref.name),
		-strings.Compare(a.ref.kind, b.ref.kind))
}

// sortRows sorts rows by col, descending when desc.
func sortRows(rows []listRow, col sortColumn, desc bool) {
	slices.SortStableFunc(rows, func(a, b listRow) int {
		if desc {
			return compareRows(&b, &a, col)
		}
		return compareRows(&a, &b, col)
	})
}

// buildRows renders every object's row from what the model has (no I/O), filtered by filter.
func (m Model) buildRows() []listRow {
	rows := make([]listRow, 0, len(m.objects))
	for i := range m.objects {
		o := &m.objects[i]
		r := o.ref()
		if m.filter != "" && !strings.Contains(r.String(), m.filter) {
			continue
		}
		row := listRow{ref: r, load: math.NaN()}
		if sj := o.ScaledJob; sj != nil {
			// A ScaledJob's replicas are its running Jobs; it has no HPA and no external metric.
			row.current, row.max = int32(o.RunningJobs), sj.Spec.MaxReplicas()
			row.cells = [sortColumns]string{r.namespace, "sj/" + sj.Name, fmt.Sprintf("%d jobs", o.RunningJobs), fmt.Sprintf("%d-%d", sj.Spec.MinReplicas(), sj.Spec.MaxReplicas()),
				cond(sj.Status.Conditions, kedav1alpha1.ConditionReady), cond(sj.Status.Conditions, kedav1alpha1.ConditionActive),
				cond(sj.Status.Conditions, kedav1alpha1.ConditionPaused), jobTriggerSummary(sj)}
		} else {
			so := &o.ScaledObject
			replicas := "-"
			if o.HPA != nil {
				row.current, row.desired = o.HPA.Status.CurrentReplicas, o.HPA.Status.DesiredReplicas
				replicas = fmt.Sprintf("%d/%d", row.current, row.desired)
			}
			row.max = so.Spec.MaxReplicas()
			summary, load := m.triggerSummary(o)
			row.load = load
			row.cells = [sortColumns]string{r.namespace, so.Name, replicas, fmt.Sprintf("%d-%d", so.Spec.MinReplicas(), so.Spec.MaxReplicas()),
				cond(so.Status.Conditions, kedav1alpha1.ConditionReady), cond(so.Status.Conditions, kedav1alpha1.ConditionActive),
				cond(so.Status.Conditions, kedav1alpha1.ConditionPaused), summary}
		}
		rows = append(rows, row)
	}
	sortRows(rows, m.sortCol, m.sortDesc)
	return rows
}

// columnWidths is each column's width over all rows and the header, so that columns stay put as
// the list scrolls.
func columnWidths(rows []listRow) [sortColumns]int {
	var w [sortColumns]int
	for c, h := range listHeader {
		w[c] = len(h) + 1 // room for the sort arrow
	}
	for i := range rows {
		for c, cell := range rows[i].cells {
			w[c] = max(w[c], cellWidth(cell))
		}
	}
	return w
}

// cellWidth is how many cells s takes. The list's cells are ASCII names and numbers, box and block
// characters: those are counted directly, which with 1,000 rows is most of a refresh's time
// otherwise; anything else goes through ansi's grapheme-aware count.
func cellWidth(s string) int {
	n := 0
	for _, r := range s {
		if r == 0x1b || r >= 0x1100 && (r < 0x2500 || r > 0x259f) {
			return ansi.StringWidth(s)
		}
		n++
	}
	return n
}

// triggerSummary is each external metric's sparkline and value/target (with the activation
// threshold when the trigger sets one), and the highest value/target of them, NaN when no value is
// known.
func (m Model) triggerSummary(o *Object) (string, float64) {
	if o.HPA == nil {
		return fmt.Sprintf("%d trigger(s), no HPA", len(o.ScaledObject.Spec.Triggers)), math.NaN()
	}
	load := math.NaN()
	var b strings.Builder
	for _, s := range o.HPA.Spec.Metrics {
		if s.External == nil {
			continue
		}
		name := s.External.Metric.Name
		target, targetText := 0.0, ""
		switch t := s.External.Target; {
		case t.AverageValue != nil:
			target, targetText = t.AverageValue.AsApproximateFloat64(), t.AverageValue.String()
		case t.Value != nil:
			target, targetText = t.Value.AsApproximateFloat64(), t.Value.String()
		}
		key := o.ref().String() + "/" + name
		cur := "?"
		if v, ok := m.valueOf(o, name); ok {
			cur = trimFloat(v)
			if target > 0 && (math.IsNaN(load) || v/target > load) {
				load = v / target
			}
		}
		if b.Len() > 0 {
			b.WriteString("  ")
		}
		b.WriteString(sparkline(m.history[key], 8))
		b.WriteString(" " + cur + "/" + targetText)
		if idx, ok := triggerIndex(name); ok && idx < len(o.ScaledObject.Spec.Triggers) {
			if act := view.ActivationThreshold(o.ScaledObject.Spec.Triggers[idx].Metadata); act != "0" {
				b.WriteString(" act>" + act)
			}
		}
	}
	return b.String(), load
}

// triggerIndex reads the trigger's index from its metric name, which starts with s<index>-.
func triggerIndex(metric string) (int, bool) {
	if len(metric) < 3 || metric[0] != 's' {
		return 0, false
	}
	n := digitRun(metric[1:])
	if n == 0 || len(metric) <= 1+n || metric[1+n] != '-' {
		return 0, false
	}
	idx := 0
	for _, c := range metric[1 : 1+n] {
		idx = idx*10 + int(c-'0')
	}
	return idx, true
}

// listHeight is how many rows of the list fit on screen: the title, a blank line, the header and
// the footer take four lines.
func (m Model) listHeight() int { return max(m.height-4, 1) }

// scrollTo moves the window so that the cursor is on screen.
func (m *Model) scrollTo() {
	h := m.listHeight()
	switch {
	case m.cursor < m.offset:
		m.offset = m.cursor
	case m.cursor >= m.offset+h:
		m.offset = m.cursor - h + 1
	}
	m.offset = max(0, min(m.offset, len(m.rows)-h))
}
