package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
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

func TestSourceCountsAndValues(t *testing.T) {
	s, err := StartSource()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	get := func(key string) string {
		resp, err := http.Get(s.URL(key))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := get("a"); got != `{"value": 0}` {
		t.Errorf("got %s", got)
	}
	s.Set("a", 3)
	if got := get("a"); got != `{"value": 3}` {
		t.Errorf("got %s", got)
	}
	get("b")
	if s.Count("a") != 2 || s.Count("b") != 1 || s.Count("c") != 0 || s.Total() != 3 {
		t.Errorf("counts a=%d b=%d total=%d", s.Count("a"), s.Count("b"), s.Total())
	}
}

func TestParseProm(t *testing.T) {
	text := `# HELP apiserver_request_total x
# TYPE apiserver_request_total counter
apiserver_request_total{code="200",resource="pods",verb="LIST"} 7
apiserver_request_total{code="201",resource="horizontalpodautoscalers",verb="POST"} 3
apiserver_request_total{code="200",resource="a\"b",verb="PATCH"} 2.5
rest_client_requests_total{code="200",host="127.0.0.1:1",method="GET"} 10
process_cpu_seconds_total 1.5
`
	s := ParseProm(text)
	if len(s) != 5 {
		t.Fatalf("samples = %+v", s)
	}
	if got := SumProm(s, "apiserver_request_total", nil); got != 12.5 {
		t.Errorf("sum = %v", got)
	}
	if got := SumProm(s, "apiserver_request_total", func(l map[string]string) bool { return IsWriteVerb(l["verb"]) }); got != 5.5 {
		t.Errorf("writes = %v", got)
	}
	if s[2].Labels["resource"] != `a"b` || s[4].Name != "process_cpu_seconds_total" || s[4].Value != 1.5 {
		t.Errorf("samples = %+v", s)
	}
}

func TestParseProc(t *testing.T) {
	status := "Name:\top\nVmRSS:\t  2048 kB\nRssAnon:\t 1024 kB\nRssFile:\t  1000 kB\n"
	stat := "123 (my op) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0"
	ps, err := parseProc(status, stat)
	if err != nil {
		t.Fatal(err)
	}
	if ps.RSSBytes != 2048*1024 || ps.RSSFileBytes != 1000*1024 || ps.CPUSecs != 3 {
		t.Errorf("got %+v", ps)
	}
}

// TestChartsAreWellFormedXML parses every chart (a repeated attribute makes SVG viewers refuse it).
func TestChartsAreWellFormedXML(t *testing.T) {
	for _, svg := range [][]byte{
		BarChart{Title: "t", YLabel: "y", Categories: []string{"a"}, Series: []Series{{Name: "s", Values: []float64{1}}}}.SVG(),
		LineChart{Title: "t", XLabel: "x", YLabel: "y", X: []float64{1, 2}, Series: []Series{{Name: "s", Values: []float64{1, 2}}}}.SVG(),
	} {
		dec := xml.NewDecoder(bytes.NewReader(svg))
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%v in\n%s", err, svg)
			}
			if se, ok := tok.(xml.StartElement); ok {
				seen := map[string]bool{}
				for _, a := range se.Attr {
					if seen[a.Name.Local] {
						t.Fatalf("<%s> repeats attribute %s", se.Name.Local, a.Name.Local)
					}
					seen[a.Name.Local] = true
				}
			}
		}
	}
}

