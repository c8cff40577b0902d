// Command bench is `make bench`: it measures this operator and KEDA side by side on local
// clusters (a fresh, identical cluster per operator process, the same workloads and client rates;
// the stages of plan.go say what may run at once) and writes bench/REPORT.md with one SVG chart per
// figure.
//
//	go run ./bench                       # the scale (about 30 minutes warm)
//	go run ./bench -scale smoke          # 20/100 objects, few trials: a few minutes per operator
//	go run ./bench -operators kedactl    # one side only
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kedactl/kedactl/test/cluster"
)

// kedaVersion is the KEDA release hack/tools.sh keda builds (keep in step with hack/keda/go.mod).
const kedaVersion = "v2.21.0"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	scale := flag.String("scale", envOr("BENCH_SCALE", "full"), "smoke or full (env BENCH_SCALE)")
	operators := flag.String("operators", envOr("BENCH_OPERATORS", "keda,kedactl"), "which operators to measure, comma-separated, in this order (env BENCH_OPERATORS); the last one's largest level is not deleted at the end")
	out := flag.String("out", "", "directory for REPORT.md and the charts (default: bench/ of the repository)")
	trials := flag.Int("trials", 0, "activation trials per load (0: the scale's)")
	window := flag.Duration("window", 0, "idle measurement window (0: the scale's)")
	qps := flag.String("qps", "20", "client QPS of both operators (KEDA's default)")
	burst := flag.String("burst", "30", "client burst of both operators (KEDA's default)")
	reuse := flag.String("reuse", "", "results.json of an earlier run with the same scale: its phases of operators this run does not measure go into the report")
	figures := flag.String("figures", "", "measure only these figures, comma-separated (e.g. 5,6); the take-overs the levels need are measured anyway (default: all)")
	maxObjects := flag.Int("max-objects", 0, "leave out every level above this many ScaledObjects (0: the scale's own; env BENCH_MAX_OBJECTS)")
	rebuild := flag.String("rebuild", "", "results.json of an earlier run: write its REPORT.md and charts again with this code, measuring nothing")
	memLimit := flag.Int("memory-limit", 0, "run kedactl as in a container with this memory limit, in MiB (GOMEMLIMIT at the operator's default share of it); 0: no limit")
	note := flag.String("note", "", "with -rebuild: a note about the run to keep in its results.json and show in the report (e.g. other work on the machine meanwhile)")
	flag.Parse()

	var cfg Config
	switch *scale {
	case "smoke":
		cfg = Smoke
	case "full":
		cfg = Full
	default:
		return fmt.Errorf("-scale must be smoke or full, not %q", *scale)
	}
	if *trials > 0 {
		cfg.Trials = *trials
	}
	if *maxObjects == 0 {
		if v, err := strconv.Atoi(os.Getenv("BENCH_MAX_OBJECTS")); err == nil {
			*maxObjects = v
		}
	}
	if *maxObjects > 0 {
		cfg = cfg.Capped(*maxObjects)
	}
	if *window > 0 {
		cfg.Window = *window
	}
	if *figures != "" {
		var figs []int
		for _, f := range strings.Split(*figures, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 || n > 6 {
				return fmt.Errorf("-figures %q: list figure numbers 1 to 6, e.g. 5,6", *figures)
			}
			figs = append(figs, n)
		}
		cfg.Only = figs
	}
	cfg.Operators = strings.Split(*operators, ",")
	root, err := cluster.ModuleRoot()
	if err != nil {
		return err
	}
	if *out == "" {
		*out = filepath.Join(root, "bench")
	}
	if *rebuild != "" {
		return rebuildReport(*rebuild, *out, *note)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Minute)
	defer cancel()

	began := time.Now()
	// The commit measured is the one checked out when the operator is built, at the start: the
	// tree may move on during a long run.
	commit := gitCommit(root)
	loadBefore := loadavg()
	src, err := StartSource()
	if err != nil {
		return err
	}
	defer src.Close()
	buildDir, err := os.MkdirTemp("", "kedactl-bench-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(buildDir)
	build := newOursBuild(buildDir)
	maxLevel := slices.Max(cfg.IdleLevels)
	results := map[string]*PhaseResult{}
	var reused []string
	if *reuse != "" {
		earlier, err := loadResults(*reuse)
		if err != nil {
			return err
		}
		for name, res := range earlier {
			if !slices.Contains(cfg.Operators, name) {
				results[name] = res
				reused = append(reused, fmt.Sprintf("%s from %s", name, *reuse))
			}
		}
	}
	var ops []string
	maxLevels := map[string]int{}
	for _, name := range cfg.Operators {
		switch strings.TrimSpace(name) {
		case "kedactl", "ours":
			ops, maxLevels["kedactl"] = append(ops, "kedactl"), maxLevel
		case "keda":
			ops, maxLevels["keda"] = append(ops, "keda"), min(maxLevel, cfg.KEDAMaxLevel)
		default:
			return fmt.Errorf("unknown operator %q", name)
		}
	}
	newOp := func(name string) (Operator, string, error) {
		switch name {
		case "kedactl":
			return &Ours{Build: build, QPS: *qps, Burst: *burst, MemoryLimitMiB: *memLimit}, "k", nil
		case "keda":
			return &KEDA{QPS: *qps, Burst: *burst}, "e", nil
		}
		return nil, "", fmt.Errorf("unknown operator %q", name)
	}
	stages := schedule(cfg, ops, maxLevels)
	for _, line := range describeSchedule(stages) {
		fmt.Println(">> " + line)
	}
	ex := &executor{cfg: cfg, src: src, out: os.Stdout, profileDir: filepath.Join(*out, "profiles"), newOp: newOp,
		phases: map[string]*phase{}, sites: map[string]*site{}}
	var phaseErrs []string
	writeReport := func(records []StageRecord) error {
		maps.Copy(results, ex.results())
		meta := ReportMeta{
			Began: began, Took: time.Since(began), PhaseErrors: phaseErrs, Commit: commit,
			QPS: *qps, Burst: *burst, LoadBefore: loadBefore, LoadAfter: loadavg(), Reused: reused,
			MemoryLimitMiB: *memLimit, Stages: records,
		}
		rep := BuildReport(cfg, results["kedactl"], results["keda"], meta)
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return err
		}
		for name, data := range rep.Files() {
			if err := os.WriteFile(filepath.Join(*out, name), data, 0o644); err != nil {
				return err
			}
		}
		if err := os.WriteFile(filepath.Join(*out, "REPORT.md"), []byte(rep.Markdown()), 0o644); err != nil {
			return err
		}
		raw, _ := json.MarshalIndent(resultsFile{Config: cfg, Results: results, Errors: phaseErrs, Meta: &meta}, "", "  ")
		return os.WriteFile(filepath.Join(*out, "results.json"), raw, 0o644)
	}
	var writeErr error
	// A report after each stage: a later failure or interrupt still leaves what was measured.
	records := ex.execute(ctx, stages, func(records []StageRecord) {
		if err := writeReport(records); err != nil && writeErr == nil {
			writeErr = err
		}
	})
	if writeErr != nil {
		return writeErr
	}
	if err := writeReport(records); err != nil {
		return err
	}
	fmt.Printf("%s wrote %s\n", time.Now().Format("15:04:05"), filepath.Join(*out, "REPORT.md"))
	if len(ex.results()) == 0 {
		return fmt.Errorf("no operator was measured")
	}
	return nil
}

