package steps

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Kubectl runs the plugin as a user does: `kubectl keda ...` when kubectl is on PATH (kubectl finds
// kubectl-keda there), the kubectl-keda binary itself otherwise.
type Kubectl struct {
	// Command is the invocation before the plugin's arguments.
	Command []string
	// Env is the commands' whole environment (KUBECONFIG, PATH).
	Env []string
	// Out receives each command line and its output.
	Out io.Writer
}

// NewKubectl returns the invocation for a plugin binary in binDir: kubectl's lookPath finds
// kubectl (nil when it is not installed), and env is the caller's environment, to which binDir
// is prepended on PATH and KUBECONFIG set.
func NewKubectl(binDir, kubeconfig string, env []string, lookPath func(string) (string, error), out io.Writer) *Kubectl {
	cmd := []string{filepath.Join(binDir, "kubectl-keda")}
	if lookPath != nil {
		if _, err := lookPath("kubectl"); err == nil {
			cmd = []string{"kubectl", "keda"}
		}
	}
	path := binDir
	var rest []string
	for _, kv := range env {
		switch {
		case strings.HasPrefix(kv, "PATH="):
			path = binDir + ":" + strings.TrimPrefix(kv, "PATH=")
		case strings.HasPrefix(kv, "KUBECONFIG="):
		default:
			rest = append(rest, kv)
		}
	}
	return &Kubectl{Command: cmd, Env: append(rest, "PATH="+path, "KUBECONFIG="+kubeconfig), Out: out}
}

// Shown is how a command reads in the demo's output.
func (k *Kubectl) Shown(args ...string) string {
	name := filepath.Base(k.Command[0])
	return strings.Join(append(append([]string{name}, k.Command[1:]...), args...), " ")
}

// Run runs one plugin command, printing the command line and its output indented.
func (k *Kubectl) Run(ctx context.Context, args ...string) error {
	out, err := k.output(ctx, args...)
	fmt.Fprintf(k.Out, "\n  $ %s\n", k.Shown(args...))
	for line := range strings.Lines(strings.TrimRight(out, "\n")) {
		fmt.Fprintf(k.Out, "    %s", line)
	}
	fmt.Fprintln(k.Out)
	if err != nil {
		return fmt.Errorf("%s failed: %w", k.Shown(args...), err)
	}
	return nil
}

func (k *Kubectl) output(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, k.Command[0], append(k.Command[1:], args...)...)
	cmd.Env = k.Env
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	return buf.String(), err
}

// TourOptions is what the plugin tour runs against: a ScaledObject at rest (its list empty, its
// target at zero) after the scenario.
type TourOptions struct {
	Kubectl   *Kubectl
	Progress  *Progress
	Namespace string
	Name      string
	// Target is the scale target's name, for the progress lines.
	Target   string
	Queue    Queue
	Replicas func(ctx context.Context) (int32, error)
	// Hold is the replica count pause holds the target at while Backlog items wait; resume then
	// lets the HPA take it to MaxReplicas.
	Hold        int32
	Backlog     int
	MaxReplicas int32
	// HoldFor is how long the demo shows the paused target not following the backlog.
	HoldFor time.Duration
}

// Tour shows the plugin on the demo's objects: top ("is it working?"), timeline ("what scaled it,
// and why?"), pause holding the target while work waits and resume
// releasing it, then describe with the events of all of it.
func Tour(ctx context.Context, o TourOptions) error {
	k, p, ns := o.Kubectl, o.Progress, []string{"-n", o.Namespace}
	p.Step("the plugin, as a user runs it: %s ...", k.Shown())
	if err := k.Run(ctx, append([]string{"top", o.Name}, ns...)...); err != nil {
		return err
	}
	if err := k.Run(ctx, append([]string{"timeline", o.Name}, ns...)...); err != nil {
		return err
	}

	if err := k.Run(ctx, append([]string{"pause", o.Name, "--replicas", fmt.Sprint(o.Hold)}, ns...)...); err != nil {
		return err
	}
	if err := waitReplicas(ctx, o.Replicas, o.Hold, time.Minute); err != nil {
		return fmt.Errorf("after pause --replicas %d: %w", o.Hold, err)
	}
	if err := o.Queue.Push(ctx, o.Backlog); err != nil {
		return fmt.Errorf("failed to push the backlog while paused: %w", err)
	}
	if err := holdReplicas(ctx, o.Replicas, o.Hold, o.HoldFor); err != nil {
		return fmt.Errorf("while paused at %d replicas: %w", o.Hold, err)
	}
	p.Step("paused: %s held at %d replicas for %s with %d items waiting", o.Target, o.Hold, o.HoldFor, o.Backlog)
	if err := k.Run(ctx, append([]string{"resume", o.Name}, ns...)...); err != nil {
		return err
	}
	resumed := time.Now()
	if err := waitReplicas(ctx, o.Replicas, o.MaxReplicas, 2*time.Minute); err != nil {
		return fmt.Errorf("after resume: %w", err)
	}
	p.Step("resumed: %s went %d -> %d in %s", o.Target, o.Hold, o.MaxReplicas, time.Since(resumed).Round(time.Second))
	if err := k.Run(ctx, append([]string{"describe", o.Name}, ns...)...); err != nil {
		return err
	}
	if err := o.Queue.Drain(ctx); err != nil {
		return fmt.Errorf("failed to drain the list after the tour: %w", err)
	}
	return nil
}

// waitReplicas polls until the target has want replicas.
func waitReplicas(ctx context.Context, replicas func(context.Context) (int32, error), want int32, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	got, err := int32(-1), error(nil)
	for {
		if got, err = replicas(ctx); err == nil && got == want {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the target has %d replicas after %s, not %d (last error: %v)", got, timeout, want, err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// holdReplicas checks, every half second for d, that the target keeps want replicas.
func holdReplicas(ctx context.Context, replicas func(context.Context) (int32, error), want int32, d time.Duration) error {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		got, err := replicas(ctx)
		if err != nil {
			return fmt.Errorf("failed to read the target's replicas: %w", err)
		}
		if got != want {
			return fmt.Errorf("the target moved to %d replicas", got)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return nil
}
