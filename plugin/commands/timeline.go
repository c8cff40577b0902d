package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/yaml"

	historyv1alpha1 "github.com/kedactl/kedactl/api/history/v1alpha1"
	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/plugin/kedaclient"
	"github.com/kedactl/kedactl/plugin/timeline"
)

// TimelineOptions is `kubectl keda timeline` (alias `history`).
type TimelineOptions struct {
	f       *factory
	streams genericiooptions.IOStreams

	Output    string
	Since     time.Duration
	Watch     bool
	Interval  time.Duration
	Kind      string
	Name      string
	Namespace string

	now func() time.Time
	loc *time.Location
}

func newTimelineCommand(f *factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &TimelineOptions{f: f, streams: streams, now: time.Now, loc: time.Local}
	cmd := &cobra.Command{
		Use:     "timeline NAME | sj/NAME",
		Aliases: []string{"history"},
		Short:   "Show what happened to a ScaledObject (or ScaledJob) and why, oldest first",
		Long: `timeline merges, in time order, the Kubernetes events of the object, its HPA, its scale
target and its Jobs with the recent history kedactl's operator keeps of it (history.kedactl.dev):
each trigger's value against its target and activation threshold, activation and deactivation
with the trigger that caused them, the HPA's rescales with the metric (and trigger) it names,
Jobs created, pauses and resumes, fallback, scaler errors and spec changes.

Against an operator that serves no history (upstream KEDA) it shows the events alone and says so.
Events live an hour by default (the apiserver's --event-ttl); the operator's history holds the
last samples and decisions since it started.`,
		Example:           "  kubectl keda timeline worker\n  kubectl keda history worker --since 10m -w\n  kubectl keda timeline sj/importer -o yaml",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: f.completeScaledObjects,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(contextOf(cmd))
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "text", "text, json or yaml")
	cmd.Flags().DurationVar(&o.Since, "since", 0, "only entries newer than this (e.g. 10m, 1h); 0 shows all")
	cmd.Flags().BoolVarP(&o.Watch, "watch", "w", false, "after the timeline, keep printing new entries as they happen")
	cmd.Flags().DurationVar(&o.Interval, "interval", 2*time.Second, "with -w, how often to look for new entries")
	return cmd
}

// Complete fills the name and namespace.
func (o *TimelineOptions) Complete(args []string) error {
	var err error
	o.Kind, o.Name, o.Namespace, err = o.f.object(args[0])
	return err
}

// Validate checks the flags.
func (o *TimelineOptions) Validate() error {
	if err := validateOutput(o.Output, "text", "json", "yaml"); err != nil {
		return err
	}
	if o.Since < 0 {
		return fmt.Errorf("--since %s is negative: give how far back to look, e.g. --since 30m", o.Since)
	}
	if o.Watch && o.Interval < 100*time.Millisecond {
		return fmt.Errorf("--interval %s is too short: use at least 100ms", o.Interval)
	}
	return nil
}

// timelineReport is the -o json|yaml document.
type timelineReport struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// HistoryServed is false when only Kubernetes events were read; Note says why.
	HistoryServed bool             `json:"historyServed"`
	Note          string           `json:"note,omitempty"`
	Entries       []timeline.Entry `json:"entries"`
}

// Run prints the timeline, then with -w follows it.
func (o *TimelineOptions) Run(ctx context.Context) error {
	c, err := o.f.client()
	if err != nil {
		return err
	}
	report, err := o.collect(ctx, c)
	if err != nil {
		return err
	}
	if report.Note != "" {
		fmt.Fprintln(o.streams.ErrOut, "note:", report.Note)
	}
	if !o.Watch {
		return writeTimeline(o.streams.Out, report, o.Output, o.loc)
	}
	return o.follow(ctx, c, report)
}

// follow prints the timeline, then every Interval the entries not printed yet: text rows under
// the first header, or one JSON document per line, or YAML documents.
func (o *TimelineOptions) follow(ctx context.Context, c *kedaclient.Client, report *timelineReport) error {
	seen := map[string]bool{}
	first := true
	ticker := time.NewTicker(o.Interval)
	defer ticker.Stop()
	for {
		var fresh []timeline.Entry
		for _, e := range report.Entries {
			if k := entryKey(e); !seen[k] {
				seen[k] = true
				fresh = append(fresh, e)
			}
		}
		if err := writeEntries(o.streams.Out, fresh, o.Output, o.loc, first); err != nil {
			return err
		}
		first = false
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
		next, err := o.collect(ctx, c)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		report = next
	}
}

func entryKey(e timeline.Entry) string {
	return fmt.Sprintf("%d|%s|%s|%s|%d", e.Time.UnixNano(), e.Kind, e.Source, e.Message, e.Count)
}

