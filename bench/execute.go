package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"syscall"
	"time"

	"github.com/kedactl/kedactl/test/cluster"
)

// StageRecord is when a stage of the run ran, for the report.
type StageRecord struct {
	Parts      []string
	Start, End time.Time
}

// operatorFactory makes a new process of the named operator (each cluster runs its own) and says
// its namespace tag.
type operatorFactory func(name string) (op Operator, tag string, err error)

// site is one cluster of the run and the operator process on it.
type site struct {
	c *cluster.Cluster
	h *Harness
	r *runner
	// frozen says the cluster's controller-manager and operator are stopped (freeze).
	frozen bool
}

// executor runs a plan's stages.
type executor struct {
	cfg        Config
	src        *Source
	out        io.Writer
	profileDir string
	newOp      operatorFactory
	phases     map[string]*phase
	sites      map[string]*site
	mu         sync.Mutex
}

// execute runs the stages one after another, the parts of each at once. A cluster starts when a
// part first uses it and stops, with its operator, when its last stage ends. The phases are filled
// as the parts measure; after each stage done is called (a report written so far).
func (e *executor) execute(ctx context.Context, stages []stage, done func([]StageRecord)) []StageRecord {
	last := lastUse(stages)
	var records []StageRecord
	defer func() {
		for name, s := range e.sites {
			e.stopSite(name, s)
		}
	}()
	for i, st := range stages {
		if ctx.Err() != nil {
			break
		}
		rec := StageRecord{Start: time.Now()}
		for _, p := range st.Parts {
			rec.Parts = append(rec.Parts, p.String())
		}
		frozen := e.freezeHeld(st)
		var wg sync.WaitGroup
		for _, p := range st.Parts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e.runPart(ctx, p, last[p.Cluster] > i)
			}()
		}
		wg.Wait()
		for _, s := range frozen {
			s.thaw()
		}
		rec.End = time.Now()
		records = append(records, rec)
		for name, s := range e.sites {
			if last[name] == i {
				e.stopSite(name, s)
				delete(e.sites, name)
			}
		}
		if done != nil {
			done(records)
		}
	}
	return records
}

// runPart starts the part's cluster and operator when no earlier part did, then runs its steps.
func (e *executor) runPart(ctx context.Context, p part, more bool) {
	ph := e.phase(p.Operator)
	s, err := e.site(ctx, p)
	if err != nil {
		fmt.Fprintf(e.out, "%s (%s) [%s] FAILED to start: %v\n", time.Now().Format("15:04:05"), p.Cluster, p.Operator, err)
		ph.fail(fmt.Sprintf("%s: %v", p.Cluster, firstLine(err.Error())))
		return
	}
	s.r.run(ctx, p.Steps, more)
}

func (e *executor) phase(name string) *phase {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.phases[name] == nil {
		display := name
		switch name {
		case "keda":
			display = kedaName
		case "kedactl":
			display = oursName
		}
		e.phases[name] = newPhase(display)
	}
	return e.phases[name]
}

func (e *executor) site(ctx context.Context, p part) (*site, error) {
	e.mu.Lock()
	s := e.sites[p.Cluster]
	e.mu.Unlock()
	if s != nil {
		return s, nil
	}
	// The Kubernetes default HPA sync period: figure 4 counts what the HPA's reads cost.
	c, err := cluster.Start(ctx, cluster.Options{Nodes: 4, HPASyncPeriod: 15 * time.Second, Out: e.out})
	if err != nil {
		return nil, err
	}
	h, err := newHarness(c, e.src, e.out)
	if err != nil {
		_ = c.Stop()
		return nil, err
	}
	h.Label, h.ProfileDir = p.Cluster, e.profileDir
	op, tag, err := e.newOp(p.Operator)
	if err != nil {
		_ = c.Stop()
		return nil, err
	}
	r, err := startRunner(ctx, h, e.cfg, op, tag, e.phase(p.Operator))
	if err != nil {
		_ = c.Stop()
		return nil, err
	}
	s = &site{c: c, h: h, r: r}
	e.mu.Lock()
	e.sites[p.Cluster] = s
	e.mu.Unlock()
	return s, nil
}

// freezeHeld freezes the clusters a stage holds (parts that only hold) and returns them.
func (e *executor) freezeHeld(st stage) []*site {
	var out []*site
	for _, p := range st.Parts {
		if len(p.Steps) != 1 || p.Steps[0].Kind != stepHold {
			continue
		}
		e.mu.Lock()
		s := e.sites[p.Cluster]
		e.mu.Unlock()
		if s != nil {
			s.freeze()
			s.h.Logf("[%s] frozen (controller-manager and operator stopped) while another part measures", s.r.op.Name())
			out = append(out, s)
		}
	}
	return out
}

// freeze stops (SIGSTOP) the cluster's controller-manager, whose HPA controller would otherwise
// read every object's metric every 15 s, and the operator's processes; the apiserver, etcd and
// kwok keep running, so that nothing times out. thaw lets them go on.
func (s *site) freeze() { s.signal(syscall.SIGSTOP) }

func (s *site) thaw() {
	if s.frozen {
		s.signal(syscall.SIGCONT)
		s.r.thawed = true
	}
}

func (s *site) signal(sig syscall.Signal) {
	s.frozen = sig == syscall.SIGSTOP
	if pid, ok := s.c.PID("kube-controller-manager"); ok {
		_ = syscall.Kill(pid, sig)
	}
	for _, p := range s.r.op.Procs() {
		if p != nil && p.Running() {
			_ = syscall.Kill(-p.PID(), sig) // its process group
		}
	}
}

func (e *executor) stopSite(name string, s *site) {
	s.thaw()
	s.r.stop()
	if err := s.c.Stop(); err != nil {
		fmt.Fprintf(e.out, "bench: stopping cluster %s: %v\n", name, err)
	}
}

// results is every phase measured so far, by operator.
func (e *executor) results() map[string]*PhaseResult {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]*PhaseResult{}
	for name, p := range e.phases {
		p.mu.Lock()
		p.res.DurationS = time.Since(p.res.StartedAt).Seconds()
		out[name] = p.res
		p.mu.Unlock()
	}
	return out
}
