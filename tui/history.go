package tui

import (
	"context"
	"strconv"
	"time"

	"k8s.io/client-go/discovery"

	historyv1alpha1 "github.com/kedactl/kedactl/api/history/v1alpha1"
	"github.com/kedactl/kedactl/plugin/commands"
	"github.com/kedactl/kedactl/plugin/view"
	"github.com/kedactl/kedactl/tui/samples"
)

// OperatorHistory is the operator's history API (history.kedactl.dev) as a samples.Source: the
// chart of an object opens with what the operator saw before the TUI started. Against a cluster
// that serves no history (upstream KEDA) it gives nothing, and the chart holds only what the TUI
// records itself.
type OperatorHistory struct {
	Discovery discovery.DiscoveryInterface
	// Get reads an absolute API path.
	Get func(ctx context.Context, path string) ([]byte, error)
	// Owner names the operator replica that polls the object (and so keeps its history), or ""
	// when one replica polls them all; nil names none.
	Owner func(ctx context.Context, kind, namespace, name string) string
}

// History implements samples.Source.
func (o *OperatorHistory) History(ctx context.Context, kind, namespace, name string, since time.Time) (samples.History, error) {
	resource := historyv1alpha1.ResourceScaledObjects
	if kind == "ScaledJob" {
		resource = historyv1alpha1.ResourceScaledJobs
	}
	h, _, err := commands.ReadHistory(ctx, o.Discovery, o.Get, resource, namespace, name)
	if err != nil || h == nil {
		return samples.History{}, err
	}
	out := historySamples(h, since)
	if o.Owner != nil {
		if owner := o.Owner(ctx, kind, namespace, name); owner != "" {
			out.Replica = view.ShortOwner(owner)
		}
	}
	return out, nil
}

// historySamples turns the operator's history into the chart's samples and event markers, from
// since on.
func historySamples(h *historyv1alpha1.History, since time.Time) samples.History {
	var out samples.History
	for _, s := range h.Samples {
		if s.Time.Time.Before(since) {
			continue
		}
		sample := samples.Sample{At: s.Time.Time, HasReplicas: s.Replicas != nil}
		if s.Replicas != nil {
			sample.Current = *s.Replicas
			sample.Desired = *s.Replicas
		}
		if s.DesiredReplicas != nil {
			sample.Desired = *s.DesiredReplicas
		}
		for _, r := range s.Triggers {
			t := samples.Trigger{Metric: r.MetricName, Active: r.Active, HasValue: r.Value != nil}
			if r.Value != nil {
				t.Value = r.Value.AsApproximateFloat64()
			}
			if r.Target != nil {
				t.Target = r.Target.AsApproximateFloat64()
			}
			if a, err := strconv.ParseFloat(r.Activation, 64); err == nil {
				t.Activation = a
			}
			sample.Triggers = append(sample.Triggers, t)
		}
		out.Samples = append(out.Samples, sample)
	}
	for _, d := range h.Decisions {
		if d.Time.Time.Before(since) {
			continue
		}
		typ := "Normal"
		if d.Type == historyv1alpha1.DecisionScaleFailed || d.Type == historyv1alpha1.DecisionScalerError {
			typ = "Warning"
		}
		msg := d.Message
		if msg == "" && d.Trigger != "" {
			msg = "trigger " + d.Trigger
		}
		out.Events = append(out.Events, samples.Event{At: d.Time.Time, Type: typ, Reason: string(d.Type), Message: msg})
	}
	return out
}