// TestBuildReport renders a report from made-up phases and from none, as a failed run would.
func TestBuildReport(t *testing.T) {
	w := &Window{Minutes: 1, RSSMiB: 40, CPUPerMin: 1.2, OpReqPerMin: 10, OpWritesPerMin: 0.5, APIReqPerMin: 300, APIWritesPerMin: 20}
	phase := func(name string) *PhaseResult {
		p := &PhaseResult{Name: name, Fig4: &Fig4Result{PerTrigger: map[string]float64{}}}
		for _, n := range []int{0, 20, 100} {
			p.Levels = append(p.Levels, &LevelResult{N: n, Idle: w, TakeoverSecs: 3, WritesPerObject: 2, Activation: []float64{1, 2, 3}, ExtMetrics: []float64{0.002, 0.003}})
		}
		for _, g := range Fig4Groups(10) {
			p.Fig4.PerTrigger[g] = 2
		}
		return p
	}
	for _, c := range []struct{ ours, keda *PhaseResult }{{phase("kedactl"), phase("KEDA")}, {nil, nil}, {phase("kedactl"), nil}} {
		r := BuildReport(Smoke, c.ours, c.keda, ReportMeta{QPS: "20", Burst: "30"})
		md := r.Markdown()
		if len(r.Figures) != 6 || len(r.Files()) != 6 || md == "" {
			t.Fatalf("figures %d, files %d", len(r.Figures), len(r.Files()))
		}
	}
}

func TestCappedLeavesOutLargerLevels(t *testing.T) {
	c := Full.Capped(1000)
	if slices.Max(c.IdleLevels) != 1000 || slices.Max(c.Fig5Levels) != 1000 || slices.Max(c.ActLoads) != 1000 {
		t.Errorf("capped at 1000: idle %v, fig5 %v, activation %v", c.IdleLevels, c.Fig5Levels, c.ActLoads)
	}
	if c.TakeoverLevel != 1000 || c.KEDAMaxLevel != 1000 || c.Fig4N != 100 {
		t.Errorf("capped at 1000: takeover %d, KEDA max %d, fig4 %d", c.TakeoverLevel, c.KEDAMaxLevel, c.Fig4N)
	}
	if got := Full.Capped(1000).levels(1000); slices.Contains(got, 10000) {
		t.Errorf("levels %v still visit 10000", got)
	}
}

// TestFig3PushRows renders figure 3 and its targets with full, partial and missing data: every
// load gets a polled and a push row, and the push targets say "not measured" where a phase, a
// level or its push trials are missing.
func TestFig3PushRows(t *testing.T) {
	level := func(n int, polled, push []float64, pushMissed int) *LevelResult {
		return &LevelResult{N: n, Activation: polled, PushActivation: push, PushActivationMissed: pushMissed}
	}
	polled := []float64{3, 12, 27, 29.5}
	full := func(name string, push []float64) *PhaseResult {
		return &PhaseResult{Name: name, Levels: []*LevelResult{level(20, polled, push, 0), level(100, polled, push, 1)}}
	}
	cases := []struct {
		name       string
		ours, keda *PhaseResult
		// want is the push targets' measured values, one per load.
		want []string
	}{
		{"full", full("kedactl", []float64{0.05, 0.08, 0.2}), full("KEDA", []float64{4, 17, 29}), []string{"0.2 s", "0.2 s"}},
		{"partial", &PhaseResult{Name: "kedactl", Levels: []*LevelResult{level(20, polled, []float64{0.9, 0.1}, 0), level(100, polled, nil, 2)}},
			&PhaseResult{Name: "KEDA", Levels: []*LevelResult{level(20, polled, nil, 0)}}, []string{"0.9 s", "not measured"}},
		{"missing", nil, nil, []string{"not measured", "not measured"}},
	}
	var md bytes.Buffer
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := fig3(Smoke, c.ours, c.keda)
			if got := len(f.Tables[0].Rows); got != 2*len(Smoke.ActLoads) {
				t.Errorf("%d rows, want a polled and a push row per load (%d)", got, 2*len(Smoke.ActLoads))
			}
			ts := activationTargets(Smoke, c.ours)
			for i, n := range Smoke.ActLoads {
				want := fmt.Sprintf("push activation p99 with %d loaded", n)
				if ts[i].Name != want || ts[i].Value != c.want[i] || ts[i].Goal != "< 0.5 s" {
					t.Errorf("target %d = %+v, want %q measuring %q", i, ts[i], want, c.want[i])
				}
			}
			r := Report{Title: "figure 3, " + c.name + " data", Targets: ts, Figures: []Figure{f}}
			md.WriteString(r.Markdown())
			if c.name == "full" {
				golden(t, "fig3-full.svg", f.Charts[0].SVG)
			}
		})
	}
	golden(t, "fig3.md", md.Bytes())
}

