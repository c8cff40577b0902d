package main

import (
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./bench -update)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file (go test ./bench -update rewrites it); got:\n%s", path, got)
	}
}

func TestBarChartGolden(t *testing.T) {
	c := BarChart{
		Title: "Operator RSS", YLabel: "MiB", Categories: []string{"0", "100", "1000", "10000"},
		Series: []Series{{Name: "kedactl", Values: []float64{30, 32.5, 41, 120}}, {Name: "KEDA 2.21.0", Values: []float64{80, 85, 110, math.NaN()}}},
	}
	golden(t, "bar.svg", c.SVG())
}

func TestLineChartGolden(t *testing.T) {
	c := LineChart{
		Title: "Requests/min", XLabel: "ScaledObjects", YLabel: "req/min", X: []float64{0, 100, 1000, 10000}, LogX: true,
		Series: []Series{{Name: "kedactl", Values: []float64{2, 3, 5, 9}}, {Name: "KEDA", Values: []float64{4, 40, 400, math.NaN()}}},
	}
	golden(t, "line.svg", c.SVG())
}

func TestEmptyChartsRender(t *testing.T) {
	for _, svg := range [][]byte{BarChart{Title: "empty"}.SVG(), LineChart{Title: "empty"}.SVG()} {
		if len(svg) == 0 {
			t.Fatal("empty SVG")
		}
	}
}

func TestReportGolden(t *testing.T) {
	r := Report{
		Title: "kedactl vs KEDA",
		Meta:  []string{"scale: smoke"},
		Targets: []Target{
			NewTarget("polled activation p99", "s", 12.5, 30.5, true),
			NewTarget("RSS at 10,000", "MiB", 300, 256, true),
			NewTarget("not run", "s", math.NaN(), 1, true),
		},
		Figures: []Figure{
			{ID: "1", Title: "Idle cost", What: "measured | on the cluster", Charts: []Chart{{File: "fig1.svg", Alt: "rss", SVG: []byte("<svg/>")}},
				Tables: []Table{{Header: []string{"objects", "ours", "KEDA", "ours/KEDA"}, Rows: [][]string{{"100", Num(30), Num(80), RatioCell(30, 80)}, {"10000", Num(120), Num(math.NaN()), RatioCell(120, math.NaN())}}}},
				Notes:  []string{"a note"}},
			{ID: "6", Title: "Webhooks", NotMeasured: "no time"},
		},
		Notes: []string{"closing note"},
	}
	golden(t, "report.md", []byte(r.Markdown()))
	if got := r.SortedFiles(); len(got) != 1 || got[0] != "fig1.svg" {
		t.Errorf("files = %v", got)
	}
}

func TestPercentile(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3, 6, 7, 8, 9, 10}
	for _, c := range []struct{ p, want float64 }{{50, 5}, {99, 10}, {100, 10}, {0, 1}, {10, 1}, {11, 2}, {90, 9}} {
		if got := Percentile(xs, c.p); got != c.want {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
	if !math.IsNaN(Percentile(nil, 50)) {
		t.Error("no values should give NaN")
	}
}

func TestNiceMaxAndFormat(t *testing.T) {
	for _, c := range []struct{ in, want float64 }{{0, 1}, {1, 1}, {1.2, 2}, {2.2, 2.5}, {3, 5}, {7, 10}, {120, 200}, {0.03, 0.05}} {
		if got := niceMax(c.in); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("niceMax(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	if got := Num(12345.6); got != "12300" {
		t.Errorf("Num = %q", got)
	}
	if got := RatioCell(1, 3); got != "0.333×" {
		t.Errorf("RatioCell = %q", got)
	}
}

func TestTargets(t *testing.T) {
	tg := NewTarget("x", "s", 2, 1, true)
	if tg.Met == nil || *tg.Met || tg.Gap != "1 s (2×)" {
		t.Errorf("target = %+v", tg)
	}
	tg = NewTarget("x", "s", 0.5, 1, true)
	if tg.Met == nil || !*tg.Met || tg.Gap != "" {
		t.Errorf("target = %+v", tg)
	}
}
