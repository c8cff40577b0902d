package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"

	"github.com/kedactl/kedactl/test/cluster"
)

// Config is what one run measures; Smoke and Full are the two presets.
type Config struct {
	Scale          string
	IdleLevels     []int // ScaledObject counts of figure 1 (ours)
	KEDAMaxLevel   int   // KEDA is measured only up to this count
	TakeoverLevel  int   // figure 2
	ActLoads       []int // figure 3
	Trials         int
	Fig5Levels     []int
	Fig5Requests   int
	Fig4N          int
	Fig6N          int
	Window, Settle time.Duration
	Fig4Window     time.Duration
	Polling        int64
	Operators      []string
	// RestartAbove: an operator that can be restarted (ours) reaches the levels above this count
	// by a take-over at FastQPS, then a restart at the run's client rates; the idle window then
	// measures the steady state at those rates. A take-over of 10,000 at qps 20 alone takes 25
	// minutes, and figure 2 measures the take-over at TakeoverLevel anyway. 0: never.
	RestartAbove int `json:",omitempty"`
	// Only lists the figures a run measures (1 to 6), when it re-measures some alone; empty means
	// all. The take-over (figure 2) is measured at every level visited: the levels need objects.
	Only []int `json:",omitempty"`
}

// Smoke is a few-minute run: small counts, few trials.
var Smoke = Config{
	Scale: "smoke", IdleLevels: []int{0, 20, 100, 300}, KEDAMaxLevel: 100, TakeoverLevel: 100, ActLoads: []int{20, 100},
	Trials: 10, Fig5Levels: []int{100}, Fig5Requests: 100, Fig4N: 10, Fig6N: 20,
	Window: 45 * time.Second, Settle: 15 * time.Second, Fig4Window: 60 * time.Second, Polling: 30,
	RestartAbove: 100,
}

// Full is the scale.
var Full = Config{
	Scale: "full", IdleLevels: []int{0, 100, 1000, 10000}, KEDAMaxLevel: 1000, TakeoverLevel: 1000, ActLoads: []int{20, 1000},
	Trials: 30, Fig5Levels: []int{1000, 10000}, Fig5Requests: 300, Fig4N: 100, Fig6N: 100,
	Window: 40 * time.Second, Settle: 15 * time.Second, Fig4Window: 60 * time.Second, Polling: 30,
	RestartAbove: 1000,
}

// Capped leaves out every level above n ScaledObjects (a shorter run; the report lists the levels
// it visited).
func (c Config) Capped(n int) Config {
	keep := func(levels []int) []int {
		var out []int
		for _, l := range levels {
			if l <= n {
				out = append(out, l)
			}
		}
		if len(out) == 0 {
			out = []int{n}
		}
		return out
	}
	c.IdleLevels, c.ActLoads, c.Fig5Levels = keep(c.IdleLevels), keep(c.ActLoads), keep(c.Fig5Levels)
	c.TakeoverLevel = min(c.TakeoverLevel, n)
	c.KEDAMaxLevel = min(c.KEDAMaxLevel, n)
	c.Fig4N = min(c.Fig4N, n)
	return c
}

// reachesByRestart reports whether a level of n objects is reached by a fast take-over and a
// restart (for operators that can be restarted): never the take-over level figure 2 times.
func (c Config) reachesByRestart(n int) bool {
	return c.RestartAbove > 0 && n > c.RestartAbove && n != c.TakeoverLevel
}

// levels is every ScaledObject count the run visits for an operator, ascending.
// measures reports whether the run measures figure fig (Only lists them; empty means all).
func (c Config) measures(fig int) bool {
	return len(c.Only) == 0 || slices.Contains(c.Only, fig)
}

func (c Config) levels(maxLevel int) []int {
	var out []int
	var sets [][]int
	for fig, set := range map[int][]int{1: c.IdleLevels, 3: c.ActLoads, 5: c.Fig5Levels, 2: {c.TakeoverLevel}} {
		if c.measures(fig) {
			sets = append(sets, set)
		}
	}
	for _, set := range sets {
		for _, l := range set {
			if l <= maxLevel && !slices.Contains(out, l) {
				out = append(out, l)
			}
		}
	}
	slices.Sort(out)
	return out
}

// LevelResult is what one ScaledObject count gave.
type LevelResult struct {
	N int
	// Idle is figure 1's window; nil when not measured at this count.
	Idle *Window
	// IdleHeapProfile is the top of the operator's live heap after the idle window, for operators
	// that serve one.
	IdleHeapProfile []string `json:",omitempty"`
	// SettleSecs is how long after the take-over the operator's requests took to come down to
	// a steady state, before the idle window.
	SettleSecs float64 `json:",omitempty"`
	// Takeover (figure 2): from the first create to all HPAs, and the operator's writes per object.
	TakeoverSecs, CreateSecs, WritesPerObject, APIWritesPerObject float64
	// APIWritesPerObjectBy is what the take-over's writes per object are made of (all clients,
	// the harness's creates left out), by verb and resource.
	APIWritesPerObjectBy map[string]float64 `json:",omitempty"`
	// Restart is how the level was reached when it was by a restart (RestartAbove); then the
	// take-over fields above are the fast take-over's.
	Restart              *RestartResult `json:",omitempty"`
	Activation           []float64      // seconds, figure 3, polled source
	ActivationMissed     int
	PushActivation       []float64 // seconds, figure 3, push source
	PushActivationMissed int
	ExtMetrics           []float64 // seconds, figure 5
	ExtMetricsErrors     int
	// ExtMetricsProfile is the top of the operator's CPU profile while it answered them (go tool
	// pprof -top), for operators that serve one.
	ExtMetricsProfile []string `json:",omitempty"`
}