// collect reads the object, its events and its history, and merges them.
func (o *TimelineOptions) collect(ctx context.Context, c *kedaclient.Client) (*timelineReport, error) {
	in := timeline.Input{}
	if o.Since > 0 {
		in.Since = o.now().Add(-o.Since)
	}
	resource := historyv1alpha1.ResourceScaledObjects
	switch o.Kind {
	case KindScaledJob:
		sj, err := c.ScaledJob(ctx, o.Namespace, o.Name)
		if err != nil {
			return nil, err
		}
		jobs, _, err := c.JobsOf(ctx, sj)
		if err != nil {
			return nil, err
		}
		in = scaledJobInput(sj, jobs, in.Since)
		resource = historyv1alpha1.ResourceScaledJobs
	default:
		so, err := c.ScaledObject(ctx, o.Namespace, o.Name)
		if err != nil {
			return nil, err
		}
		in = scaledObjectInput(so, in.Since)
	}
	events, err := c.Kube.CoreV1().Events(o.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("failed to list the events of namespace %s: %w", o.Namespace, err)
	}
	in.Events = events.Items
	get := func(ctx context.Context, path string) ([]byte, error) {
		return c.Kube.CoreV1().RESTClient().Get().AbsPath(path).DoRaw(ctx)
	}
	h, note, err := ReadHistory(ctx, c.Kube.Discovery(), get, resource, o.Namespace, o.Name)
	if err != nil {
		return nil, err
	}
	in.History = h
	return &timelineReport{Kind: in.Object.Kind, Namespace: o.Namespace, Name: o.Name, HistoryServed: h != nil, Note: note, Entries: timeline.Build(in)}, nil
}

func scaledObjectInput(so *kedav1alpha1.ScaledObject, since time.Time) timeline.Input {
	in := timeline.Input{Object: timeline.Ref{Kind: "ScaledObject", Name: so.Name}, Since: since,
		ManagedFields: so.ManagedFields, Generation: so.Generation, Triggers: specTriggers(so.Spec.Triggers)}
	in.HPA = timeline.Ref{Kind: "HorizontalPodAutoscaler", Name: so.Status.HpaName}
	if in.HPA.Name == "" {
		in.HPA.Name = so.HPAName()
	}
	if ref := so.Spec.ScaleTargetRef; ref != nil {
		kind := ref.Kind
		if kind == "" {
			kind = "Deployment"
		}
		in.Target = timeline.Ref{Kind: kind, Name: ref.Name}
	}
	return in
}

func scaledJobInput(sj *kedav1alpha1.ScaledJob, jobs []batchv1.Job, since time.Time) timeline.Input {
	in := timeline.Input{Object: timeline.Ref{Kind: "ScaledJob", Name: sj.Name}, Since: since,
		ManagedFields: sj.ManagedFields, Generation: sj.Generation, Triggers: specTriggers(sj.Spec.Triggers)}
	for _, j := range jobs {
		in.Jobs = append(in.Jobs, j.GetName())
	}
	return in
}

func specTriggers(ts []kedav1alpha1.ScaleTriggers) []timeline.Trigger {
	out := make([]timeline.Trigger, len(ts))
	for i, t := range ts {
		out[i] = timeline.Trigger{Index: i, Name: t.Name, Type: t.Type}
	}
	return out
}

// ReadHistory reads the operator's history of one object (timeline and the TUI's chart). A cluster whose operator serves none
// (discovery does not list history.kedactl.dev, as with upstream KEDA) gives nil and a note, as
// does one whose operator keeps nothing for the object; only other failures are errors.
func ReadHistory(ctx context.Context, disc discovery.DiscoveryInterface, get func(context.Context, string) ([]byte, error), resource, ns, name string) (*historyv1alpha1.History, string, error) {
	gv := historyv1alpha1.GroupVersion.String()
	if _, err := disc.ServerResourcesForGroupVersion(gv); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Sprintf("this cluster serves no %s (the operator keeps no history, as with upstream KEDA): showing Kubernetes events only", gv), nil
		}
		return nil, fmt.Sprintf("the operator's history API (%s) did not answer (%v): showing Kubernetes events only", gv, err), nil
	}
	path := fmt.Sprintf("/apis/%s/namespaces/%s/%s/%s", gv, ns, resource, name)
	raw, err := get(ctx, path)
	if apierrors.IsNotFound(err) {
		return nil, fmt.Sprintf("the operator keeps no history of %s/%s yet (it has not reconciled it since it started): showing Kubernetes events only", resource, name), nil
	}
	if apierrors.IsForbidden(err) {
		return nil, fmt.Sprintf("not allowed to read %s %s (ask for get on %s.%s): showing Kubernetes events only", resource, name, resource, historyv1alpha1.GroupName), nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("failed to read the history of %s %s/%s: %w", resource, ns, name, err)
	}
	var doc struct {
		historyv1alpha1.History `json:",inline"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, "", fmt.Errorf("failed to decode the history of %s %s/%s: %w", resource, ns, name, err)
	}
	return &doc.History, "", nil
}

// writeTimeline writes a whole report: a table, or the document as json or yaml.
func writeTimeline(w io.Writer, r *timelineReport, format string, loc *time.Location) error {
	if format == "text" {
		if len(r.Entries) == 0 {
			_, err := fmt.Fprintf(w, "No entries for %s %s/%s.\n", r.Kind, r.Namespace, r.Name)
			return err
		}
		return timeline.Render(w, r.Entries, loc, true)
	}
	if r.Entries == nil {
		r.Entries = []timeline.Entry{}
	}
	return printData(w, format, r)
}

// writeEntries writes a batch of followed entries.
func writeEntries(w io.Writer, entries []timeline.Entry, format string, loc *time.Location, header bool) error {
	switch format {
	case "text":
		if len(entries) == 0 && !header {
			return nil
		}
		return timeline.Render(w, entries, loc, header)
	case "json":
		enc := json.NewEncoder(w)
		for _, e := range entries {
			if err := enc.Encode(e); err != nil {
				return err
			}
		}
		return nil
	case "yaml":
		for _, e := range entries {
			out, err := yaml.Marshal(e)
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintf(w, "---\n%s", out); err != nil {
				return err
			}
		}
		return nil
	}
	return errors.New("unknown output format " + format)
}