func TestWritesByKind(t *testing.T) {
	samples := ParseProm(`apiserver_request_total{code="200",resource="scaledobjects",subresource="status",verb="PUT"} 10
apiserver_request_total{code="201",resource="horizontalpodautoscalers",subresource="",verb="POST"} 5
apiserver_request_total{code="200",resource="horizontalpodautoscalers",subresource="",verb="GET"} 50
apiserver_request_total{code="201",resource="scaledobjects",subresource="",verb="POST"} 5
`)
	got := WritesByKind(samples)
	if len(got) != 3 || got["PUT scaledobjects/status"] != 10 || got["POST horizontalpodautoscalers"] != 5 {
		t.Errorf("WritesByKind = %v", got)
	}
	// The harness creates a ScaledObject per object: left out of the operator's take-over.
	per := writesPerObjectBy(map[string]float64{"PUT scaledobjects/status": 2}, got, 4, true)
	want := map[string]float64{"PUT scaledobjects/status": 2, "POST horizontalpodautoscalers": 1.25, "POST scaledobjects": 0.25}
	if len(per) != len(want) {
		t.Fatalf("writesPerObjectBy = %v, want %v", per, want)
	}
	for k, v := range want {
		if per[k] != v {
			t.Errorf("%s = %v, want %v", k, per[k], v)
		}
	}
	// After a restart nobody created anything: every write counts.
	if all := writesPerObjectBy(map[string]float64{"PUT scaledobjects/status": 2}, got, 4, false); all["POST scaledobjects"] != 1.25 {
		t.Errorf("writesPerObjectBy without the harness's creates: POST scaledobjects = %v, want 1.25", all["POST scaledobjects"])
	}
	table := writesByKindTable(4, &PhaseResult{Levels: []*LevelResult{{N: 4, TakeoverSecs: 1, APIWritesPerObjectBy: per}}}, nil)
	if len(table.Rows) != 3 || table.Rows[0][0] != "POST horizontalpodautoscalers" || table.Rows[0][2] != "–" {
		t.Errorf("table = %v", table.Rows)
	}
}

func TestProfileTop(t *testing.T) {
	out := `File: operator
Type: cpu
Time: 2026-12-07 00:10:00 UTC
Duration: 10s, Total samples = 120ms ( 1.20%)
Showing nodes accounting for 90ms, 75.00% of 120ms total
      flat  flat%   sum%        cum   cum%
      40ms 33.33% 33.33%       40ms 33.33%  runtime.futex
      20ms 16.67% 50.00%       60ms 50.00%  encoding/json.(*encodeState).marshal
`
	got := profileTop(out)
	if len(got) != 5 || !strings.HasPrefix(got[0], "Duration: 10s") || !strings.HasSuffix(got[4], "encoding/json.(*encodeState).marshal") {
		t.Errorf("profileTop = %q", got)
	}
}

func TestProfileWhy(t *testing.T) {
	l := &LevelResult{ExtMetricsProfile: []string{"Duration: 10s, Total samples = 130ms ( 1.30%)"}}
	for range 100 {
		l.ExtMetrics = append(l.ExtMetrics, 0.003)
	}
	got := profileWhy(l)
	if !strings.Contains(got, "(100 of them") || !strings.Contains(got, "at most 1.3 ms of CPU a request") {
		t.Errorf("profileWhy = %q", got)
	}
	if got := profileWhy(&LevelResult{}); !strings.Contains(got, "no CPU profile") {
		t.Errorf("without a profile: %q", got)
	}
}