// RestartResult is a level reached by a take-over at fast client rates and a restart at the run's.
type RestartResult struct {
	FastQPS, FastBurst string
	// ReadySecs is from the restarted process's start to its readiness; SettleSecs from its start
	// to a steady state (the settle rule of the idle windows).
	ReadySecs, SettleSecs float64
	// Writes and Requests are the restarted operator's until it settled, per object.
	WritesPerObject, RequestsPerObject float64
	// APIWritesPerObjectBy and APIReadsPerObjectBy are what all clients wrote and read meanwhile,
	// per object, by verb and resource.
	APIWritesPerObjectBy map[string]float64 `json:",omitempty"`
	APIReadsPerObjectBy  map[string]float64 `json:",omitempty"`
}

// Fig4Result is the source queries per minute per trigger of each trigger group.
type Fig4Result struct {
	PerTrigger map[string]float64
}

// PhaseResult is everything measured for one operator.
type PhaseResult struct {
	Name      string
	Levels    []*LevelResult
	Fig4      *Fig4Result
	Fig6      *Fig6Result
	Throttled int
	Errors    []string
	StartedAt time.Time
	DurationS float64
}

func (p *PhaseResult) level(n int) *LevelResult {
	for _, l := range p.Levels {
		if l.N == n {
			return l
		}
	}
	return nil
}

// runner is one operator process on one cluster: the parts of the plan that use that cluster
// go on with it, and what they measure goes into the operator's phase.
type runner struct {
	h     *Harness
	cfg   Config
	op    Operator
	tag   string
	phase *phase
	// prevNS is the namespace of the last level visited, deleted before the next one.
	prevNS string
	// reached are the levels reached by stepReach, waiting for their stepMeasure.
	reached map[int]*level
	// thawed says the cluster was held frozen since it last settled: the HPA controller and the
	// operator catch up before the next measurement.
	thawed bool
}

// phase gathers one operator's results from every part of the run that measured it; parts of one
// operator may run at once.
type phase struct {
	mu  sync.Mutex
	res *PhaseResult
}

func newPhase(name string) *phase {
	return &phase{res: &PhaseResult{Name: name, StartedAt: time.Now()}}
}

func (p *phase) addLevel(lr *LevelResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.res.Levels = append(p.res.Levels, lr)
	slices.SortStableFunc(p.res.Levels, func(a, b *LevelResult) int { return a.N - b.N })
}

func (p *phase) fail(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.res.Errors = append(p.res.Errors, msg)
}

func (p *phase) update(f func(*PhaseResult)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p.res)
}

// level is a level being visited: its results and its objects.
type level struct {
	lr *LevelResult
	w  Workload
	// restart is set on a level taken over at fast client rates whose restart at the run's rates
	// (qps, burst) is still to come (stepReach of a level reached by a restart; stepMeasure
	// restarts it).
	restart    Restarter
	qps, burst string
}

// startRunner installs the operator's CRDs on h's cluster and starts the operator there.
func startRunner(ctx context.Context, h *Harness, cfg Config, op Operator, tag string, ph *phase) (*runner, error) {
	files, err := op.CRDFiles()
	if err == nil && len(files) == 0 {
		// KEDA's tool dir is known only after a first lookup.
		if k, ok := op.(*KEDA); ok {
			if _, err = k.dir(ctx, h); err == nil {
				files, err = op.CRDFiles()
			}
		}
	}
	if err != nil {
		return nil, err
	}
	h.Logf("[%s] installing %d CRDs", op.Name(), len(files))
	if err := h.InstallCRDs(ctx, files); err != nil {
		return nil, err
	}
	if err := h.EnsureNamespace(ctx, cluster.APIServiceNamespace); err != nil {
		return nil, err
	}
	h.Logf("[%s] starting", op.Name())
	if err := op.Start(ctx, h); err != nil {
		op.Stop()
		return nil, err
	}
	return &runner{h: h, cfg: cfg, op: op, tag: tag, phase: ph, reached: map[int]*level{}}, nil
}

// stop stops the operator, counting its throttling lines into the phase.
func (r *runner) stop() {
	r.op.Stop()
	throttled := throttledLines(r.op)
	r.phase.update(func(p *PhaseResult) { p.Throttled += throttled })
}

func (r *runner) fail(what string, err error) {
	msg := fmt.Sprintf("%s: %v", what, err)
	r.h.Logf("[%s] FAILED %s", r.op.Name(), msg)
	r.phase.fail(msg)
}

// deletePrev deletes the last level's namespace: the next level starts from nothing.
func (r *runner) deletePrev(ctx context.Context) {
	if r.prevNS == "" {
		return
	}
	r.h.Logf("[%s] deleting namespace %s", r.op.Name(), r.prevNS)
	if err := r.h.DeleteNamespace(ctx, r.prevNS); err != nil {
		r.fail("delete "+r.prevNS, err)
	}
	r.prevNS = ""
}

