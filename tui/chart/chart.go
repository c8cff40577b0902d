// Package chart draws step series over a shared time axis as terminal text: one panel per
// quantity, a row of event markers and the time axis under them. It is pure (series in, lines
// out) so that the TUI's View stays free of I/O and the drawing is tested on its own.
//
// It is our own small renderer rather than a chart component because the bubbletea-native ones
// (ntcharts v0.4.0, the newest served) are built on bubbletea v1 and lipgloss v1, while the TUI is on
// v2: their models cannot take our messages and they would bring a second copy of the stack.
package chart

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Point is a value from At until the next point; a point with OK false is a gap (nothing known).
type Point struct {
	At time.Time
	V  float64
	OK bool
}

// Series is one quantity of a panel, drawn with Mark.
type Series struct {
	Label  string
	Mark   rune
	Points []Point
	// Paint styles the series' cells (a lipgloss style's Render); nil draws them plain.
	Paint func(string) string
}

// Panel is a plot of Height rows; a cell that two series fall in shows the first one's mark.
type Panel struct {
	Title  string
	Height int
	Series []Series
}

// Marker is an event drawn under the panels at its time.
type Marker struct {
	At   time.Time
	Mark rune
}

// Render draws panels from..to across width cells (the y labels included) and returns the lines:
// for each panel its title with a legend and its rows, then the markers' row and the time axis.
func Render(panels []Panel, markers []Marker, from, to time.Time, width int) []string {
	gutter := 1
	scales := make([]float64, len(panels))
	for i, p := range panels {
		scales[i] = top(p, from, to)
		gutter = max(gutter, len(label(scales[i])))
	}
	cols := width - gutter - 1
	if cols < 4 || !to.After(from) {
		return nil
	}
	var out []string
	for i, p := range panels {
		out = append(out, legend(p))
		out = append(out, plot(p, scales[i], from, to, gutter, cols)...)
	}
	out = append(out, markerRow(markers, from, to, gutter, cols))
	return append(out, axis(from, to, gutter, cols)...)
}

// legend is the panel's title and each series' mark and label.
func legend(p Panel) string {
	parts := []string{p.Title}
	for _, s := range p.Series {
		mark := string(s.Mark)
		if s.Paint != nil {
			mark = s.Paint(mark)
		}
		parts = append(parts, mark+" "+s.Label)
	}
	return strings.Join(parts, "  ")
}

// top is the panel's scale: the highest value of any series in the window (what held at its start
// included), 1 when everything is 0.
func top(p Panel, from, to time.Time) float64 {
	t := 0.0
	for _, s := range p.Series {
		for i, pt := range s.Points {
			if !pt.OK || pt.At.After(to) {
				continue
			}
			if next := i + 1; next < len(s.Points) && !s.Points[next].At.After(from) {
				continue // replaced before the window starts
			}
			t = max(t, pt.V)
		}
	}
	if t <= 0 {
		return 1
	}
	return t
}

// valueAt is the series' value at t: the last point at or before it.
func valueAt(s Series, t time.Time) (float64, bool) {
	v, ok := 0.0, false
	for _, pt := range s.Points {
		if pt.At.After(t) {
			break
		}
		v, ok = pt.V, pt.OK
	}
	return v, ok
}

// columnTime is the time a column shows: the end of its slice of the window.
func columnTime(from, to time.Time, c, cols int) time.Time {
	return from.Add(time.Duration(float64(to.Sub(from)) * float64(c+1) / float64(cols)))
}

func plot(p Panel, scale float64, from, to time.Time, gutter, cols int) []string {
	h := max(p.Height, 2)
	cells := make([][]int, h) // index+1 of the series in each cell, 0 for none
	for r := range cells {
		cells[r] = make([]int, cols)
	}
	for c := 0; c < cols; c++ {
		t := columnTime(from, to, c, cols)
		for si := len(p.Series) - 1; si >= 0; si-- {
			v, ok := valueAt(p.Series[si], t)
			if !ok {
				continue
			}
			level := int(math.Round(math.Min(math.Max(v/scale, 0), 1) * float64(h-1)))
			cells[h-1-level][c] = si + 1
		}
	}
	lines := make([]string, h)
	for r := range cells {
		var b strings.Builder
		y := ""
		switch r {
		case 0:
			y = label(scale)
		case h - 1:
			y = "0"
		}
		b.WriteString(fmt.Sprintf("%*s┤", gutter, y))
		for c := 0; c < cols; {
			si := cells[r][c]
			run := c
			for run < cols && cells[r][run] == si {
				run++
			}
			if si == 0 {
				b.WriteString(strings.Repeat(" ", run-c))
			} else {
				s := p.Series[si-1]
				text := strings.Repeat(string(s.Mark), run-c)
				if s.Paint != nil {
					text = s.Paint(text)
				}
				b.WriteString(text)
			}
			c = run
		}
		lines[r] = strings.TrimRight(b.String(), " ")
	}
	return lines
}

// markerRow puts each marker in its column; a later marker in the same column wins.
func markerRow(markers []Marker, from, to time.Time, gutter, cols int) string {
	row := []rune(strings.Repeat(" ", cols))
	span := float64(to.Sub(from))
	for _, m := range markers {
		if m.At.Before(from) || m.At.After(to) {
			continue
		}
		c := min(int(float64(m.At.Sub(from))/span*float64(cols)), cols-1)
		row[c] = m.Mark
	}
	return strings.TrimRight(strings.Repeat(" ", gutter)+" "+string(row), " ")
}

// axis is the time axis, labelled relative to its end: how long ago, at the start, middle and end.
func axis(from, to time.Time, gutter, cols int) []string {
	line := []rune(strings.Repeat("─", cols))
	labels := []rune(strings.Repeat(" ", cols))
	put := func(at int, s string) {
		r := []rune(s)
		at = max(0, min(at, cols-len(r)))
		copy(labels[at:], r)
	}
	span := to.Sub(from)
	put(0, ago(span))
	if cols >= 30 {
		put(cols/2-2, ago(span/2))
	}
	put(cols, "now")
	return []string{strings.Repeat(" ", gutter) + "└" + string(line), strings.Repeat(" ", gutter+1) + strings.TrimRight(string(labels), " ")}
}

// ago is a compact "-5m", "-90s", "-1h30m".
func ago(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < 2*time.Minute:
		return fmt.Sprintf("-%ds", int(d.Seconds()))
	case d%time.Hour == 0:
		return fmt.Sprintf("-%dh", int(d.Hours()))
	case d < time.Hour:
		if d%time.Minute == 0 {
			return fmt.Sprintf("-%dm", int(d.Minutes()))
		}
		return fmt.Sprintf("-%dm%ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("-%dh%dm", int(d.Hours()), int(d.Minutes())%60)
}

// label is a scale's y label: short, without trailing zeros.
func label(v float64) string {
	if v == math.Trunc(v) && v < 1e7 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
