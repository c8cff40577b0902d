package main

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Report is what REPORT.md shows: run metadata, the targets and one section per figure.
type Report struct {
	Title   string
	Meta    []string // bullet lines under the title
	Targets []Target
	Figures []Figure
	Notes   []string
}

// Target is a goal printed beside the figures: met or not, with the gap.
type Target struct {
	Name  string
	Value string // what was measured, formatted
	Goal  string
	// Met is nil when the figure was not measured.
	Met *bool
	Gap string
	// Why explains a gap from what the run measured; shown under the table when not met.
	Why string
}

// Figure is one measured figure: a chart, tables and notes; NotMeasured says why it is missing.
type Figure struct {
	ID, Title string
	What      string // how it was measured
	Charts    []Chart
	Tables    []Table
	Notes     []string
	// Blocks are preformatted texts shown after the notes (profiles).
	Blocks      []Block
	NotMeasured string
}

// Block is a caption and preformatted lines.
type Block struct {
	Caption string
	Lines   []string
}

// Chart is one SVG file next to REPORT.md.
type Chart struct {
	File, Alt string
	SVG       []byte
}

// Table is a markdown table.
type Table struct {
	Header []string
	Rows   [][]string
}

// Num formats a measured number for a table; "–" when not measured.
func Num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return fmtNum(round3(v))
}

// RatioCell formats ours/KEDA as "0.42×".
func RatioCell(ours, keda float64) string {
	r := Ratio(ours, keda)
	if math.IsNaN(r) {
		return "–"
	}
	return fmtNum(round3(r)) + "×"
}

// NewTarget builds a target "value < limit" (below) or "value >= limit".
func NewTarget(name, unit string, value, limit float64, below bool) Target {
	if below {
		return NewTargetCmp(name, unit, value, limit, "<")
	}
	return NewTargetCmp(name, unit, value, limit, ">=")
}

// NewTargetCmp builds a target "value cmp limit", cmp one of <, <=, >=.
func NewTargetCmp(name, unit string, value, limit float64, cmp string) Target {
	t := Target{Name: name, Goal: fmt.Sprintf("%s %s %s", cmp, fmtNum(limit), unit)}
	if math.IsNaN(value) {
		t.Value = "not measured"
		return t
	}
	t.Value = Num(value) + " " + unit
	var met bool
	switch cmp {
	case "<":
		met = value < limit
	case "<=":
		// At the precision shown: two counts over windows of a few seconds' different length
		// are equal when they print the same.
		met = value <= limit || Num(value) == Num(limit)
	default:
		met = value >= limit
	}
	t.Met = &met
	if !met {
		t.Gap = fmt.Sprintf("%s %s", Num(math.Abs(value-limit)), unit)
		if limit != 0 {
			t.Gap += fmt.Sprintf(" (%s×)", Num(value/limit))
		}
	}
	return t
}

// Markdown renders the report; charts are referenced by file name.
func (r Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", r.Title)
	for _, m := range r.Meta {
		fmt.Fprintf(&b, "- %s\n", m)
	}
	if len(r.Meta) > 0 {
		b.WriteString("\n")
	}
	if len(r.Targets) > 0 {
		b.WriteString("## Targets\n\n")
		writeTable(&b, targetTable(r.Targets))
		var whys []string
		for _, t := range r.Targets {
			if t.Met != nil && !*t.Met && t.Why != "" {
				whys = append(whys, fmt.Sprintf("- **%s**: %s", t.Name, t.Why))
			}
		}
		if len(whys) > 0 {
			fmt.Fprintf(&b, "\nWhy the gaps:\n\n%s\n\n", strings.Join(whys, "\n"))
		}
	}
	for _, f := range r.Figures {
		fmt.Fprintf(&b, "## %s. %s\n\n", f.ID, f.Title)
		if f.What != "" {
			fmt.Fprintf(&b, "%s\n\n", f.What)
		}
		if f.NotMeasured != "" {
			fmt.Fprintf(&b, "**Not measured:** %s\n\n", f.NotMeasured)
		}
		for _, c := range f.Charts {
			fmt.Fprintf(&b, "![%s](%s)\n\n", c.Alt, c.File)
		}
		for _, t := range f.Tables {
			writeTable(&b, t)
		}
		for _, n := range f.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
		if len(f.Notes) > 0 {
			b.WriteString("\n")
		}
		for _, blk := range f.Blocks {
			fmt.Fprintf(&b, "%s\n\n```\n%s\n```\n\n", blk.Caption, strings.Join(blk.Lines, "\n"))
		}
	}
	if len(r.Notes) > 0 {
		b.WriteString("## Notes\n\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Files returns every chart by file name.
func (r Report) Files() map[string][]byte {
	out := map[string][]byte{}
	for _, f := range r.Figures {
		for _, c := range f.Charts {
			out[c.File] = c.SVG
		}
	}
	return out
}

// SortedFiles is Files' names in order.
func (r Report) SortedFiles() []string {
	var names []string
	for n := range r.Files() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func targetTable(ts []Target) Table {
	t := Table{Header: []string{"target", "measured", "goal", "met", "gap"}}
	for _, x := range ts {
		met := "not measured"
		if x.Met != nil {
			met = map[bool]string{true: "met", false: "**not met**"}[*x.Met]
		}
		gap := x.Gap
		if gap == "" {
			gap = "–"
		}
		t.Rows = append(t.Rows, []string{x.Name, x.Value, x.Goal, met, gap})
	}
	return t
}

func writeTable(b *strings.Builder, t Table) {
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	cells := make([]string, len(t.Header))
	for i, h := range t.Header {
		cells[i] = esc(h)
	}
	fmt.Fprintf(b, "| %s |\n", strings.Join(cells, " | "))
	seps := make([]string, len(t.Header))
	for i := range seps {
		seps[i] = "---"
	}
	fmt.Fprintf(b, "| %s |\n", strings.Join(seps, " | "))
	for _, r := range t.Rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = esc(c)
		}
		fmt.Fprintf(b, "| %s |\n", strings.Join(cells, " | "))
	}
	b.WriteString("\n")
}