// run does the steps of a part. A level's objects stay until a later step needs a fresh namespace
// (a level reached for a later part's measurements, or held idle beside another part's, must);
// more says whether a later part uses this cluster at all.
func (r *runner) run(ctx context.Context, steps []step, more bool) {
	for i, s := range steps {
		if ctx.Err() != nil {
			return
		}
		switch s.Kind {
		case stepLevel:
			r.deletePrev(ctx)
			if lv := r.reach(ctx, s.N); lv != nil {
				if r.settleFor(ctx, lv) {
					r.measure(ctx, lv)
				}
			}
		case stepReach:
			r.deletePrev(ctx)
			if lv := r.reachFirstHalf(ctx, s.N); lv != nil && r.settleFor(ctx, lv) {
				r.reached[s.N] = lv
			}
		case stepMeasure:
			if lv, ok := r.reached[s.N]; ok {
				delete(r.reached, s.N)
				if lv.restart != nil {
					// The restart starts the operator afresh, thawed or not, and is timed until
					// it settles.
					r.thawed = false
					if err := restartAtRunRates(ctx, r.h, lv.restart, r.cfg, lv); err != nil {
						r.fail(fmt.Sprintf("restart at %d", s.N), err)
						continue
					}
					r.logRestart(lv.lr)
				}
				if r.thawed {
					r.thawed = false
					settled, err := settle(ctx, r.h, r.op, r.cfg.Settle, settleMax(s.N))
					if err != nil {
						r.fail(fmt.Sprintf("settling at %d after being held", s.N), err)
						continue
					}
					r.h.Logf("[%s] settled again at %d after %s, having been held frozen", r.op.Name(), s.N, settled.Round(time.Second))
				}
				r.measure(ctx, lv)
			}
		case stepQueries:
			r.deletePrev(ctx)
			f4, err := sourceQueries(ctx, r.h, r.op, r.tag, r.cfg)
			if err != nil {
				r.fail("source queries", err)
			} else {
				r.phase.update(func(p *PhaseResult) { p.Fig4 = f4 })
			}
		case stepWebhook:
			r.deletePrev(ctx)
			r.h.Logf("[%s] webhook: applying %d ScaledObjects without and with it", r.op.Name(), r.cfg.Fig6N)
			// Its namespaces stay when nothing follows on this cluster: it stops anyway.
			f6, err := webhookApply(ctx, r.h, r.op, r.tag, r.cfg, !more && i == len(steps)-1)
			if err != nil {
				r.fail("webhook apply", err)
			} else {
				r.phase.update(func(p *PhaseResult) { p.Fig6 = f6 })
				r.h.Logf("[%s] apply of %d: %.2fs without the webhook, %.2fs with it (duplicate refused: %v)", r.op.Name(), f6.N, f6.BaselineSecs, f6.WebhookSecs, f6.Rejected)
			}
		}
	}
}

// reach takes the operator to n objects in a fresh namespace (a take-over, or for an operator that
// can be restarted and a level above RestartAbove, a fast take-over and a restart); nil when it
// failed (the failure is recorded).
func (r *runner) reach(ctx context.Context, n int) *level {
	lv := r.reachFirstHalf(ctx, n)
	if lv == nil || lv.restart == nil {
		return lv
	}
	if err := restartAtRunRates(ctx, r.h, lv.restart, r.cfg, lv); err != nil {
		r.fail(fmt.Sprintf("reach %d by a restart", n), err)
		return nil
	}
	lv.restart = nil
	r.logRestart(lv.lr)
	return lv
}

func (r *runner) logRestart(lr *LevelResult) {
	r.h.Logf("[%s] %d restarted at the run's client rates: ready in %.1fs, settled in %.1fs, %.3f writes/object", r.op.Name(), lr.N, lr.Restart.ReadySecs, lr.Restart.SettleSecs, lr.Restart.WritesPerObject)
}

// reachFirstHalf is reach up to a level's restart: for a level reached by a restart, the
// take-over at fast client rates, leaving the restart to the caller (level.restart).
func (r *runner) reachFirstHalf(ctx context.Context, n int) *level {
	lr := &LevelResult{N: n}
	r.phase.addLevel(lr)
	w := Workload{NS: fmt.Sprintf("b-%s-%d", r.tag, n), Prefix: "so", Polling: r.cfg.Polling, Key: func(i int) string { return fmt.Sprintf("%s-%d-%d", r.tag, n, i) }}
	if re, ok := r.op.(Restarter); ok && r.cfg.reachesByRestart(n) {
		r.prevNS = w.NS
		throttled := throttledLines(r.op)
		r.phase.update(func(p *PhaseResult) { p.Throttled += throttled })
		qps, burst := re.ClientRates()
		if err := fastTakeover(ctx, r.h, re, r.cfg, w, n, lr); err != nil {
			r.fail(fmt.Sprintf("reach %d by a restart", n), err)
			return nil
		}
		r.h.Logf("[%s] %d taken over in %.1fs at qps %s", r.op.Name(), n, lr.TakeoverSecs, lr.Restart.FastQPS)
		return &level{lr: lr, w: w, restart: re, qps: qps, burst: burst}
	} else if n > 0 {
		r.prevNS = w.NS
		if err := takeover(ctx, r.h, r.op, w, n, lr); err != nil {
			r.fail(fmt.Sprintf("take over %d", n), err)
			return nil
		}
		r.h.Logf("[%s] %d taken over in %.1fs (created in %.1fs), %.2f operator writes/object", r.op.Name(), n, lr.TakeoverSecs, lr.CreateSecs, lr.WritesPerObject)
	}
	return &level{lr: lr, w: w}
}

// settleFor waits for a steady state after the take-over when a figure measured at this level
// needs one (the idle window; the external metrics requests); false when that failed.
func (r *runner) settleFor(ctx context.Context, lv *level) bool {
	n, cfg := lv.lr.N, r.cfg
	idle := cfg.measures(1) && slices.Contains(cfg.IdleLevels, n)
	ext := cfg.measures(5) && slices.Contains(cfg.Fig5Levels, n) && n > 0
	if lv.lr.Restart != nil || (!idle && !ext) {
		// A level reached by a restart has settled already: the restart was timed to it.
		return true
	}
	settled, err := settle(ctx, r.h, r.op, cfg.Settle, settleMax(n))
	if err != nil {
		r.fail(fmt.Sprintf("settling at %d", n), err)
		return false
	}
	lv.lr.SettleSecs = settled.Seconds()
	r.h.Logf("[%s] settled at %d after %s", r.op.Name(), n, settled.Round(time.Second))
	return true
}