func TestGapsAreExplained(t *testing.T) {
	met, notMet := true, false
	r := Report{Title: "t", Targets: []Target{
		{Name: "a", Value: "1", Goal: "< 2", Met: &met, Why: "never shown"},
		{Name: "b", Value: "3", Goal: "< 2", Met: &notMet, Gap: "1", Why: "because"},
	}}
	out := r.Markdown()
	if !strings.Contains(out, "Why the gaps:\n\n- **b**: because") || strings.Contains(out, "never shown") {
		t.Errorf("report:\n%s", out)
	}
}

func TestSettledRate(t *testing.T) {
	at := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	a := Counters{At: at, OpReqs: 100}
	if !settledRate(a, Counters{At: at.Add(15 * time.Second), OpReqs: 105}) {
		t.Error("20 requests a minute is a steady state")
	}
	if settledRate(a, Counters{At: at.Add(15 * time.Second), OpReqs: 700}) {
		t.Error("2,400 requests a minute (a take-over's backlog) counts as settled")
	}
	if settledRate(a, a) {
		t.Error("no time between the snapshots counts as settled")
	}
	if settledRate(a, Counters{At: at.Add(15 * time.Second), OpReqs: 105, APIWrites: 175}) {
		t.Error("700 writes a minute by other clients (the HPA controller after a take-over) counts as settled")
	}
	if got := settleMax(10000); got != 2*time.Minute+1500*time.Second {
		t.Errorf("settleMax(10000) = %s", got)
	}
}

