package main

import (
	"fmt"
	"maps"
	"math"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ReportMeta is what the report says about the run itself.
type ReportMeta struct {
	Began       time.Time
	Took        time.Duration
	PhaseErrors []string
	Commit      string
	QPS, Burst  string
	// LoadBefore and LoadAfter are /proc/loadavg at the start and the end: the machine is shared.
	LoadBefore, LoadAfter string
	// Reused names the phases taken from an earlier run's results.json.
	Reused []string
	// Notes are what whoever watched the run wrote about it (-rebuild -note), e.g. other work that
	// ran on the machine meanwhile.
	Notes []string `json:",omitempty"`
	// MemoryLimitMiB, when set, is the container memory limit kedactl ran as if under: the bench
	// gives it GOMEMLIMIT at the share of it the operator takes from its cgroup's limit.
	MemoryLimitMiB int `json:",omitempty"`
	// Stages are when each stage of the run's plan ran and what ran in it at once.
	Stages []StageRecord `json:",omitempty"`
}

func gitCommit(root string) string {
	out, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

const (
	oursName = "kedactl"
	kedaName = "KEDA " + kedaVersion
)

// get returns f(level n) of a phase, NaN when the phase or level is missing.
func get(p *PhaseResult, n int, f func(*LevelResult) float64) float64 {
	if p == nil {
		return math.NaN()
	}
	l := p.level(n)
	if l == nil {
		return math.NaN()
	}
	return f(l)
}

func idle(f func(*Window) float64) func(*LevelResult) float64 {
	return func(l *LevelResult) float64 {
		if l.Idle == nil {
			return math.NaN()
		}
		return f(l.Idle)
	}
}

func pct(p float64, sel func(*LevelResult) []float64, scale float64) func(*LevelResult) float64 {
	return func(l *LevelResult) float64 { return Percentile(sel(l), p) * scale }
}

func takeoverOK(l *LevelResult) bool { return l.TakeoverSecs > 0 }

// BuildReport turns the phases into the report; a nil phase is shown as not measured.
func BuildReport(cfg Config, ours, keda *PhaseResult, meta ReportMeta) Report {
	r := Report{Title: "make bench: kedactl vs " + kedaName}
	r.Meta = []string{
		fmt.Sprintf("Scale: **%s** (idle levels %v, take-over of %d, activation with %v loaded × %d trials, external metrics at %v, figure 4 with %d identical triggers).",
			cfg.Scale, cfg.IdleLevels, cfg.TakeoverLevel, cfg.ActLoads, cfg.Trials, cfg.Fig5Levels, cfg.Fig4N),
		fmt.Sprintf("Run %s, %s, commit %s, %s/%s, %d CPUs; %s",
			meta.Began.UTC().Format("2006-01-02 15:04 UTC"), meta.Took.Round(time.Second), meta.Commit, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), clustersWhat(meta, cfg.TakeoverLevel)),
		fmt.Sprintf("Both operators run on 127.0.0.1 with the admin kubeconfig and client rate qps %s, burst %s (%s); KEDA is its operator plus its metrics adapter (memory and CPU are their sum).", meta.QPS, meta.Burst, rateNote(meta)),
		fmt.Sprintf("Workload: one Deployment (kwok) per ScaledObject, one metrics-api trigger on a counting HTTP source on 127.0.0.1 (valueLocation value, targetValue 10), pollingInterval %d, cooldownPeriod 0.", cfg.Polling),
		fmt.Sprintf("KEDA is measured up to %d ScaledObjects: it takes over about 2 a second, so 10,000 would take well over an hour.", cfg.KEDAMaxLevel),
		"Ratios are kedactl / KEDA: below 1 means kedactl uses less.",
	}
	if len(cfg.Only) > 0 {
		r.Meta = append(r.Meta, fmt.Sprintf("This run measured figures %v only (and the take-overs their levels need); the other figures and targets are empty.", cfg.Only))
	}
	if len(meta.Reused) > 0 {
		r.Meta = append(r.Meta, fmt.Sprintf("Phases taken from an earlier run on this machine (same scale and settings, its own fresh cluster): %s.", strings.Join(meta.Reused, "; ")))
	}
	if meta.LoadBefore != "" {
		r.Meta = append(r.Meta, fmt.Sprintf("Machine load (1/5/15-minute averages) at the start: %s; at the end: %s. Other work on the machine skews CPU and latency figures.", meta.LoadBefore, meta.LoadAfter))
	}
	for _, e := range meta.PhaseErrors {
		r.Meta = append(r.Meta, "Phase failed: "+e)
	}
	if meta.MemoryLimitMiB > 0 {
		r.Meta = append(r.Meta, fmt.Sprintf("kedactl ran as in a container with a %d MiB memory limit: GOMEMLIMIT=%d, the %.0f%% of it the operator sets from its cgroup's limit by default (--memory-limit-ratio); KEDA ran without a limit.",
			meta.MemoryLimitMiB, oursMemoryLimit(meta.MemoryLimitMiB), defaultMemoryLimitRatio*100))
	}
	for i, st := range meta.Stages {
		r.Meta = append(r.Meta, fmt.Sprintf("Stage %d, %s-%s (%s): %s.", i+1, st.Start.UTC().Format("15:04:05"), st.End.UTC().Format("15:04:05"),
			st.End.Sub(st.Start).Round(time.Second), strings.Join(st.Parts, "; at once with ")))
	}
	for _, n := range meta.Notes {
		r.Meta = append(r.Meta, "Note: "+n)
	}
	for _, p := range []*PhaseResult{ours, keda} {
		if p != nil {
			for _, e := range p.Errors {
				r.Meta = append(r.Meta, fmt.Sprintf("%s: %s", p.Name, e))
			}
		}
	}
	r.Figures = append(r.Figures, fig1(cfg, ours, keda), fig2(cfg, ours, keda, meta.QPS), fig3(cfg, ours, keda), fig4(cfg, ours, keda), fig5(cfg, ours, keda), fig6(cfg, ours, keda))
	r.Targets = targets(cfg, ours, keda, meta.QPS, meta.MemoryLimitMiB > 0)
	return r
}

// clustersWhat says what ran where: runs before the staged plan had one cluster for everything,
// and runs before the levels above the take-over level were prepared in the first stage measured
// them alone from their take-over on.
func clustersWhat(meta ReportMeta, takeoverLevel int) string {
	const kinds = "local clusters (etcd, kube-apiserver, kube-controller-manager with the HPA controller at its default 15 s sync, kube-scheduler, kwok nodes)"
	if len(meta.Stages) == 0 {
		return "one local cluster (etcd, kube-apiserver, kube-controller-manager with the HPA controller at its default 15 s sync, kube-scheduler, kwok nodes), the operators one after the other on it."
	}
	const common = "fresh identical " + kinds + ", one per operator process, in the stages below: what only waits or counts (take-overs at the client rate, settling, the idle windows' request counts, RSS and CPU seconds, figure 4's source queries) runs beside other clusters; "
	const held = "(its controller-manager and operator stopped with SIGSTOP; a measured level settles again after it was held)"
	if !preparesAbove(meta.Stages, takeoverLevel) {
		return common + "each operator's measurements at the take-over level, the webhook and the activation trials run with every other cluster of the run held frozen " + held + "; every level above the take-over level runs alone."
	}
	return common + "so does the fast take-over of each level above the take-over level, which is restarted at the run's client rates and measured in a stage of its own at the end. What is timed in milliseconds (external metrics, activation, the webhook) runs with every other cluster of the run held frozen " + held + "."
}

// preparesAbove reports whether the first stage took over a level above the take-over level.
func preparesAbove(stages []StageRecord, takeoverLevel int) bool {
	if len(stages) == 0 {
		return false
	}
	for _, p := range stages[0].Parts {
		var n int
		if i := strings.LastIndex(p, "take-over "); i >= 0 {
			if _, err := fmt.Sscanf(p[i:], "take-over %d", &n); err == nil && n > takeoverLevel {
				return true
			}
		}
	}
	return false
}

func fig1(cfg Config, ours, keda *PhaseResult) Figure {
	f := Figure{ID: "1", Title: "Idle cost by number of ScaledObjects",
		What: fmt.Sprintf("Idle ScaledObjects (Deployments at 0, source answering 0). After the take-over, %s, a %s window: peak RSS, CPU seconds per minute, the operator's own apiserver requests per minute (rest_client_requests_total from its Prometheus endpoints) and all clients' requests per minute (kube-apiserver's apiserver_request_total, resource requests, diffed over the window).", settleWhat(cfg, ours), cfg.Window)}
	metrics := []struct {
		name string
		f    func(*Window) float64
	}{
		{"RSS MiB", func(w *Window) float64 { return w.RSSMiB }},
		{"CPU s/min", func(w *Window) float64 { return w.CPUPerMin }},
		{"operator req/min", func(w *Window) float64 { return w.OpReqPerMin }},
		{"operator writes/min", func(w *Window) float64 { return w.OpWritesPerMin }},
		{"apiserver req/min (all clients)", func(w *Window) float64 { return w.APIReqPerMin }},
		{"apiserver writes/min (all clients)", func(w *Window) float64 { return w.APIWritesPerMin }},
	}
	t := Table{Header: []string{"ScaledObjects"}}
	for _, m := range metrics {
		t.Header = append(t.Header, m.name+" kedactl", "KEDA", "ratio")
	}
	var cats []string
	ratioSeries := make([]Series, 4)
	for i, m := range []int{0, 1, 2, 4} {
		ratioSeries[i].Name = metrics[m].name
	}
	for _, n := range cfg.IdleLevels {
		row := []string{fmt.Sprint(n)}
		for _, m := range metrics {
			o, k := get(ours, n, idle(m.f)), get(keda, n, idle(m.f))
			row = append(row, Num(o), Num(k), RatioCell(o, k))
		}
		t.Rows = append(t.Rows, row)
		if !math.IsNaN(get(keda, n, idle(metrics[0].f))) {
			cats = append(cats, fmt.Sprint(n))
			for i, m := range []int{0, 1, 2, 4} {
				ratioSeries[i].Values = append(ratioSeries[i].Values, Ratio(get(ours, n, idle(metrics[m].f)), get(keda, n, idle(metrics[m].f))))
			}
		}
	}
	f.Charts = []Chart{{File: "fig1-idle.svg", Alt: "figure 1: kedactl / KEDA ratios at idle",
		SVG: BarChart{Title: "Idle cost, kedactl / KEDA (lower is better)", YLabel: "ratio", Categories: cats, Series: ratioSeries}.SVG()}}
	f.Tables = []Table{t}
	if ours != nil || keda != nil {
		var notes []string
		for _, p := range []*PhaseResult{ours, keda} {
			if p != nil {
				notes = append(notes, fmt.Sprintf("%s: %d log lines about client-side throttling (client-go logs only waits over 1 s at this verbosity)", p.Name, p.Throttled))
				var waits []string
				for _, l := range p.Levels {
					if l.SettleSecs > 0 {
						waits = append(waits, fmt.Sprintf("%s s at %d", Num(l.SettleSecs), l.N))
					}
				}
				if len(waits) > 0 {
					notes = append(notes, fmt.Sprintf("%s settled after %s.", p.Name, strings.Join(waits, ", ")))
				}
				for _, l := range p.Levels {
					if l.Restart != nil {
						notes = append(notes, restartNote(p.Name, l))
					}
				}
			}
		}
		f.Notes = notes
	}
	if ours != nil && len(cfg.IdleLevels) > 0 {
		top := slices.Max(cfg.IdleLevels)
		if l := ours.level(top); l != nil && len(l.IdleHeapProfile) > 0 {
			f.Blocks = append(f.Blocks, Block{
				Caption: fmt.Sprintf("What held %s's live heap after the idle window at %d ScaledObjects (`go tool pprof -top -sample_index=inuse_space`; RSS adds the runtime's own and not yet returned memory):", oursName, top),
				Lines:   l.IdleHeapProfile,
			})
		}
	}
	return f
}

// restartNote says how a level reached by a restart got there and what the restart cost.
func restartNote(name string, l *LevelResult) string {
	r := l.Restart
	var by []string
	for _, k := range slices.Sorted(maps.Keys(r.APIWritesPerObjectBy)) {
		by = append(by, fmt.Sprintf("%s %s", k, Num(r.APIWritesPerObjectBy[k])))
	}
	what := "nothing written by any client above 0.01 a object"
	if len(by) > 0 {
		what = "all clients wrote per object: " + strings.Join(by, ", ")
	}
	var reads []string
	for _, k := range slices.Sorted(maps.Keys(r.APIReadsPerObjectBy)) {
		reads = append(reads, fmt.Sprintf("%s %s", k, Num(r.APIReadsPerObjectBy[k])))
	}
	if len(reads) > 0 {
		what += "; and read: " + strings.Join(reads, ", ")
	}
	return fmt.Sprintf("%s reached %d ScaledObjects by a take-over at client qps %s (%s s; a take-over of that many at the run's rate would take most of the run) and then a restart at the run's client rates, as after an upgrade: ready %s s after its start, settled after %s s, having made %s requests and %s writes per object meanwhile (%s). The idle window measures that steady state; it waited for the operator's own requests only: the cluster's Deployment controller was still giving the new Deployments their ReplicaSets and statuses (about 25 minutes for 10,000 at its qps 20), so the all-clients figures at this level include that.",
		name, l.N, r.FastQPS, Num(l.TakeoverSecs), Num(r.ReadySecs), Num(r.SettleSecs), Num(r.RequestsPerObject), Num(r.WritesPerObject), what)
}

func fig2(cfg Config, ours, keda *PhaseResult, qpsText string) Figure {
	f := Figure{ID: "2", Title: fmt.Sprintf("Take-over of %d new ScaledObjects", cfg.TakeoverLevel),
		What: "The harness creates the Deployments and ScaledObjects (32 at a time) while the operator runs; time from the first create until every HPA exists; writes are the operator's (non-GET rest_client_requests_total) and all clients' (apiserver_request_total less the harness's 2 creates per object), counted until the operator's writes hold still for 5 s."}
	t := Table{Header: []string{"ScaledObjects", "seconds kedactl", "KEDA", "ratio", "operator writes/object kedactl", "KEDA", "ratio", "apiserver writes/object kedactl", "KEDA", "ratio", "harness create seconds kedactl", "KEDA"}}
	levels := cfg.levels(slices.Max(cfg.IdleLevels))
	for _, n := range levels {
		if n == 0 {
			continue
		}
		sec := func(l *LevelResult) float64 {
			if !takeoverOK(l) {
				return math.NaN()
			}
			return l.TakeoverSecs
		}
		wr := func(l *LevelResult) float64 {
			if !takeoverOK(l) {
				return math.NaN()
			}
			return l.WritesPerObject
		}
		aw := func(l *LevelResult) float64 {
			if !takeoverOK(l) {
				return math.NaN()
			}
			return l.APIWritesPerObject
		}
		cs := func(l *LevelResult) float64 {
			if !takeoverOK(l) {
				return math.NaN()
			}
			return l.CreateSecs
		}
		o1, k1, o2, k2, o3, k3 := get(ours, n, sec), get(keda, n, sec), get(ours, n, wr), get(keda, n, wr), get(ours, n, aw), get(keda, n, aw)
		label := fmt.Sprint(n)
		if ours != nil && ours.level(n) != nil && ours.level(n).Restart != nil {
			l := ours.level(n)
			label += fmt.Sprintf(" (kedactl at qps %s, before its restart: figure 1)", l.Restart.FastQPS)
		}
		t.Rows = append(t.Rows, []string{label, Num(o1), Num(k1), RatioCell(o1, k1), Num(o2), Num(k2), RatioCell(o2, k2), Num(o3), Num(k3), RatioCell(o3, k3), Num(get(ours, n, cs)), Num(get(keda, n, cs))})
	}
	n := cfg.TakeoverLevel
	val := func(p *PhaseResult, f func(*LevelResult) float64) float64 {
		return get(p, n, func(l *LevelResult) float64 {
			if !takeoverOK(l) {
				return math.NaN()
			}
			return f(l)
		})
	}
	secs := func(l *LevelResult) float64 { return l.TakeoverSecs }
	wpo := func(l *LevelResult) float64 { return l.WritesPerObject }
	apw := func(l *LevelResult) float64 { return l.APIWritesPerObject }
	f.Charts = []Chart{{File: "fig2-takeover.svg", Alt: "figure 2: take-over time and writes",
		SVG: BarChart{Title: fmt.Sprintf("Take-over of %d ScaledObjects", n), YLabel: "seconds / writes per object",
			Categories: []string{"seconds", "operator writes/object", "apiserver writes/object"},
			Series: []Series{{Name: oursName, Values: []float64{val(ours, secs), val(ours, wpo), val(ours, apw)}},
				{Name: kedaName, Values: []float64{val(keda, secs), val(keda, wpo), val(keda, apw)}}}}.SVG()}}
	f.Tables = []Table{t, writesByKindTable(n, ours, keda)}
	f.Notes = []string{"Each level's objects are taken over in a fresh namespace; the table lists every level the run visited.",
		fmt.Sprintf("The second table is what the writes per object at %d are made of, by verb and resource, from all clients (events included, the harness's creates left out).", n)}
	if qps, err := strconv.ParseFloat(qpsText, 64); err == nil && qps > 0 {
		f.Notes = append(f.Notes, fmt.Sprintf("The operator's manager client, held to qps %s, makes at least three writes per new object (finalizer, HPA, status): %d × 3 / %s = %s s is the floor under the take-over time at KEDA's client rate.",
			qpsText, n, qpsText, Num(3*float64(n)/qps)))
	}
	return f
}

// writesByKindTable lists the take-over's writes per object at level n by verb and resource.
func writesByKindTable(n int, ours, keda *PhaseResult) Table {
	by := func(p *PhaseResult) map[string]float64 {
		if p == nil {
			return nil
		}
		if l := p.level(n); l != nil && takeoverOK(l) {
			return l.APIWritesPerObjectBy
		}
		return nil
	}
	o, k := by(ours), by(keda)
	kinds := map[string]bool{}
	for kind := range o {
		kinds[kind] = true
	}
	for kind := range k {
		kinds[kind] = true
	}
	t := Table{Header: []string{"write (verb resource)", "per object kedactl", "KEDA"}}
	for _, kind := range slices.Sorted(maps.Keys(kinds)) {
		cell := func(m map[string]float64) string {
			if m == nil {
				return "–"
			}
			return Num(m[kind])
		}
		t.Rows = append(t.Rows, []string{kind, cell(o), cell(k)})
	}
	return t
}

// activationKind is one source of figure 3: its names and what a level measured with it.
type activationKind struct {
	name, short string
	lat         func(*LevelResult) []float64
	missed      func(*LevelResult) int
}

// activationKinds are figure 3's sources in the order the report shows them.
func activationKinds() []activationKind {
	return []activationKind{
		{"polled (metrics-api)", "polled", func(l *LevelResult) []float64 { return l.Activation }, func(l *LevelResult) int { return l.ActivationMissed }},
		{"push (kubernetes-workload)", "push", func(l *LevelResult) []float64 { return l.PushActivation }, func(l *LevelResult) int { return l.PushActivationMissed }},
	}
}

func fig3(cfg Config, ours, keda *PhaseResult) Figure {
	f := Figure{ID: "3", Title: "Activation latency (event until the Deployment asks for ≥ 1 replica)",
		What: fmt.Sprintf("With N ScaledObjects loaded, %d trials per source, each on one object, started at a random moment within one polling interval (%d s), watching its Deployment's spec.replicas; objects are used at most once per round (rounds reset the events and wait for 0 replicas). "+
			"Polled: the event flips a loaded object's metrics-api source from 0 to 1; the expected latency is up to one polling interval. "+
			"Push: beside the N loaded objects, %d kubernetes-workload ScaledObjects (pollingInterval %d, value 1, each counting the pods labelled for it alone); the event is the harness creating one matching pod (timed from just before the create; the pod is deleted with grace period 0 after the round). kedactl is told of the pod by its pod informer; KEDA polls the trigger, so it should show up to one polling interval.",
			cfg.Trials, cfg.Polling, cfg.Trials, cfg.Polling)}
	t := Table{Header: []string{"loaded", "source", "p50 s kedactl", "KEDA", "ratio", "p99 s kedactl", "KEDA", "ratio", "trials kedactl", "KEDA", "missed kedactl", "KEDA"}}
	var cats []string
	kinds := activationKinds()
	series := make([]Series, 0, 2*len(kinds))
	for _, k := range kinds {
		series = append(series, Series{Name: oursName + ", " + k.short}, Series{Name: kedaName + ", " + k.short})
	}
	for _, n := range cfg.ActLoads {
		cats = append(cats, fmt.Sprintf("p50 @%d", n), fmt.Sprintf("p99 @%d", n))
		for ki, k := range kinds {
			o50, k50 := get(ours, n, pct(50, k.lat, 1)), get(keda, n, pct(50, k.lat, 1))
			o99, k99 := get(ours, n, pct(99, k.lat, 1)), get(keda, n, pct(99, k.lat, 1))
			cnt := func(l *LevelResult) float64 { return float64(len(k.lat(l))) }
			miss := func(l *LevelResult) float64 { return float64(k.missed(l)) }
			t.Rows = append(t.Rows, []string{fmt.Sprint(n), k.name, Num(o50), Num(k50), RatioCell(o50, k50), Num(o99), Num(k99), RatioCell(o99, k99),
				Num(get(ours, n, cnt)), Num(get(keda, n, cnt)), Num(get(ours, n, miss)), Num(get(keda, n, miss))})
			series[2*ki].Values = append(series[2*ki].Values, o50, o99)
			series[2*ki+1].Values = append(series[2*ki+1].Values, k50, k99)
		}
	}
	f.Charts = []Chart{{File: "fig3-activation.svg", Alt: "figure 3: activation latency, polled and push",
		SVG: BarChart{Title: "Activation latency, polled and push sources", YLabel: "seconds", Categories: cats, Series: series}.SVG()}}
	f.Tables = []Table{t}
	f.Notes = []string{fmt.Sprintf("A push row's load is the N metrics-api ScaledObjects plus the %d kubernetes-workload ones. Missed: events the harness failed to make, or that the Deployment did not follow within one polling interval plus 60 s.", cfg.Trials)}
	return f
}

func fig4(cfg Config, ours, keda *PhaseResult) Figure {
	f := Figure{ID: "4", Title: "Event-source queries per minute per trigger, HPA reading",
		What: fmt.Sprintf("Four groups at once, each on its own source key: 1 trigger and %d identical triggers (same URL), with useCachedMetrics false and true; targets at minReplicaCount 1 so the HPA (15 s sync) reads the external metric; after a %s warm-up the source counts the queries for %s.", cfg.Fig4N, fig4WarmUp, cfg.Fig4Window)}
	groups := Fig4Groups(cfg.Fig4N)
	t := Table{Header: []string{"group", "kedactl", "KEDA", "ratio"}}
	val := func(p *PhaseResult, g string) float64 {
		if p == nil || p.Fig4 == nil {
			return math.NaN()
		}
		v, ok := p.Fig4.PerTrigger[g]
		if !ok {
			return math.NaN()
		}
		return v
	}
	var so, sk []float64
	var cats []string
	for i, g := range groups {
		o, k := val(ours, g), val(keda, g)
		t.Rows = append(t.Rows, []string{g, Num(o), Num(k), RatioCell(o, k)})
		so, sk = append(so, o), append(sk, k)
		cats = append(cats, []string{"1, uncached", "1, cached", fmt.Sprintf("%d, uncached", cfg.Fig4N), fmt.Sprintf("%d, cached", cfg.Fig4N)}[i])
	}
	f.Charts = []Chart{{File: "fig4-queries.svg", Alt: "figure 4: source queries per minute per trigger",
		SVG: BarChart{Title: "Source queries per minute per trigger", YLabel: "queries/min/trigger", Categories: cats,
			Series: []Series{{Name: oursName, Values: so}, {Name: kedaName, Values: sk}}}.SVG()}}
	f.Tables = []Table{t}
	return f
}

func fig5(cfg Config, ours, keda *PhaseResult) Figure {
	f := Figure{ID: "5", Title: "External metrics request latency through the apiserver",
		What: "GET /apis/external.metrics.k8s.io/v1beta1/namespaces/NS/METRIC?labelSelector=scaledobject.keda.sh/name=NAME with the admin client, one at a time over 20 random ScaledObjects (metric names read from their HPAs), after 10 warm-up requests; latency measured by the client."}
	t := Table{Header: []string{"ScaledObjects", "requests kedactl", "KEDA", "p50 ms kedactl", "KEDA", "ratio", "p99 ms kedactl", "KEDA", "ratio", "errors kedactl", "KEDA"}}
	ext := func(l *LevelResult) []float64 { return l.ExtMetrics }
	var cats []string
	var so, sk []float64
	for _, n := range cfg.Fig5Levels {
		o50, k50 := get(ours, n, pct(50, ext, 1000)), get(keda, n, pct(50, ext, 1000))
		o99, k99 := get(ours, n, pct(99, ext, 1000)), get(keda, n, pct(99, ext, 1000))
		cnt := func(l *LevelResult) float64 { return float64(len(l.ExtMetrics)) }
		errs := func(l *LevelResult) float64 { return float64(l.ExtMetricsErrors) }
		t.Rows = append(t.Rows, []string{fmt.Sprint(n), Num(get(ours, n, cnt)), Num(get(keda, n, cnt)), Num(o50), Num(k50), RatioCell(o50, k50), Num(o99), Num(k99), RatioCell(o99, k99), Num(get(ours, n, errs)), Num(get(keda, n, errs))})
		cats = append(cats, fmt.Sprintf("p50 @%d", n), fmt.Sprintf("p99 @%d", n))
		so = append(so, o50, o99)
		sk = append(sk, k50, k99)
	}
	f.Charts = []Chart{{File: "fig5-extmetrics.svg", Alt: "figure 5: external metrics latency",
		SVG: BarChart{Title: "External metrics GET latency", YLabel: "milliseconds", Categories: cats,
			Series: []Series{{Name: oursName, Values: so}, {Name: kedaName, Values: sk}}}.SVG()}}
	f.Tables = []Table{t}
	for _, n := range cfg.Fig5Levels {
		if ours == nil {
			break
		}
		if l := ours.level(n); l != nil && len(l.ExtMetricsProfile) > 0 {
			f.Blocks = append(f.Blocks, Block{
				Caption: fmt.Sprintf("Where %s's CPU went while it answered at %d ScaledObjects (a 10 s CPU profile over the requests, `go tool pprof -top`; the rest of the latency is the apiserver's aggregation proxy and the client):", oursName, n),
				Lines:   l.ExtMetricsProfile,
			})
		}
	}
	return f
}

func targets(cfg Config, ours, keda *PhaseResult, qpsText string, memoryLimited bool) []Target {
	var ts []Target
	ts = append(ts, activationTargets(cfg, ours)...)
	f4 := func(p *PhaseResult, g string) float64 {
		if p == nil || p.Fig4 == nil {
			return math.NaN()
		}
		return p.Fig4.PerTrigger[g]
	}
	groups := Fig4Groups(cfg.Fig4N)
	uncached := NewTargetCmp("source queries vs KEDA, useCachedMetrics false (1 trigger)", "×", Ratio(f4(ours, groups[0]), f4(keda, groups[0])), 2.0/3, "<=")
	uncached.Why = fmt.Sprintf("with useCachedMetrics false KEDA v2.21 reads the source once for each HPA request and at no other time (%s a minute here: the HPA controller syncs every 15 s, 4 a minute); "+
		"kedactl also reads once per HPA request and skips its scheduled poll while those reads keep the value fresh (%s a minute). "+
		"Fewer reads at the same freshness would answer an HPA request with a value older than the request, which useCachedMetrics false rules out; useCachedMetrics true is the way to fewer reads.",
		Num(f4(keda, groups[0])), Num(f4(ours, groups[0])))
	identical := NewTargetCmp(fmt.Sprintf("source queries vs KEDA, %d identical triggers (useCachedMetrics false)", cfg.Fig4N), "×", Ratio(f4(ours, groups[2]), f4(keda, groups[2])), 1.0/50, "<=")
	identical.Why = fmt.Sprintf("each of the %d HPAs asks for its own metric at its own moment of its 15 s sync; one read serves every identical request that arrives while it is under way (single-flight), "+
		"which brings kedactl to %s reads a minute per trigger against KEDA's %s, and the cached group (useCachedMetrics true) to %s. Sharing more without the cache would answer requests with values read before they were made.",
		cfg.Fig4N, Num(f4(ours, groups[2])), Num(f4(keda, groups[2])), Num(f4(ours, groups[3])))
	ts = append(ts, uncached,
		NewTargetCmp("source queries vs KEDA, useCachedMetrics true (1 trigger)", "×", Ratio(f4(ours, groups[1]), f4(keda, groups[1])), 1, "<="),
		identical,
	)
	top := slices.Max(cfg.IdleLevels)
	note := ""
	if top < 10000 {
		note = fmt.Sprintf(" (goal stated for 10,000; this run's largest is %d)", top)
	}
	rss := NewTarget(fmt.Sprintf("RSS at %d ScaledObjects%s", top, note), "MiB", get(ours, top, idle(func(w *Window) float64 { return w.RSSMiB })), 256, true)
	cpu := NewTarget(fmt.Sprintf("CPU at %d ScaledObjects", top), "cores", get(ours, top, idle(func(w *Window) float64 { return w.CPUPerMin / 60 })), 0.2, true)
	if reqs := get(ours, top, idle(func(w *Window) float64 { return w.OpReqPerMin })); reqs >= settleRate {
		why := fmt.Sprintf("the idle window at %d was not a steady state: the operator made %s apiserver requests a minute in it (%s at %d), still working through the reconciles of the take-over", top, Num(reqs),
			Num(get(ours, prevLevel(cfg.IdleLevels, top), idle(func(w *Window) float64 { return w.OpReqPerMin }))), prevLevel(cfg.IdleLevels, top))
		if s := get(ours, top, func(l *LevelResult) float64 { return l.SettleSecs }); math.IsNaN(s) || s == 0 {
			why += " (this run measured 30 s after the take-over, before the bench waited for the backlog to end)"
		}
		rss.Why, cpu.Why = why+".", why+"."
	} else if ours != nil && rss.Met != nil && !*rss.Met && ours.level(top) != nil {
		l := ours.level(top)
		rss.Why = heapWhy(l.IdleHeapProfile, get(ours, top, idle(func(w *Window) float64 { return w.RSSMiB })),
			get(ours, top, idle(func(w *Window) float64 { return w.RSSFileMiB })), memoryLimited)
	}
	ts = append(ts, rss, cpu)
	ts = append(ts, throttlingTarget(ours))
	ts = append(ts, NewTarget(fmt.Sprintf("operator writes/min per 100 ScaledObjects, steady state at %d", top), "writes/min", get(ours, top, idle(func(w *Window) float64 {
		return w.OpWritesPerMin / float64(max(top, 1)) * 100
	})), 1, true))
	n := cfg.TakeoverLevel
	took := func(f func(*LevelResult) float64) func(*LevelResult) float64 {
		return func(l *LevelResult) float64 {
			if !takeoverOK(l) {
				return math.NaN()
			}
			return f(l)
		}
	}
	writes := get(ours, n, took(func(l *LevelResult) float64 { return l.WritesPerObject }))
	takeover := NewTarget(fmt.Sprintf("take-over of %d new ScaledObjects", n), "s", get(ours, n, took(func(l *LevelResult) float64 { return l.TakeoverSecs })), 30, true)
	if qps, err := strconv.ParseFloat(qpsText, 64); err == nil && qps > 0 {
		takeover.Why = fmt.Sprintf("each new object needs at least three writes from the operator's manager client (its finalizer, its HPA, its status; events and uncached reads go through clients of their own), "+
			"and client-go holds that client to qps %s (KEDA's default, the same for both): %d × 3 / %s = %s s, against %s s measured. "+
			"Under 30 s at this rate would need fewer than %s such writes per object.",
			qpsText, n, qpsText, Num(3*float64(n)/qps), Num(get(ours, n, took(func(l *LevelResult) float64 { return l.TakeoverSecs }))), Num(30*qps/float64(n)))
	}
	perObject := NewTargetCmp("operator writes per object taken over", "writes", writes, 3, "<=")
	perObject.Why = "what they are is figure 2's second table: the finalizer (PATCH scaledobjects), the HPA (APPLY), one status write (Ready with the first poll's activity) and KEDA's three events (KEDAScalersStarted for the scaler built and for the watch started, ScaledObjectReady), which KEDA writes as well (3 an object in its column); three writes would mean leaving out the events KEDA's users read in kubectl describe and alert on."
	ts = append(ts, takeover, perObject)
	f5 := slices.Max(cfg.Fig5Levels)
	ext := func(l *LevelResult) []float64 { return l.ExtMetrics }
	extTarget := NewTarget(fmt.Sprintf("external metrics p99 at %d ScaledObjects", f5), "ms", get(ours, f5, pct(99, ext, 1000)), 5, true)
	if ours != nil {
		if l := ours.level(f5); l != nil {
			extTarget.Why = profileWhy(l)
		}
	}
	ts = append(ts, extTarget)
	return ts
}

// settleWhat says how the run let the operator settle before the idle windows: runs before the
// backlog wait slept a fixed time.
func settleWhat(cfg Config, ours *PhaseResult) string {
	if ours != nil {
		for _, l := range ours.Levels {
			if l.SettleSecs > 0 {
				return fmt.Sprintf("at least %s and then until the operator's own requests come under %v a minute and all clients' writes under %v (the take-over's backlog done, the operator's and the controllers'; the waits are noted below)", cfg.Settle, settleRate, settleAPIWriteRate)
			}
		}
	}
	return fmt.Sprintf("%s of settling", cfg.Settle)
}

// prevLevel is the idle level below n (0 when none).
func prevLevel(levels []int, n int) int {
	prev := 0
	for _, l := range levels {
		if l < n && l > prev {
			prev = l
		}
	}
	return prev
}

// profileWhy says how much of the external metrics latency the operator's CPU profile accounts
// for: its CPU per request, against the p50 and p99 the client saw.
func profileWhy(l *LevelResult) string {
	var total time.Duration
	for _, line := range l.ExtMetricsProfile {
		if _, after, ok := strings.Cut(line, "Total samples = "); ok {
			if d, err := time.ParseDuration(strings.Fields(after)[0]); err == nil {
				total = d
			}
		}
	}
	if total == 0 || len(l.ExtMetrics) == 0 {
		return "no CPU profile of the operator was taken for this level."
	}
	// The profile lasts profileWindow from the first request: it covers the requests made in it.
	covered, spent := 0, 0.0
	for _, d := range l.ExtMetrics {
		if spent += d; spent > profileWindow.Seconds() {
			break
		}
		covered++
	}
	per := float64(total.Microseconds()) / 1000 / float64(max(covered, 1))
	return fmt.Sprintf("the operator's CPU profile over %s of requests (%d of them, figure 5) totals %s, at most %s ms of CPU a request, against a p50 of %s ms and a p99 of %s ms seen by the client: "+
		"the rest is waiting: on the source, which a trigger without useCachedMetrics is read from at each request (as KEDA reads it; the workload's metrics-api source answers over HTTP), on the kube-apiserver's aggregation proxy (authentication, the proxied TLS connection) and on scheduling on this 2-CPU machine.",
		profileWindow, covered, total, Num(per), Num(1000*Percentile(l.ExtMetrics, 50)), Num(1000*Percentile(l.ExtMetrics, 99)))
}

// activationTargets are figure 3's targets: push and polled p99 at each load, and polled no worse
// at the largest load than at the smallest.
func activationTargets(cfg Config, ours *PhaseResult) []Target {
	var ts []Target
	act := func(l *LevelResult) []float64 { return l.Activation }
	push := func(l *LevelResult) []float64 { return l.PushActivation }
	for _, n := range cfg.ActLoads {
		ts = append(ts, NewTarget(fmt.Sprintf("push activation p99 with %d loaded", n), "s", get(ours, n, pct(99, push, 1)), 0.5, true))
	}
	for _, n := range cfg.ActLoads {
		ts = append(ts, NewTarget(fmt.Sprintf("polled activation p99 with %d loaded", n), "s", get(ours, n, pct(99, act, 1)), float64(cfg.Polling)+0.5, true))
	}
	loMax := slices.Max(cfg.ActLoads)
	loMin := slices.Min(cfg.ActLoads)
	// The p99 of a few dozen trials is close to their maximum, which for a polled source is the
	// polling interval under any load: "no worse" allows the 5 % that two such maxima differ by.
	ratio := NewTargetCmp(fmt.Sprintf("activation p99 at %d loaded / at %d (no worse, within 5 %%)", loMax, loMin), "×",
		Ratio(get(ours, loMax, pct(99, act, 1)), get(ours, loMin, pct(99, act, 1))), 1.05, "<=")
	ratio.Why = fmt.Sprintf("a polled source's latency is where in the %d s polling interval the event falls, so the p99 of %d trials is about their largest draw between 0 and %d s: %s s at %d and %s s at %d, both under the interval; the medians, %s s and %s s, show no slowdown with load.",
		cfg.Polling, cfg.Trials, cfg.Polling, Num(get(ours, loMax, pct(99, act, 1))), loMax, Num(get(ours, loMin, pct(99, act, 1))), loMin,
		Num(get(ours, loMax, pct(50, act, 1))), Num(get(ours, loMin, pct(50, act, 1))))
	ts = append(ts, ratio)
	return ts
}

func fig6(cfg Config, ours, keda *PhaseResult) Figure {
	f := Figure{ID: "6", Title: fmt.Sprintf("Admission webhook: applying %d ScaledObjects", cfg.Fig6N),
		What: fmt.Sprintf("%d ScaledObjects applied one after the other with server-side apply as dry runs (admission runs, nothing is stored, so no operator takes anything over while the applies are timed), into a namespace outside the webhook's selector and into one inside it (failurePolicy Fail, URL on localhost), after the operator has settled and one untimed apply in each namespace (the first admission sets up what the others reuse); the Deployments exist beforehand. kedactl's webhook runs in its operator process, KEDA's is its cmd/webhooks binary. A second ScaledObject for a Deployment a stored one scales is then applied: the webhook should refuse it. (Runs before 2026-12-07 stored the applies, so their figure included the operator's take-over of each object.)", cfg.Fig6N)}
	val := func(p *PhaseResult, sel func(*Fig6Result) float64) float64 {
		if p == nil || p.Fig6 == nil {
			return math.NaN()
		}
		return sel(p.Fig6)
	}
	base := func(r *Fig6Result) float64 { return r.BaselineSecs }
	hook := func(r *Fig6Result) float64 { return r.WebhookSecs }
	added := func(r *Fig6Result) float64 { return (r.WebhookSecs - r.BaselineSecs) / float64(max(r.N, 1)) * 1000 }
	rej := func(p *PhaseResult) string {
		if p == nil || p.Fig6 == nil {
			return "–"
		}
		return map[bool]string{true: "yes", false: "no"}[p.Fig6.Rejected]
	}
	t := Table{Header: []string{"", "kedactl", "KEDA", "ratio"}}
	for _, row := range []struct {
		name string
		sel  func(*Fig6Result) float64
	}{{"seconds without webhook", base}, {"seconds with webhook", hook}, {"ms added per object", added},
		{"ms in the webhook per object (its own latency histogram)", func(r *Fig6Result) float64 {
			if r.ServerMillis == 0 {
				return math.NaN()
			}
			return r.ServerMillis
		}}} {
		o, k := val(ours, row.sel), val(keda, row.sel)
		t.Rows = append(t.Rows, []string{row.name, Num(o), Num(k), RatioCell(o, k)})
	}
	t.Rows = append(t.Rows, []string{"duplicate refused", rej(ours), rej(keda), ""})
	f.Tables = []Table{t}
	if ours != nil && ours.Fig6 != nil && len(ours.Fig6.Profile) > 0 {
		f.Blocks = append(f.Blocks, Block{
			Caption: fmt.Sprintf("Where %s's CPU went while %d more dry-run applies went through its webhook (a %s CPU profile, `go tool pprof -top -cum -focus='webhook|admission'`: the admission handling alone)%s:",
				oursName, ours.Fig6.ProfiledApplies, profileWindow, cpuPerApply(ours.Fig6)),
			Lines: ours.Fig6.Profile,
		})
	}
	f.Charts = []Chart{{File: "fig6-webhook.svg", Alt: "figure 6: apply time with the webhook",
		SVG: BarChart{Title: fmt.Sprintf("Apply of %d ScaledObjects", cfg.Fig6N), YLabel: "seconds", Categories: []string{"without webhook", "with webhook"},
			Series: []Series{{Name: oursName, Values: []float64{val(ours, base), val(ours, hook)}}, {Name: kedaName, Values: []float64{val(keda, base), val(keda, hook)}}}}.SVG()}}
	return f
}

// cpuPerApply is the CPU of the focused profile's widest node (sorted by cum, the first row: what
// contains the whole admission handling) per profiled apply, as a caption's tail.
func cpuPerApply(r *Fig6Result) string {
	for _, line := range r.Profile {
		f := strings.Fields(line)
		if len(f) < 6 || !strings.HasSuffix(f[1], "%") || !strings.HasSuffix(f[4], "%") {
			continue
		}
		d, err := time.ParseDuration(f[3])
		if err != nil || r.ProfiledApplies == 0 {
			return ""
		}
		return fmt.Sprintf("; %s of CPU per apply", (d / time.Duration(r.ProfiledApplies)).Round(time.Microsecond))
	}
	return ""
}

// heapWhy explains an RSS over its goal from the heap profile taken after the idle window: how
// much of it the live heap is, and what holds the most of that.
func heapWhy(profile []string, rssMiB, fileMiB float64, memoryLimited bool) string {
	total, holders := "", []string{}
	for _, line := range profile {
		if _, after, ok := strings.Cut(line, " of "); ok && strings.HasPrefix(line, "Showing nodes") {
			total = strings.TrimSuffix(strings.Fields(after)[0], ",")
			continue
		}
		f := strings.Fields(line)
		if len(f) >= 6 && strings.HasSuffix(f[1], "%") && len(holders) < 4 {
			name := f[5]
			if len(f) > 6 && f[len(f)-1] != "(inline)" {
				name = f[len(f)-1]
			}
			holders = append(holders, fmt.Sprintf("%s (%s)", name, f[0]))
		}
	}
	if total == "" {
		return "no heap profile of the operator was taken for this level."
	}
	file := ""
	if fileMiB > 0 {
		file = fmt.Sprintf("; %s MiB of the RSS are file-backed pages, mostly of the operator's own executable, which the kernel can drop and read again (under a container's limit it reclaims them rather than kill the process)", Num(fileMiB))
	}
	rest := "the rest is mostly the collector's headroom (with Go's default GOGC=100 the heap grows to about twice what is live before a collection) and memory not yet returned to the system"
	if memoryLimited {
		rest = "the rest is what the collector could not keep below its soft memory limit, and the CPU it spent trying shows in the CPU row"
	}
	return fmt.Sprintf("the live heap after the idle window was %s of the %s MiB RSS%s; %s. What holds the most of the live heap, by the heap profile under figure 1: %s.",
		total, Num(rssMiB), file, rest, strings.Join(holders, ", "))
}

// rateNote says whether the run's client rate is KEDA's default, which the comparison assumes.
func rateNote(meta ReportMeta) string {
	if meta.QPS == "20" && meta.Burst == "30" {
		return "KEDA's defaults"
	}
	return "not KEDA's defaults of 20 and 30: take-over times are not comparable with runs at those"
}

// throttlingTarget is the "no client-side throttling in steady state": the lines logged
// during the idle windows. Runs that did not count them per window are judged on the whole run,
// take-overs included, where the rate limit is what paces the writes.
func throttlingTarget(ours *PhaseResult) Target {
	if ours == nil {
		return NewTargetCmp("client-side throttling log lines", "lines", math.NaN(), 0, "<=")
	}
	steady, counted := 0, false
	for _, l := range ours.Levels {
		if l.Idle != nil && l.Idle.Throttled != nil {
			steady += *l.Idle.Throttled
			counted = true
		}
	}
	if !counted {
		t := NewTargetCmp("client-side throttling log lines (whole run, take-overs included)", "lines", float64(ours.Throttled), 0, "<=")
		busiest := 0.0
		for _, l := range ours.Levels {
			if l.Idle != nil {
				busiest = max(busiest, l.Idle.OpReqPerMin)
			}
		}
		if t.Met != nil && !*t.Met {
			t.Why = fmt.Sprintf("this run counted the lines over all of it, take-overs included, where the client's rate limit paces the writes as it is meant to; in its idle windows (the steady state) the operator made at most %.3g requests a minute, which a limiter of 20 a second never delays. Later runs count the lines per idle window.", busiest)
		}
		return t
	}
	return NewTargetCmp("client-side throttling log lines in the idle windows (steady state)", "lines", float64(steady), 0, "<=")
}
