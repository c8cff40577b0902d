package commands

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	eventingv1alpha1 "github.com/kedactl/kedactl/api/eventing/v1alpha1"
	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/plugin/diagnose"
	"github.com/kedactl/kedactl/plugin/kedaclient"
	"github.com/kedactl/kedactl/plugin/view"
)

// DescribeOptions is `kubectl keda describe` (alias `why`).
type DescribeOptions struct {
	f       *factory
	streams genericiooptions.IOStreams

	Output    string
	Events    int
	Kind      string
	Name      string
	Namespace string
	now       func() time.Time
}

func newDescribeCommand(f *factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &DescribeOptions{f: f, streams: streams, now: time.Now}
	cmd := &cobra.Command{
		Use:     "describe NAME | sj/NAME",
		Aliases: []string{"why"},
		Short:   "Explain why a ScaledObject (or ScaledJob) is or is not scaling, most important first",
		Long: `describe reads the ScaledObject, its HPA, its target, the external metrics API and the
events, and says what stops or limits scaling: not ready, paused, metrics API unavailable,
failing triggers, fallback, HPA conditions, ownership conflicts, activation and cooldown.
For a ScaledJob (sj/NAME): readiness, pause, failing triggers, and the operator's arithmetic
redone from live data: each trigger's value and target per Job (served by kedactl's operator on
the external metrics API), the combined queue, the running and pending Jobs, and how many new Jobs
the scaling strategy creates now, or why none; then the recent Jobs.`,
		Example:           "  kubectl keda describe worker\n  kubectl keda why worker -o yaml\n  kubectl keda describe sj/importer",
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
	cmd.Flags().IntVar(&o.Events, "events", 10, "how many recent events of each object to show")
	return cmd
}

// Complete fills the name and namespace.
func (o *DescribeOptions) Complete(args []string) error {
	var err error
	o.Kind, o.Name, o.Namespace, err = o.f.object(args[0])
	return err
}

// Validate checks the flags.
func (o *DescribeOptions) Validate() error {
	if o.Events < 0 {
		return fmt.Errorf("--events must not be negative")
	}
	return validateOutput(o.Output, "text", "json", "yaml")
}

// Description is describe's data output.
type Description struct {
	// Kind is ScaledObject or ScaledJob.
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Owner is the operator replica that polls the object when the replicas split them, or says
	// that the replica which held it is unreachable (its membership Lease expired).
	Owner    string             `json:"owner,omitempty"`
	Findings []diagnose.Finding `json:"findings"`
	// Values are each external metric's value as the external metrics API serves it to the HPA
	// (the total, before the HPA divides an AverageValue metric by the replicas).
	Values map[string]string `json:"values,omitempty"`
	// ScaledJob is a ScaledJob's queue, Jobs and decision.
	ScaledJob *view.ScaledJobState `json:"scaledJob,omitempty"`
	// CloudEvents are the sources that deliver this object's lifecycle events, with their state.
	CloudEvents []CloudEventDelivery `json:"cloudEvents,omitempty"`
	Events      []EventLine          `json:"events"`
}

// CloudEventDelivery is one (Cluster)CloudEventSource that delivers an object's events.
type CloudEventDelivery struct {
	Source  string `json:"source"` // CloudEventSource/NAME or ClusterCloudEventSource/NAME
	Active  string `json:"active"` // True, False or Unknown
	Message string `json:"message,omitempty"`
}

// cloudEventDeliveries picks the sources whose subscription keeps some event type of kind
// (ScaledObject or ScaledJob): a namespace's CloudEventSources and every ClusterCloudEventSource.
func cloudEventDeliveries(kind string, ns []eventingv1alpha1.CloudEventSource, cluster []eventingv1alpha1.ClusterCloudEventSource) []CloudEventDelivery {
	prefix := "keda." + strings.ToLower(kind) + "."
	var out []CloudEventDelivery
	add := func(source string, spec *eventingv1alpha1.CloudEventSourceSpec, st *eventingv1alpha1.CloudEventSourceStatus) {
		for _, t := range eventingv1alpha1.EventTypes {
			if strings.HasPrefix(string(t), prefix) && spec.EventSubscription.Wants(t) {
				d := CloudEventDelivery{Source: source, Active: "Unknown"}
				if c := st.Conditions.Get(kedav1alpha1.ConditionActive); c != nil {
					d.Active, d.Message = string(c.Status), c.Message
				}
				out = append(out, d)
				return
			}
		}
	}
	for i := range ns {
		add("CloudEventSource/"+ns[i].Name, &ns[i].Spec, &ns[i].Status)
	}
	for i := range cluster {
		add("ClusterCloudEventSource/"+cluster[i].Name, &cluster[i].Spec, &cluster[i].Status)
	}
	return out
}

// EventLine is one event of the ScaledObject, its HPA or its target.
type EventLine struct {
	Object  string    `json:"object"`
	Type    string    `json:"type"`
	Reason  string    `json:"reason"`
	Message string    `json:"message"`
	Count   int32     `json:"count"`
	Last    time.Time `json:"last"`
}

// Run gathers, diagnoses and prints.
func (o *DescribeOptions) Run(ctx context.Context) error {
	c, err := o.f.client()
	if err != nil {
		return err
	}
	var d *Description
	if o.Kind == KindScaledJob {
		d, err = DescribeScaledJob(ctx, c, o.Namespace, o.Name, o.Events)
	} else {
		d, err = Describe(ctx, c, o.Namespace, o.Name, o.Events, o.now())
	}
	if err != nil {
		return err
	}
	if o.Output != "text" {
		return printData(o.streams.Out, o.Output, d)
	}
	return PrintDescription(o.streams.Out, d, o.now())
}

// Describe gathers what the cluster shows about one ScaledObject and diagnoses it. The TUI calls
// it too.
func Describe(ctx context.Context, c *kedaclient.Client, namespace, name string, events int, now time.Time) (*Description, error) {
	so, err := c.ScaledObject(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	in := diagnose.Inputs{Now: now, ScaledObject: so, Values: map[string]string{}, ValueErrors: map[string]string{}}
	if in.HPA, err = c.HPA(ctx, so); err != nil {
		return nil, err
	}
	in.Scale, in.ScaleErr = c.Scale(ctx, so)
	if in.MetricsAPIAvailable, in.MetricsAPIMessage, err = c.MetricsAPIAvailable(ctx); err != nil {
		return nil, err
	}
	if in.MetricsAPIAvailable {
		for _, m := range so.Status.ExternalMetricNames {
			v, err := c.ExternalMetric(ctx, namespace, name, m)
			if err != nil {
				in.ValueErrors[m] = err.Error()
				continue
			}
			in.Values[m] = v.Value
		}
	}
	if in.OtherScaledObjects, err = c.ScaledObjects(ctx, namespace); err != nil {
		return nil, err
	}
	hpas, err := c.Kube.AutoscalingV2().HorizontalPodAutoscalers(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("failed to list HPAs: %w", err)
	}
	in.HPAs = hpas.Items

	objects := [][2]string{{KindScaledObject, name}}
	if in.HPA != nil {
		objects = append(objects, [2]string{"HorizontalPodAutoscaler", in.HPA.Name})
	}
	if ref := so.Spec.ScaleTargetRef; ref != nil {
		kind := ref.Kind
		if kind == "" {
			kind = "Deployment"
		}
		objects = append(objects, [2]string{kind, ref.Name})
	}
	recent, err := recentEvents(ctx, c, namespace, objects, events)
	if err != nil {
		return nil, err
	}
	in.TriggerErrors = triggerErrors(recent, KindScaledObject+"/"+name)
	d := &Description{Kind: KindScaledObject, Namespace: namespace, Name: name, Findings: diagnose.Diagnose(in), Values: in.Values, Events: recent}
	d.Owner = view.NewMembership(c.MembershipLeases(ctx), now).OwnerNote(KindScaledObject, namespace, name, now)
	ces, cces := c.CloudEventSources(ctx, namespace)
	d.CloudEvents = cloudEventDeliveries(KindScaledObject, ces, cces)
	return d, nil
}

// triggerErrors picks, from the events of object, the latest error of each failing trigger.
func triggerErrors(events []EventLine, object string) map[string]string {
	out := map[string]string{}
	latest := map[string]time.Time{}
	for _, e := range events {
		if e.Object != object || (e.Reason != kedav1alpha1.EventKEDAScalerFailed && e.Reason != kedav1alpha1.EventKEDAMetricSourceFailed) {
			continue
		}
		metric, msg, ok := diagnose.TriggerFailure(e.Message)
		if !ok || e.Last.Before(latest[metric]) {
			continue
		}
		out[metric], latest[metric] = msg, e.Last
	}
	return out
}

// DescribeScaledJob gathers what the cluster shows about one ScaledJob and diagnoses it. The TUI
// calls it too.
func DescribeScaledJob(ctx context.Context, c *kedaclient.Client, namespace, name string, events int) (*Description, error) {
	sj, err := c.ScaledJob(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	d := DescribeScaledJobFrom(ReadScaledJob(ctx, c, sj))
	now := time.Now()
	d.Owner = view.NewMembership(c.MembershipLeases(ctx), now).OwnerNote(KindScaledJob, namespace, name, now)
	ces, cces := c.CloudEventSources(ctx, namespace)
	d.CloudEvents = cloudEventDeliveries(KindScaledJob, ces, cces)
	if d.Events, err = recentEvents(ctx, c, namespace, [][2]string{{KindScaledJob, name}}, events); err != nil {
		return nil, err
	}
	return d, nil
}

// DescribeScaledJobFrom redoes the operator's arithmetic on what was read about a ScaledJob and
// diagnoses it; the events are left to the caller.
func DescribeScaledJobFrom(live view.ScaledJobInputs) *Description {
	sj := live.ScaledJob
	st := view.ScaledJobStateOf(live)
	in := diagnose.JobInputs{ScaledJob: sj, Counts: st.Counts(), CountsErr: live.JobsErr, Decision: st.Result,
		QueueUnavailable: st.QueueUnavailable, Triggers: st.Triggers, MetricErrors: st.MetricErrors}
	return &Description{Kind: KindScaledJob, Namespace: sj.Namespace, Name: sj.Name, Findings: diagnose.DiagnoseScaledJob(in), ScaledJob: &st}
}

// ReadScaledJob reads what view.ScaledJobStateOf needs about sj: its Jobs and their Pods, and the
// latest sample of each trigger from the external metrics API, as the operator serves it under the
// names in status.externalMetricNames. Upstream KEDA lists no names there, so nothing is asked.
// Failures are recorded in the inputs, not returned: the rest is still worth showing.
func ReadScaledJob(ctx context.Context, c *kedaclient.Client, sj *kedav1alpha1.ScaledJob) view.ScaledJobInputs {
	in := view.ScaledJobInputs{ScaledJob: sj, Metrics: map[string]view.JobMetric{}, MetricErrors: map[string]error{}}
	in.Jobs, in.Pods, in.JobsErr = c.JobsOf(ctx, sj)
	for _, m := range sj.Status.ExternalMetricNames {
		v, err := c.ScaledJobMetric(ctx, sj.Namespace, sj.Name, m)
		if err != nil {
			in.MetricErrors[m] = err
			continue
		}
		q, err := resource.ParseQuantity(v.Value)
		if err != nil {
			in.MetricErrors[m] = fmt.Errorf("metric %s: value %q: %w", m, v.Value, err)
			continue
		}
		in.Metrics[m] = view.JobMetric{Value: q, Labels: v.Labels}
	}
	return in
}

// recentEvents reads the last n events of each {kind, name} object.
func recentEvents(ctx context.Context, c *kedaclient.Client, namespace string, objects [][2]string, n int) ([]EventLine, error) {
	var out []EventLine
	for _, obj := range objects {
		evs, err := c.Events(ctx, namespace, obj[0], obj[1])
		if err != nil {
			return nil, err
		}
		if len(evs) > n {
			evs = evs[len(evs)-n:]
		}
		for i := range evs {
			out = append(out, eventLine(obj[0]+"/"+obj[1], &evs[i]))
		}
	}
	return out, nil
}

func eventLine(object string, e *corev1.Event) EventLine {
	count := e.Count
	if count == 0 {
		count = 1
	}
	return EventLine{Object: object, Type: e.Type, Reason: e.Reason, Message: e.Message, Count: count, Last: kedaclient.EventTime(e)}
}

// PrintDescription writes the findings, a ScaledJob's triggers and recent Jobs, and the events as
// text.
func PrintDescription(w io.Writer, d *Description, now time.Time) error {
	fmt.Fprintf(w, "%s %s/%s\n", d.Kind, d.Namespace, d.Name)
	if d.Owner != "" {
		fmt.Fprintf(w, "Polled by %s\n", d.Owner)
	}
	fmt.Fprintln(w)
	for _, f := range d.Findings {
		fmt.Fprintf(w, "%-8s %s\n", strings.ToUpper(f.Severity.String()), f.Title)
		if f.Detail != "" {
			fmt.Fprintf(w, "         %s\n", f.Detail)
		}
	}
	if st := d.ScaledJob; st != nil {
		if err := printScaledJob(w, st, now); err != nil {
			return err
		}
	}
	if len(d.CloudEvents) > 0 {
		fmt.Fprintln(w, "\nCloudEvents:")
		tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "  SOURCE\tACTIVE\tMESSAGE")
		for _, c := range d.CloudEvents {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.Source, c.Active, c.Message)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "\nEvents:")
	if len(d.Events) == 0 {
		fmt.Fprintln(w, "  <none>")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  AGE\tOBJECT\tTYPE\tREASON\tMESSAGE")
	for _, e := range d.Events {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", view.Age(now.Sub(e.Last)), e.Object, e.Type, e.Reason, strings.ReplaceAll(e.Message, "\n", " "))
	}
	return tw.Flush()
}

// printScaledJob writes a ScaledJob's triggers with their samples and its recent Jobs, as kubectl
// describe lists an object's parts.
func printScaledJob(w io.Writer, st *view.ScaledJobState, now time.Time) error {
	fmt.Fprintln(w, "\nTriggers:")
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  TRIGGER\tTYPE\tVALUE\tTARGET-PER-JOB\tACTIVATION\tACTIVE\tMETRIC")
	for _, t := range st.Triggers {
		metric := t.Metric
		if metric == "" {
			metric = "-"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.Trigger, t.Type, t.Value, t.Target, t.Activation, t.Active, metric)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nJobs (newest %d):\n", view.RecentJobs)
	if len(st.Jobs) == 0 {
		fmt.Fprintln(w, "  <none>")
		return nil
	}
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  AGE\tNAME\tPHASE")
	for _, j := range st.Jobs {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", view.Age(now.Sub(j.Created)), j.Name, j.Phase)
	}
	return tw.Flush()
}
