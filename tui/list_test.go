package tui

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

func TestNaturalLess(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"so-2", "so-10", true},
		{"so-10", "so-2", false},
		{"so-2", "so-2", false},
		{"so-02", "so-2", false},
		{"so-2", "so-02", true},
		{"a", "b", true},
		{"so", "so-1", true},
		{"so-9-b", "so-9-a", false},
		{"v1.10", "v1.9", false},
		{"app100", "app99z", false},
		{"", "a", true},
	}
	for _, tc := range cases {
		if got := naturalLess(tc.a, tc.b); got != tc.want {
			t.Errorf("naturalLess(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestTriggerIndex(t *testing.T) {
	for metric, want := range map[string]int{"s0-redis-orders": 0, "s12-cron": 12, "redis": -1, "s-redis": -1, "s3": -1, "s3x-a": -1} {
		idx, ok := triggerIndex(metric)
		if (want < 0 && ok) || (want >= 0 && (!ok || idx != want)) {
			t.Errorf("triggerIndex(%q) = %d, %v; want %d", metric, idx, ok, want)
		}
	}
}

func TestSortRows(t *testing.T) {
	nan := math.NaN()
	rows := []listRow{
		{ref: ref{kind: "ScaledObject", namespace: "b", name: "so-10"}, current: 1, desired: 1, max: 5, load: 0.5, cells: [sortColumns]string{4: "True"}},
		{ref: ref{kind: "ScaledObject", namespace: "b", name: "so-2"}, current: 3, desired: 5, max: 10, load: nan, cells: [sortColumns]string{4: "False"}},
		{ref: ref{kind: "ScaledJob", namespace: "a", name: "so-2"}, current: 0, max: 4, load: nan, cells: [sortColumns]string{4: "True"}},
		{ref: ref{kind: "ScaledObject", namespace: "a", name: "so-2"}, current: 0, max: 5, load: 2, cells: [sortColumns]string{4: "True"}},
	}
	names := func(rs []listRow) string {
		var out []string
		for _, r := range rs {
			n := r.ref.namespace + "/" + r.ref.name
			if r.ref.kind == "ScaledJob" {
				n += "(sj)"
			}
			out = append(out, n)
		}
		return strings.Join(out, " ")
	}
	cases := []struct {
		col  sortColumn
		desc bool
		want string
	}{
		{sortNamespace, false, "a/so-2 a/so-2(sj) b/so-2 b/so-10"},
		{sortNamespace, true, "b/so-10 b/so-2 a/so-2(sj) a/so-2"},
		{sortName, false, "a/so-2 a/so-2(sj) b/so-2 b/so-10"},
		{sortReplicas, true, "b/so-2 b/so-10 a/so-2(sj) a/so-2"},
		{sortMinMax, false, "a/so-2(sj) a/so-2 b/so-10 b/so-2"},
		{sortReady, false, "b/so-2 a/so-2 a/so-2(sj) b/so-10"},
		{sortTriggers, true, "a/so-2 b/so-10 b/so-2 a/so-2(sj)"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s desc=%v", listHeader[tc.col], tc.desc), func(t *testing.T) {
			rs := slices.Clone(rows)
			sortRows(rs, tc.col, tc.desc)
			if got := names(rs); got != tc.want {
				t.Errorf("order = %s, want %s", got, tc.want)
			}
		})
	}
}

// many is a fake cluster of n ScaledObjects so-0 … so-(n-1) in one namespace, every third idle.
func many(n int) *fakeSource {
	src := &fakeSource{idle: map[string]float64{}}
	for i := range n {
		name := fmt.Sprintf("so-%d", i)
		if i%3 == 0 {
			src.objects = append(src.objects, object("load", name, 0, 0, 0, 5, false))
			src.idle["load/"+name+"/s0-redis-"+name] = float64(i % 7)
			continue
		}
		src.objects = append(src.objects, object("load", name, int32(i%5+1), int32(i%5+1), int64(i%40), 10, true))
	}
	return src
}

func TestLargeList(t *testing.T) {
	src := many(1000)
	m := newTestModel(t, src)
	if src.valueReads == 0 || src.valueReads > m.listHeight() {
		t.Fatalf("the first load read the values of %d objects, want between 1 and the %d rows on screen", src.valueReads, m.listHeight())
	}
	lines := strings.Split(m.Render(), "\n")
	if len(lines) != 24 {
		t.Fatalf("the screen has %d lines, want 24", len(lines))
	}
	if !strings.Contains(lines[3], "so-0 ") || !strings.HasPrefix(lines[4], "so-1 ") || !strings.HasPrefix(lines[5], "so-2 ") {
		t.Errorf("the list does not start so-0, so-1, so-2 (natural order):\n%s", m.Render())
	}
	if !strings.Contains(lines[3], " 0/5") {
		t.Errorf("idle so-0 does not show its value 0 from the metrics API: %q", lines[3])
	}

	src.valueReads = 0
	m, cmd := press(m, "pgdown", "pgdown")
	if cmd != nil {
		m, _ = step(m, cmd())
	}
	if m.cursor != 2*m.listHeight() || m.offset == 0 {
		t.Fatalf("two pages down: cursor %d offset %d", m.cursor, m.offset)
	}
	if !strings.Contains(m.Render(), "so-40 ") {
		t.Errorf("the window does not follow the cursor to so-40:\n%s", m.Render())
	}
	if src.valueReads > m.listHeight() {
		t.Errorf("scrolling read the values of %d objects, more than the %d on screen", src.valueReads, m.listHeight())
	}
	// Sorting keeps the cursor on its object.
	at := m.rows[m.cursor].ref
	m, _ = press(m, "s", "s", "S")
	if m.sortCol != sortReplicas || !m.sortDesc || m.rows[m.cursor].ref != at {
		t.Errorf("after s s S: sort %s desc %v, cursor on %v, want REPLICAS desc on %v", listHeader[m.sortCol], m.sortDesc, m.rows[m.cursor].ref, at)
	}
	if !strings.Contains(m.Render(), "REPLICAS↓") {
		t.Errorf("the header does not show the sort:\n%s", m.Render())
	}
}

// BenchmarkListView1000 is one frame of the list with 1,000 ScaledObjects: what View costs on every
// key press and tick. A frame must stay well under 16 ms (60 fps).
func BenchmarkListView1000(b *testing.B) {
	m := New(many(1000), Options{NoColor: false, Now: func() time.Time { return testNow }})
	m, _ = step(m, tea.WindowSizeMsg{Width: 160, Height: 50})
	m, _ = step(m, m.loadObjects()())
	m, _ = press(m, "pgdown")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_ = m.View()
	}
}

// BenchmarkListRefresh1000 is a refresh of the list with 1,000 ScaledObjects: the informers' objects
// arriving, recorded for the charts and rendered into rows, once a second.
func BenchmarkListRefresh1000(b *testing.B) {
	src := many(1000)
	m := New(src, Options{NoColor: false, Now: func() time.Time { return testNow }})
	m, _ = step(m, tea.WindowSizeMsg{Width: 160, Height: 50})
	msg := m.loadObjects()().(objectsMsg)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		msg.at = msg.at.Add(time.Second)
		m, _ = step(m, msg)
	}
}

func TestCellWidth(t *testing.T) {
	for _, s := range []string{"", "so-10", "▁▂▃█ 3/5 act>1", "│─┈•", "日本", "\x1b[1mbold\x1b[m", "é", "○ desired"} {
		if got, want := cellWidth(s), ansi.StringWidth(s); got != want {
			t.Errorf("cellWidth(%q) = %d, ansi says %d", s, got, want)
		}
	}
}