// resultsFile is results.json: what a run measured, with how (config) and when (meta).
type resultsFile struct {
	Config  Config                  `json:"config"`
	Results map[string]*PhaseResult `json:"results"`
	Errors  []string                `json:"errors"`
	Meta    *ReportMeta             `json:"meta,omitempty"`
}

// rebuildReport writes REPORT.md and the charts of an earlier run again, from its results.json,
// with this code's report: a change to the report needs no new measurement. A note is added to
// the run's meta (and results.json) first.
func rebuildReport(path, out, note string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("failed to read %s: %w", path, err)
	}
	var file resultsFile
	if err := json.Unmarshal(raw, &file); err != nil {
		return fmt.Errorf("failed to parse %s: %w", path, err)
	}
	if file.Meta == nil {
		return fmt.Errorf("%s has no meta (written before runs recorded it): it cannot be rebuilt", path)
	}
	if note != "" {
		file.Meta.Notes = append(file.Meta.Notes, note)
		updated, err := json.MarshalIndent(file, "", "  ")
		if err != nil {
			return fmt.Errorf("failed to encode %s with the note: %w", path, err)
		}
		if err := os.WriteFile(path, updated, 0o644); err != nil {
			return err
		}
	}
	rep := BuildReport(file.Config, file.Results["kedactl"], file.Results["keda"], *file.Meta)
	for name, data := range rep.Files() {
		if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(out, "REPORT.md"), []byte(rep.Markdown()), 0o644)
}

// loadResults reads the phases a run wrote into its results.json.
func loadResults(path string) (map[string]*PhaseResult, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read earlier results: %w", err)
	}
	var file struct {
		Results map[string]*PhaseResult `json:"results"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		return nil, fmt.Errorf("failed to parse earlier results %s: %w", path, err)
	}
	return file.Results, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
