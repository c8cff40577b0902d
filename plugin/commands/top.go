package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/plugin/kedaclient"
	"github.com/kedactl/kedactl/plugin/output"
	"github.com/kedactl/kedactl/plugin/view"
)

// clearScreen moves the cursor home and clears the terminal, for -w.
const clearScreen = "\x1b[H\x1b[2J"

// TopOptions is `kubectl keda top`.
type TopOptions struct {
	f       *factory
	streams genericiooptions.IOStreams

	AllNamespaces bool
	Watch         bool
	Interval      time.Duration
	Output        *output.Flags

	Name      string
	Namespace string
}

func newTopCommand(f *factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &TopOptions{f: f, streams: streams, Output: output.NewFlags()}
	cmd := &cobra.Command{
		Use:   "top [NAME]",
		Short: "Show each trigger's live value against its target and activation threshold",
		Long: `top shows one row per trigger: the value the external metrics API serves to the HPA (the
same request the HPA makes), the HPA's target, the activation threshold, whether the trigger is
active, and the target's replicas (current/desired by the HPA) against min-max.
ScaledJobs get their own table: each trigger's value and target per Job, the combined queue
length ("-" when the operator does not serve it: only kedactl's does), the running, pending,
succeeded and failed Jobs, and the fewest-most unfinished Jobs.`,
		Example: `  kubectl keda top
  kubectl keda top worker -w
  kubectl keda top -A -o yaml
  kubectl keda top -A --sort-by '{.value}' -o custom-columns=NAME:.scaledObject,VALUE:.value`,
		Args:              cobra.MaximumNArgs(1),
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
	cmd.Flags().BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "list ScaledObjects of every namespace")
	cmd.Flags().BoolVarP(&o.Watch, "watch", "w", false, "refresh in place until interrupted")
	cmd.Flags().DurationVar(&o.Interval, "interval", 2*time.Second, "refresh interval with -w")
	o.Output.AddFlags(cmd)
	return cmd
}

// Complete fills the namespace and name.
func (o *TopOptions) Complete(args []string) error {
	if len(args) == 1 {
		o.Name = args[0]
	}
	ns, err := o.f.namespace()
	o.Namespace = ns
	if o.AllNamespaces {
		o.Namespace = ""
	}
	return err
}

// Validate checks the flags.
func (o *TopOptions) Validate() error {
	if o.Name != "" && o.AllNamespaces {
		return fmt.Errorf("a NAME and --all-namespaces cannot be combined")
	}
	if o.Interval < 500*time.Millisecond {
		return fmt.Errorf("--interval must be at least 500ms")
	}
	return o.Output.Validate()
}

// Run prints the rows once, or until ctx ends with -w.
func (o *TopOptions) Run(ctx context.Context) error {
	c, err := o.f.client()
	if err != nil {
		return err
	}
	for {
		rows, err := o.rows(ctx, c)
		if err != nil {
			return err
		}
		if o.Watch && o.Output.Table() {
			fmt.Fprint(o.streams.Out, clearScreen)
		}
		if err := o.print(rows); err != nil {
			return err
		}
		if !o.Watch {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(o.Interval):
		}
	}
}

func (o *TopOptions) print(rows []view.TriggerRow) error {
	if len(rows) == 0 && o.Output.Table() {
		where := "namespace " + o.Namespace
		if o.Namespace == "" {
			where = "any namespace"
		}
		_, err := fmt.Fprintf(o.streams.ErrOut, "No ScaledObjects or ScaledJobs found in %s.\n", where)
		return err
	}
	return o.Output.Print(o.streams.Out, view.TriggerTables(rows, o.AllNamespaces)...)
}

// rows reads every ScaledObject asked for and queries its metrics through the external metrics
// API, as the HPA does; without a NAME it adds every ScaledJob with its queue and Jobs.
func (o *TopOptions) rows(ctx context.Context, c *kedaclient.Client) ([]view.TriggerRow, error) {
	var objects []kedav1alpha1.ScaledObject
	if o.Name != "" {
		so, err := c.ScaledObject(ctx, o.Namespace, o.Name)
		if err != nil {
			return nil, err
		}
		objects = []kedav1alpha1.ScaledObject{*so}
	} else {
		list, err := c.ScaledObjects(ctx, o.Namespace)
		if err != nil {
			return nil, err
		}
		objects = list
	}
	// Which replica polls each object, computed from the membership Leases as the operator does.
	members := view.NewMembership(c.MembershipLeases(ctx), time.Now())
	var rows []view.TriggerRow
	for i := range objects {
		in, err := readInputs(ctx, c, &objects[i])
		if err != nil {
			return nil, err
		}
		owner := members.Owner("ScaledObject", objects[i].Namespace, objects[i].Name)
		for _, r := range view.TriggerRows(in) {
			r.Owner = owner
			rows = append(rows, r)
		}
	}
	if o.Name != "" {
		return rows, nil
	}
	jobs, err := c.ScaledJobs(ctx, o.Namespace)
	if err != nil {
		return nil, err
	}
	for i := range jobs {
		st := view.ScaledJobStateOf(ReadScaledJob(ctx, c, &jobs[i]))
		owner := members.Owner("ScaledJob", jobs[i].Namespace, jobs[i].Name)
		for _, r := range view.ScaledJobRows(&jobs[i], &st) {
			r.Owner = owner
			rows = append(rows, r)
		}
	}
	return rows, nil
}

// readInputs gathers what view.TriggerRows needs about so; missing pieces stay nil.
func readInputs(ctx context.Context, c *kedaclient.Client, so *kedav1alpha1.ScaledObject) (view.Inputs, error) {
	in := view.Inputs{ScaledObject: so, Values: map[string]string{}, Errors: map[string]error{}}
	hpa, err := c.HPA(ctx, so)
	if err != nil {
		return in, err
	}
	in.HPA = hpa
	if sc, err := c.Scale(ctx, so); err == nil {
		in.Scale = sc
	}
	for _, m := range so.Status.ExternalMetricNames {
		v, err := c.ExternalMetric(ctx, so.Namespace, so.Name, m)
		if err != nil {
			in.Errors[m] = err
			continue
		}
		in.Values[m] = v.Value
	}
	return in, nil
}