// measure measures the figures of a reached, settled level: the idle window, the external metrics
// requests, the activation trials (last: they leave objects active).
func (r *runner) measure(ctx context.Context, lv *level) {
	lr, w, n, cfg, h, op := lv.lr, lv.w, lv.lr.N, r.cfg, r.h, r.op
	if cfg.measures(1) && slices.Contains(cfg.IdleLevels, n) {
		h.Logf("[%s] idle window at %d for %s", op.Name(), n, cfg.Window)
		win, err := h.Measure(ctx, op, cfg.Window)
		if err != nil {
			r.fail(fmt.Sprintf("idle window at %d", n), err)
		} else {
			lr.Idle = &win
			if p, ok := op.(Profiler); ok {
				lr.IdleHeapProfile = heapProfileTop(ctx, h, p, fmt.Sprintf("heap-%d", n))
			}
			h.Logf("[%s] idle %d: RSS %.1f MiB, CPU %.2f s/min, operator %.1f req/min (%.2f writes), apiserver %.1f req/min (%.2f writes)",
				op.Name(), n, win.RSSMiB, win.CPUPerMin, win.OpReqPerMin, win.OpWritesPerMin, win.APIReqPerMin, win.APIWritesPerMin)
		}
	}
	if cfg.measures(5) && slices.Contains(cfg.Fig5Levels, n) && n > 0 {
		if err := extMetrics(ctx, h, op, w, n, cfg.Fig5Requests, lr); err != nil {
			r.fail(fmt.Sprintf("external metrics at %d", n), err)
		} else {
			h.Logf("[%s] external metrics at %d: p50 %.1f ms p99 %.1f ms (%d errors)", op.Name(), n, 1000*Percentile(lr.ExtMetrics, 50), 1000*Percentile(lr.ExtMetrics, 99), lr.ExtMetricsErrors)
		}
	}
	if cfg.measures(3) && slices.Contains(cfg.ActLoads, n) && n > 0 {
		// The polled and the push trials run at once, on their own objects: a round of
		// either waits out a polling interval, and each would otherwise wait for the other.
		var polledErr, pushErr error
		objects, err := addTrialObjects(ctx, h, w, n, cfg)
		if err != nil {
			r.fail(fmt.Sprintf("activation at %d", n), err)
			return
		}
		push, err := preparePushActivation(ctx, h, w.NS, objects, cfg)
		if err != nil {
			pushErr = err
		}
		var wg sync.WaitGroup
		if err == nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				lat, missed, err := activationTrials(ctx, h, push, cfg.Trials, time.Duration(cfg.Polling)*time.Second)
				lr.PushActivation, lr.PushActivationMissed, pushErr = lat, missed, err
			}()
		}
		polledErr = activation(ctx, h, w, objects, cfg, lr)
		wg.Wait()
		if polledErr != nil {
			r.fail(fmt.Sprintf("activation at %d", n), polledErr)
		}
		if pushErr != nil {
			r.fail(fmt.Sprintf("push activation at %d", n), pushErr)
		}
		h.Logf("[%s] activation at %d: %d trials, p50 %.2fs p99 %.2fs, %d missed", op.Name(), n, len(lr.Activation), Percentile(lr.Activation, 50), Percentile(lr.Activation, 99), lr.ActivationMissed)
		h.Logf("[%s] push activation at %d: %d trials, p50 %.2fs p99 %.2fs, %d missed", op.Name(), n, len(lr.PushActivation), Percentile(lr.PushActivation, 50), Percentile(lr.PushActivation, 99), lr.PushActivationMissed)
	}
}

func throttledLines(op Operator) int {
	n := 0
	for _, p := range op.Procs() {
		n += countLines(p.Log, throttlingLine)
	}
	return n
}

// Restarter is an Operator the bench can restart at other client rates.
type Restarter interface {
	Operator
	// Restart stops the operator and starts it again with these client rates.
	Restart(ctx context.Context, h *Harness, qps, burst string) error
	// ClientRates are the client rates it runs at now.
	ClientRates() (qps, burst string)
}

// fastQPS is the client rate of restartLevel's take-over: high enough that the apiserver, not the
// operator's limiter, sets the pace.
const fastQPS, fastBurst = "2000", "4000"

// A level reached by a restart has n objects in w's namespace: the operator restarted at fast
// client rates takes them over (fastTakeover, timed into lr's take-over fields), then is restarted
// at the run's rates, as after an upgrade (restartAtRunRates, timed until the operator settles,
// with what it wrote). The two may run in different stages, the cluster held frozen between.

// fastTakeover is a level's take-over at fast client rates, until the operator settles.
func fastTakeover(ctx context.Context, h *Harness, op Restarter, cfg Config, w Workload, n int, lr *LevelResult) error {
	lr.Restart = &RestartResult{FastQPS: fastQPS, FastBurst: fastBurst}
	if err := op.Restart(ctx, h, fastQPS, fastBurst); err != nil {
		return fmt.Errorf("failed to restart at qps %s: %w", fastQPS, err)
	}
	if err := takeover(ctx, h, op, w, n, lr); err != nil {
		return err
	}
	// The operator's own backlog ends before the restart, so that what the restart costs is its
	// alone. Only the operator's: the cluster's Deployment controller takes about 25 minutes (its
	// client at qps 20) to give 10,000 new Deployments their ReplicaSets and statuses, which no
	// operator causes and the run cannot wait for; the report says so beside the level.
	_, err := settleOperator(ctx, h, op, cfg.Settle, settleMax(n))
	return err
}