func TestRebuildReport(t *testing.T) {
	dir := t.TempDir()
	meta := ReportMeta{Began: time.Date(2026, 12, 7, 0, 23, 0, 0, time.UTC), Took: time.Minute, Commit: "abc1234", QPS: "20", Burst: "30"}
	raw, err := json.Marshal(resultsFile{Config: Smoke, Results: map[string]*PhaseResult{"kedactl": {Name: "kedactl"}}, Meta: &meta})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "results.json")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := rebuildReport(path, dir, "the e2e tests ran meanwhile"); err != nil {
		t.Fatal(err)
	}
	report, err := os.ReadFile(filepath.Join(dir, "REPORT.md"))
	if err != nil || !strings.Contains(string(report), "commit abc1234") || !strings.Contains(string(report), "Note: the e2e tests ran meanwhile") {
		t.Errorf("rebuilt report: %v\n%s", err, report)
	}
	// The note stays in results.json: a later rebuild keeps it.
	if err := rebuildReport(path, dir, ""); err != nil {
		t.Fatal(err)
	}
	if report, _ := os.ReadFile(filepath.Join(dir, "REPORT.md")); !strings.Contains(string(report), "Note: the e2e tests ran meanwhile") {
		t.Errorf("the note was lost by a second rebuild:\n%s", report)
	}
	if err := os.WriteFile(path, []byte(`{"results":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := rebuildReport(path, dir, ""); err == nil || !strings.Contains(err.Error(), "no meta") {
		t.Errorf("results without meta: %v", err)
	}
}

func TestHeapWhy(t *testing.T) {
	profile := []string{
		"Showing nodes accounting for 180.5MB, 92.10% of 196MB total",
		"flat  flat%   sum%        cum   cum%",
		"60MB 30.61% 30.61%       60MB 30.61%  k8s.io/client-go/tools/cache.(*threadSafeMap).Add",
		"40MB 20.41% 51.02%       40MB 20.41%  github.com/prometheus/client_golang/prometheus.(*metricMap).getOrCreateMetricWithLabelValues",
	}
	got := heapWhy(profile, 310, 90, false)
	for _, want := range []string{"196MB of the 310 MiB RSS", "90 MiB of the RSS are file-backed pages", "GOGC=100", "k8s.io/client-go/tools/cache.(*threadSafeMap).Add (60MB)", "getOrCreateMetricWithLabelValues (40MB)"} {
		if !strings.Contains(got, want) {
			t.Errorf("heapWhy = %q, want it to say %q", got, want)
		}
	}
	profile = append(profile, "15.58MB  9.10% 20.19%    15.58MB  9.10%  k8s.io/apimachinery/pkg/util/sets.Set[go.shape.string].Insert (inline)")
	if got := heapWhy(profile, 350, 0, true); !strings.Contains(got, "sets.Set[go.shape.string].Insert (15.58MB)") || !strings.Contains(got, "soft memory limit") || strings.Contains(got, "file-backed") {
		t.Errorf("heapWhy with a memory limit and an inlined holder = %q", got)
	}
	if got := heapWhy(nil, 310, 0, false); !strings.Contains(got, "no heap profile") {
		t.Errorf("without a profile: %q", got)
	}
}

func TestOnlySomeFigures(t *testing.T) {
	c := Full
	c.Only = []int{5, 6}
	if got := c.levels(100000); !slices.Equal(got, []int{1000, 10000}) {
		t.Errorf("levels visited %v, want the take-over's and figure 5's", got)
	}
	if c.measures(1) || c.measures(4) || !c.measures(5) || !c.measures(6) || !Full.measures(3) {
		t.Errorf("measures: %+v", c.Only)
	}
	// The report of such a run shows the rest as not measured.
	p := &PhaseResult{Name: "kedactl", Levels: []*LevelResult{{N: 1000, ExtMetrics: []float64{0.002}}, {N: 10000, ExtMetrics: []float64{0.003}}}}
	if md := BuildReport(c, p, nil, ReportMeta{QPS: "20", Burst: "30"}).Markdown(); !strings.Contains(md, "external metrics p99 at 10000") {
		t.Errorf("report:\n%s", md)
	}
}

func TestCPUPerApply(t *testing.T) {
	r := &Fig6Result{ProfiledApplies: 400, Profile: []string{
		"Showing nodes accounting for 0.12s, 8% of 1.5s total",
		"      flat  flat%   sum%        cum   cum%",
		"         0     0%     0%      0.40s 26.67%  net/http.(*conn).serve",
		"     0.01s  0.67%  0.67%      0.30s 20.00%  sigs.k8s.io/controller-runtime/pkg/webhook/admission.(*Webhook).ServeHTTP",
	}}
	if got := cpuPerApply(r); got != "; 1ms of CPU per apply" {
		t.Errorf("cpuPerApply = %q", got)
	}
	if got := cpuPerApply(&Fig6Result{Profile: []string{"no profile: refused"}}); got != "" {
		t.Errorf("cpuPerApply without a profile = %q", got)
	}
}

func TestReachesByRestart(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		n    int
		want bool
	}{
		{Full, 10000, true},
		{Full, 1000, false}, // figure 2's take-over is timed at the run's client rates
		{Full, 100, false},
		{Config{TakeoverLevel: 1000}, 10000, false}, // RestartAbove unset: never
		{Smoke, 300, true},
		{Smoke, 100, false},
	} {
		if got := tc.cfg.reachesByRestart(tc.n); got != tc.want {
			t.Errorf("%s reachesByRestart(%d) = %v, want %v", tc.cfg.Scale, tc.n, got, tc.want)
		}
	}
}

func TestRestartNote(t *testing.T) {
	l := &LevelResult{N: 10000, TakeoverSecs: 180, Restart: &RestartResult{FastQPS: "2000", ReadySecs: 12, SettleSecs: 95,
		RequestsPerObject: 0.05, WritesPerObject: 0, APIWritesPerObjectBy: map[string]float64{"POST events": 1}}}
	got := restartNote("kedactl", l)
	for _, want := range []string{"10000 ScaledObjects", "qps 2000 (180 s", "ready 12 s", "settled after 95 s", "POST events 1"} {
		if !strings.Contains(got, want) {
			t.Errorf("restartNote lacks %q: %s", want, got)
		}
	}
}