// restartAtRunRates restarts the operator of a level fastTakeover reached at the client rates it
// ran at before (lv's), timed until it settles.
func restartAtRunRates(ctx context.Context, h *Harness, op Restarter, cfg Config, lv *level) error {
	qps, burst, n, lr := lv.qps, lv.burst, lv.lr.N, lv.lr
	before, err := h.Snapshot(ctx, op)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := op.Restart(ctx, h, qps, burst); err != nil {
		return fmt.Errorf("failed to restart at qps %s: %w", qps, err)
	}
	lr.Restart.ReadySecs = time.Since(start).Seconds()
	// The restarted process's client counters start at zero; the apiserver's carry on.
	if _, err := settleOperator(ctx, h, op, cfg.Settle, settleMax(n)); err != nil {
		return err
	}
	lr.Restart.SettleSecs = time.Since(start).Seconds()
	after, err := h.Snapshot(ctx, op)
	if err != nil {
		return err
	}
	lr.Restart.WritesPerObject = after.OpWrites / float64(n)
	lr.Restart.RequestsPerObject = after.OpReqs / float64(n)
	lr.Restart.APIWritesPerObjectBy = writesPerObjectBy(before.APIWritesBy, after.APIWritesBy, n, false)
	lr.Restart.APIReadsPerObjectBy = writesPerObjectBy(before.APIReadsBy, after.APIReadsBy, n, false)
	return nil
}

func takeover(ctx context.Context, h *Harness, op Operator, w Workload, n int, lr *LevelResult) error {
	before, err := h.Snapshot(ctx, op)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := h.Create(ctx, w, 0, n); err != nil {
		return err
	}
	lr.CreateSecs = time.Since(start).Seconds()
	done, err := h.WaitHPAs(ctx, w.NS, n, 2*time.Minute+time.Duration(n)*time.Second)
	if err != nil {
		return err
	}
	lr.TakeoverSecs = done.Sub(start).Seconds()
	// The writes that follow the HPAs (status updates) belong to the takeover: wait until the
	// operator's write count holds still for 5 s (at most a minute).
	last, stable := before, 0
	for i := 0; i < 60 && stable < 5; i++ {
		time.Sleep(time.Second)
		s, err := h.Snapshot(ctx, op)
		if err != nil {
			return err
		}
		if s.OpWrites == last.OpWrites {
			stable++
		} else {
			stable = 0
		}
		last = s
	}
	lr.WritesPerObject = (last.OpWrites - before.OpWrites) / float64(n)
	// The harness's own writes (2 per object) are left out of the apiserver's count.
	lr.APIWritesPerObject = (last.APIWrites-before.APIWrites)/float64(n) - 2
	lr.APIWritesPerObjectBy = writesPerObjectBy(before.APIWritesBy, last.APIWritesBy, n, true)
	return nil
}

// writesPerObjectBy is the writes (or other requests) per object by kind between two snapshots, less the harness's own
// creates (a Deployment and a ScaledObject per object) when harnessCreated; kinds under 0.01 a
// object are left out.
func writesPerObjectBy(before, after map[string]float64, n int, harnessCreated bool) map[string]float64 {
	out := map[string]float64{}
	for kind, v := range after {
		per := (v - before[kind]) / float64(n)
		if harnessCreated && (kind == "POST deployments" || kind == "POST scaledobjects") {
			per--
		}
		if per >= 0.01 {
			out[kind] = per
		}
	}
	return out
}

// extMetricName reads the external metric name of a ScaledObject from its HPA.
func extMetricName(ctx context.Context, h *Harness, ns, so string) (string, error) {
	l, err := h.Kube.AutoscalingV2().HorizontalPodAutoscalers(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", err
	}
	for _, hpa := range l.Items {
		if hpa.Spec.ScaleTargetRef.Name == so {
			for _, m := range hpa.Spec.Metrics {
				if m.External != nil {
					return m.External.Metric.Name, nil
				}
			}
		}
	}
	return "", fmt.Errorf("no HPA with an external metric for %s/%s", ns, so)
}

func extMetrics(ctx context.Context, h *Harness, op Operator, w Workload, n, requests int, lr *LevelResult) error {
	// All objects of a level have the same trigger shape: one metric name pattern per object.
	names := map[int]string{}
	picks := make([]int, 0, 20)
	for len(picks) < min(20, n) {
		i := rand.IntN(n)
		if _, ok := names[i]; ok {
			continue
		}
		name, err := extMetricName(ctx, h, w.NS, w.Name(i))
		if err != nil {
			return err
		}
		names[i] = name
		picks = append(picks, i)
	}
	get := func(i int) (time.Duration, error) {
		start := time.Now()
		_, err := h.Kube.CoreV1().RESTClient().Get().
			AbsPath("/apis/external.metrics.k8s.io/v1beta1/namespaces", w.NS, names[i]).
			Param("labelSelector", "scaledobject.keda.sh/name="+w.Name(i)).DoRaw(ctx)
		return time.Since(start), err
	}
	for k := range 10 { // warm-up: connections, discovery
		_, _ = get(picks[k%len(picks)])
	}
	if p, ok := op.(Profiler); ok {
		// A CPU profile of the operator over the requests: where its share of the latency goes.
		profiled := make(chan []string, 1)
		go func() { profiled <- cpuProfileTop(ctx, h, p, fmt.Sprintf("extmetrics-%d", n), profileWindow) }()
		defer func() { lr.ExtMetricsProfile = <-profiled }()
	}
	for k := range requests {
		d, err := get(picks[k%len(picks)])
		if err != nil {
			lr.ExtMetricsErrors++
			if lr.ExtMetricsErrors > requests/2 {
				return fmt.Errorf("external metrics GET failing: %w", err)
			}
			continue
		}
		lr.ExtMetrics = append(lr.ExtMetrics, d.Seconds())
	}
	return nil
}

// activationSource is what a figure 3 trial does to one object of a set: fire makes its trigger
// active (the event the latency is timed from, taken just before fire), reset makes it inactive.
type activationSource struct {
	ns      string
	objects int                // a round picks from objects 0..objects-1
	name    func(i int) string // object i's Deployment
	fire    func(ctx context.Context, i int) error
	reset   func(ctx context.Context, i int) error
}

// activationTrials fires trials objects of src at random moments spread over one polling interval
// and times each until its Deployment asks for >= 1 replica, in rounds of at most src.objects
// objects (each round resets the objects and, when another round follows, waits for the
// Deployments to return to 0; after the last the level's namespace goes anyway). It returns
// the latencies in seconds, the trials that did not activate in time, and the first failure to
// fire or reset (a trial that failed to fire counts as missed).
func activationTrials(ctx context.Context, h *Harness, src activationSource, trials int, poll time.Duration) (lat []float64, missed int, firstErr error) {
	var errMu sync.Mutex
	noteErr := func(err error) {
		errMu.Lock()
		defer errMu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
	}
	remaining := trials
	for remaining > 0 && ctx.Err() == nil {
		k := min(remaining, src.objects)
		remaining -= k
		idx := rand.Perm(src.objects)[:k]
		seen := map[string]time.Time{}
		var mu sync.Mutex
		wctx, cancel := context.WithCancel(ctx)
		wi, err := h.Kube.AppsV1().Deployments(src.ns).Watch(wctx, metav1.ListOptions{})
		if err != nil {
			cancel()
			return lat, missed, fmt.Errorf("failed to watch the Deployments of %s: %w", src.ns, err)
		}
		go func() {
			for ev := range wi.ResultChan() {
				if ev.Type != watch.Modified && ev.Type != watch.Added {
					continue
				}
				d, ok := ev.Object.(*appsv1.Deployment)
				if !ok {
					continue
				}
				if d.Spec.Replicas != nil && *d.Spec.Replicas >= 1 {
					mu.Lock()
					if _, ok := seen[d.GetName()]; !ok {
						seen[d.GetName()] = time.Now()
					}
					mu.Unlock()
				}
			}
		}()
		flipped := map[string]time.Time{}
		var fmu sync.Mutex
		var wg sync.WaitGroup
		for _, i := range idx {
			wg.Add(1)
			delay := time.Duration(rand.Int64N(int64(poll)))
			go func() {
				defer wg.Done()
				time.Sleep(delay)
				t0 := time.Now()
				if err := src.fire(ctx, i); err != nil {
					noteErr(err)
					fmu.Lock()
					missed++
					fmu.Unlock()
					return
				}
				fmu.Lock()
				flipped[src.name(i)] = t0
				fmu.Unlock()
			}()
		}
		wg.Wait()
		_ = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, poll+60*time.Second, true, func(context.Context) (bool, error) {
			mu.Lock()
			defer mu.Unlock()
			for name := range flipped {
				if _, ok := seen[name]; !ok {
					return false, nil
				}
			}
			return true, nil
		})
		cancel()
		mu.Lock()
		for name, t0 := range flipped {
			if t1, ok := seen[name]; ok {
				lat = append(lat, t1.Sub(t0).Seconds())
			} else {
				missed++
			}
		}
		mu.Unlock()
		for _, i := range idx {
			if err := src.reset(ctx, i); err != nil {
				noteErr(err)
			}
		}
		if remaining > 0 {
			// Back to 0 replicas before the next round or the next figure.
			err := wait.PollUntilContextTimeout(ctx, time.Second, 2*poll+60*time.Second, true, func(ctx context.Context) (bool, error) {
				for _, i := range idx {
					d, err := h.Kube.AppsV1().Deployments(src.ns).Get(ctx, src.name(i), metav1.GetOptions{})
					if err != nil || d.Spec.Replicas == nil || *d.Spec.Replicas != 0 {
						return false, nil
					}
				}
				return true, nil
			})
			if err != nil {
				h.Logf("activated Deployments did not all return to 0: %v", err)
			}
		}
	}
	return lat, missed, firstErr
}

// addTrialObjects adds objects of w's kind when fewer than cfg.Trials are loaded, up to one per
// trial, and waits until they are ready: every polled trial then fires in one round (a round waits
// out a polling interval and the return to 0). It returns how many objects the trials pick from.
func addTrialObjects(ctx context.Context, h *Harness, w Workload, n int, cfg Config) (int, error) {
	objects := max(n, cfg.Trials)
	if objects == n {
		return n, nil
	}
	if err := h.Create(ctx, w, n, objects); err != nil {
		return n, fmt.Errorf("failed to add %d objects for the trials: %w", objects-n, err)
	}
	if err := h.WaitReady(ctx, w, objects, 2*time.Minute+time.Duration(objects)*time.Second); err != nil {
		return n, fmt.Errorf("objects added for the trials: %w", err)
	}
	return objects, nil
}

// activation is figure 3's polled source: it flips the metrics-api source of trials of w's n
// objects from 0 to 1 (and back to 0 after the round).
// objects is how many of w's objects it picks from (addTrialObjects).
func activation(ctx context.Context, h *Harness, w Workload, objects int, cfg Config, lr *LevelResult) error {
	set := func(v int64) func(context.Context, int) error {
		return func(_ context.Context, i int) error { h.Src.Set(w.Key(i), v); return nil }
	}
	lat, missed, err := activationTrials(ctx, h, activationSource{ns: w.NS, objects: objects, name: w.Name, fire: set(1), reset: set(0)}, cfg.Trials, time.Duration(cfg.Polling)*time.Second)
	lr.Activation = append(lr.Activation, lat...)
	lr.ActivationMissed += missed
	return err
}

// pushLabel is the label whose value names the push ScaledObject a pod makes active.
const pushLabel = "bench.kedactl.io/push"

// preparePushActivation sets up figure 3's push source: beside the loaded objects it creates
// cfg.Trials kubernetes-workload ScaledObjects in ns (pollingInterval cfg.Polling, each counting
// the pods labelled for it alone) and waits until they are Ready; a trial creates one matching pod
// (the event) and deletes it after the round (grace period 0). loaded is how many ScaledObjects ns
// already holds.
func preparePushActivation(ctx context.Context, h *Harness, ns string, loaded int, cfg Config) (activationSource, error) {
	w := Workload{NS: ns, Prefix: "push", Polling: cfg.Polling, PodLabel: pushLabel}
	k := cfg.Trials
	if err := h.Create(ctx, w, 0, k); err != nil {
		return activationSource{}, fmt.Errorf("failed to create %d kubernetes-workload ScaledObjects in %s: %w", k, ns, err)
	}
	if _, err := h.WaitHPAs(ctx, ns, loaded+k, 2*time.Minute+time.Duration(k)*time.Second); err != nil {
		return activationSource{}, fmt.Errorf("kubernetes-workload ScaledObjects not taken over: %w", err)
	}
	if err := h.WaitReady(ctx, w, k, 2*time.Minute); err != nil {
		return activationSource{}, err
	}
	pods := h.Kube.CoreV1().Pods(ns)
	return activationSource{ns: ns, objects: k, name: w.Name,
		fire: func(ctx context.Context, i int) error {
			if _, err := pods.Create(ctx, w.eventPod(i), metav1.CreateOptions{}); err != nil {
				return fmt.Errorf("failed to create pod %s/%s: %w", ns, w.eventPod(i).Name, err)
			}
			return nil
		},
		reset: func(ctx context.Context, i int) error {
			name := w.eventPod(i).Name
			if err := pods.Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("failed to delete pod %s/%s: %w", ns, name, err)
			}
			return nil
		},
	}, nil
}

// sourceQueries is figure 4: four trigger groups at once (1 and N identical triggers, with
// useCachedMetrics false and true), targets held at >= 1 replica so that the HPA reads them; the
// source counts the queries over a window.
func sourceQueries(ctx context.Context, h *Harness, op Operator, tag string, cfg Config) (*Fig4Result, error) {
	ns := "b-" + tag + "-q"
	groups := []struct {
		name   string
		n      int
		cached bool
	}{{"1 trigger, useCachedMetrics false", 1, false}, {"1 trigger, useCachedMetrics true", 1, true},
		{fmt.Sprintf("%d identical triggers, useCachedMetrics false", cfg.Fig4N), cfg.Fig4N, false},
		{fmt.Sprintf("%d identical triggers, useCachedMetrics true", cfg.Fig4N), cfg.Fig4N, true}}
	total := 0
	var keys []string
	for gi, g := range groups {
		key := fmt.Sprintf("%s-q%d", tag, gi)
		keys = append(keys, key)
		h.Src.Set(key, 1)
		w := Workload{NS: ns, Prefix: fmt.Sprintf("g%d", gi), Replicas: 1, MinReplicas: 1, Polling: cfg.Polling, Cached: g.cached, Key: func(int) string { return key }}
		if err := h.Create(ctx, w, 0, g.n); err != nil {
			return nil, err
		}
		total += g.n
	}
	defer func() {
		if err := h.DeleteNamespace(ctx, ns); err != nil {
			h.Logf("delete %s: %v", ns, err)
		}
	}()
	if _, err := h.WaitHPAs(ctx, ns, total, 2*time.Minute+time.Duration(total)*time.Second); err != nil {
		return nil, err
	}
	// Let the HPA controller pick every HPA up and read it a few times.
	warm := fig4WarmUp
	h.Logf("[%s] source queries: %d triggers, warm-up %s, window %s", op.Name(), total, warm, cfg.Fig4Window)
	time.Sleep(warm)
	before := make([]int64, len(keys))
	for i, k := range keys {
		before[i] = h.Src.Count(k)
	}
	start := time.Now()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(cfg.Fig4Window):
	}
	mins := time.Since(start).Minutes()
	res := &Fig4Result{PerTrigger: map[string]float64{}}
	for i, g := range groups {
		per := float64(h.Src.Count(keys[i])-before[i]) / mins / float64(g.n)
		res.PerTrigger[g.name] = per
		h.Logf("[%s] %s: %.2f queries/min per trigger", op.Name(), g.name, per)
	}
	return res, nil
}

// fig4WarmUp lets the HPA controller pick every HPA of figure 4 up and read it before counting.
const fig4WarmUp = 20 * time.Second

// Fig4Groups lists figure 4's group names in order for n identical triggers.
func Fig4Groups(n int) []string {
	return []string{"1 trigger, useCachedMetrics false", "1 trigger, useCachedMetrics true",
		fmt.Sprintf("%d identical triggers, useCachedMetrics false", n), fmt.Sprintf("%d identical triggers, useCachedMetrics true", n)}
}

// profileWindow is how long figure 5's CPU profile of the operator lasts.
const profileWindow = 10 * time.Second

// cpuProfileTop takes a CPU profile of the operator for d and returns the top of `go tool pprof
// -top`: the functions its CPU time went to.
func cpuProfileTop(ctx context.Context, h *Harness, p Profiler, name string, d time.Duration) []string {
	return pprofTop(ctx, h, p, name, fmt.Sprintf("profile?seconds=%d", int(d.Seconds())))
}

// heapProfileTop returns the top of the operator's live heap (`go tool pprof -top
// -sample_index=inuse_space`): what its memory is held by.
func heapProfileTop(ctx context.Context, h *Harness, p Profiler, name string) []string {
	return pprofTop(ctx, h, p, name, "heap?gc=1", "-sample_index=inuse_space")
}

// pprofTop fetches the profile at the operator's /debug/pprof/<what>, keeps it in the run's
// directory (and in h.ProfileDir) and returns its `go tool pprof -top`. Failures are returned as a one-line
// explanation, since a profile only explains a figure.
func pprofTop(ctx context.Context, h *Harness, p Profiler, name, what string, args ...string) []string {
	base, bin := p.PprofURL()
	file := filepath.Join(h.Dir, name+".pprof")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/"+what, nil)
	if err != nil {
		return []string{"no profile: " + err.Error()}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return []string{"no profile: " + err.Error()}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return []string{fmt.Sprintf("no profile: HTTP %d %v", resp.StatusCode, err)}
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return []string{"no profile: " + err.Error()}
	}
	if h.ProfileDir != "" {
		if err := os.MkdirAll(h.ProfileDir, 0o755); err == nil {
			// Kept for a closer look; the report shows the top either way.
			_ = os.WriteFile(filepath.Join(h.ProfileDir, name+".pprof"), data, 0o644)
		}
	}
	cmd := append([]string{"tool", "pprof", "-top", "-nodecount=15"}, args...)
	out, err := exec.CommandContext(ctx, "go", append(cmd, bin, file)...).Output()
	if err != nil {
		return []string{"no profile: go tool pprof: " + err.Error()}
	}
	return profileTop(string(out))
}

// profileTop keeps the header line of `go tool pprof -top` with the total and the table rows.
func profileTop(out string) []string {
	var keep []string
	for _, line := range strings.Split(out, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "Showing nodes") || strings.HasPrefix(t, "Duration:") || strings.HasPrefix(t, "flat ") {
			keep = append(keep, t)
			continue
		}
		if len(keep) > 0 && t != "" && strings.Contains(t, "%") {
			keep = append(keep, t)
		}
	}
	return keep
}

// settleRate is the operator's request rate under which it counts as settled: a steady state makes
// a few requests a minute whatever its size, a take-over's backlog hundreds.
const settleRate = 30.0 // requests a minute

// settleAPIWriteRate is the same for all clients' writes: after a take-over the HPA controller,
// the Deployment controller and kwok write for a while (first HPA statuses, Deployment statuses),
// which the idle window's apiserver figures must not count; at rest they write about 30 a minute.
const settleAPIWriteRate = 100.0 // writes a minute

// settleMax bounds the wait for a steady state at n objects: the backlog of a take-over of n at the
// client rate, with room.
func settleMax(n int) time.Duration { return 2*time.Minute + time.Duration(n)*150*time.Millisecond }

// settle waits at least least, then until the operator's requests over 10 s come under
// settleRate and all clients' writes under settleAPIWriteRate, at most most; it returns how long it waited. Not settling in time is not an error:
// the window then measures what the operator still does, and the report shows how long it waited.
func settle(ctx context.Context, h *Harness, op Operator, least, most time.Duration) (time.Duration, error) {
	return settleBy(ctx, h, op, least, most, settledRate)
}

// settleOperator is settle on the operator's own requests alone.
func settleOperator(ctx context.Context, h *Harness, op Operator, least, most time.Duration) (time.Duration, error) {
	return settleBy(ctx, h, op, least, most, operatorSettled)
}

func settleBy(ctx context.Context, h *Harness, op Operator, least, most time.Duration, settled func(a, b Counters) bool) (time.Duration, error) {
	start := time.Now()
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(least):
	}
	const step = 10 * time.Second
	prev, err := h.Snapshot(ctx, op)
	if err != nil {
		return 0, err
	}
	for time.Since(start) < most {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(step):
		}
		cur, err := h.Snapshot(ctx, op)
		if err != nil {
			return 0, err
		}
		if settled(prev, cur) {
			break
		}
		prev = cur
	}
	return time.Since(start), nil
}

// settledRate reports whether the operator's requests between two snapshots came under settleRate
// and all clients' writes under settleAPIWriteRate.
func settledRate(a, b Counters) bool {
	minutes := b.At.Sub(a.At).Minutes()
	return operatorSettled(a, b) && (b.APIWrites-a.APIWrites)/minutes < settleAPIWriteRate
}

// operatorSettled reports whether the operator's requests between two snapshots came under
// settleRate.
func operatorSettled(a, b Counters) bool {
	minutes := b.At.Sub(a.At).Minutes()
	return minutes > 0 && (b.OpReqs-a.OpReqs)/minutes < settleRate
}
