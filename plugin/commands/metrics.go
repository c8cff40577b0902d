package commands

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/plugin/kedaclient"
	"github.com/kedactl/kedactl/plugin/output"
)

// MetricsOptions is `kubectl keda metrics`.
type MetricsOptions struct {
	f       *factory
	streams genericiooptions.IOStreams

	Raw    bool
	Output *output.Flags

	Name      string
	Metric    string
	Namespace string
}

func newMetricsCommand(f *factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &MetricsOptions{f: f, streams: streams, Output: output.NewFlags()}
	cmd := &cobra.Command{
		Use:   "metrics NAME [METRIC]",
		Short: "Query the external metrics API for a ScaledObject's metrics, as the HPA does",
		Long: `metrics sends the HPA's own request,
GET /apis/external.metrics.k8s.io/v1beta1/namespaces/NS/METRIC?labelSelector=scaledobject.keda.sh/name=NAME,
for each metric in status.externalMetricNames (or just METRIC) and prints the value and timestamp.`,
		Example: `  kubectl keda metrics worker
  kubectl keda metrics worker s0-redis-jobs --raw`,
		Args:              cobra.RangeArgs(1, 2),
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
	cmd.Flags().BoolVar(&o.Raw, "raw", false, "print the API's JSON answer")
	o.Output.AddFlags(cmd)
	return cmd
}

// Complete fills the name, metric and namespace.
func (o *MetricsOptions) Complete(args []string) error {
	o.Name = args[0]
	if len(args) == 2 {
		o.Metric = args[1]
	}
	ns, err := o.f.namespace()
	o.Namespace = ns
	return err
}

// Validate checks the flags.
func (o *MetricsOptions) Validate() error {
	if o.Raw && o.Output.Format() != "" {
		return fmt.Errorf("--raw prints the API's JSON as is: drop --output")
	}
	return o.Output.Validate()
}

// MetricRow is one external metric of a ScaledObject as the HPA reads it, or why it cannot be read.
type MetricRow struct {
	Metric    string    `json:"metric"`
	Value     string    `json:"value,omitempty"`
	Timestamp time.Time `json:"timestamp,omitzero"`
	Error     string    `json:"error,omitempty"`
	// Raw is the API's JSON answer.
	Raw []byte `json:"-"`
}

// ReadMetrics queries external.metrics.k8s.io for the ScaledObject's metrics (metric, or every
// metric in its status), with the label selector the HPA uses. An unreachable metrics API is an
// error; a metric that cannot be read is a row with Error.
func ReadMetrics(ctx context.Context, c *kedaclient.Client, namespace, name, metric string) ([]MetricRow, error) {
	so, err := c.ScaledObject(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	names := so.Status.ExternalMetricNames
	if metric != "" {
		names = []string{metric}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("ScaledObject %s/%s has no external metrics in its status yet: is it Ready? try kubectl keda describe %s", namespace, name, name)
	}
	rows := make([]MetricRow, 0, len(names))
	for _, m := range names {
		v, err := c.ExternalMetric(ctx, namespace, name, m)
		if err != nil {
			if err == kedaclient.ErrNoMetricsAPI {
				return nil, err
			}
			rows = append(rows, MetricRow{Metric: m, Error: err.Error()})
			continue
		}
		rows = append(rows, MetricRow{Metric: m, Value: v.Value, Timestamp: v.Timestamp, Raw: v.Raw})
	}
	return rows, nil
}

// Run queries and prints.
func (o *MetricsOptions) Run(ctx context.Context) error {
	c, err := o.f.client()
	if err != nil {
		return err
	}
	rows, err := ReadMetrics(ctx, c, o.Namespace, o.Name, o.Metric)
	if err != nil {
		return err
	}
	if o.Raw {
		return printRaw(o.streams, rows)
	}
	if err := o.Output.Print(o.streams.Out, MetricsTable(o.Namespace, o.Name, rows)); err != nil {
		return err
	}
	return failures(rows)
}

// printRaw prints each metric's API answer as is, and the metrics that could not be read on stderr.
func printRaw(streams genericiooptions.IOStreams, rows []MetricRow) error {
	for _, r := range rows {
		if r.Error != "" {
			fmt.Fprintf(streams.ErrOut, "%s: %s\n", r.Metric, r.Error)
			continue
		}
		fmt.Fprintf(streams.Out, "%s\n", r.Raw)
	}
	return failures(rows)
}

func failures(rows []MetricRow) error {
	failed := 0
	for _, r := range rows {
		if r.Error != "" {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d metrics could not be read", failed, len(rows))
	}
	return nil
}

// MetricsTable is the metrics of ScaledObject namespace/name as kubectl prints a table: METRIC,
// VALUE, TIMESTAMP, each row carrying its MetricRow for -o json and the like. A metric that could
// not be read shows <error> and the reason.
func MetricsTable(namespace, name string, rows []MetricRow) output.Table {
	t := output.Table{Columns: []metav1.TableColumnDefinition{{Name: "Metric", Type: "string"}, {Name: "Value", Type: "string"}, {Name: "Timestamp", Type: "string"}}}
	ref := output.Ref{GroupVersionKind: kedav1alpha1.GroupVersion.WithKind("ScaledObject"), Namespace: namespace, Name: name}
	for i := range rows {
		r := &rows[i]
		cells := []any{r.Metric, r.Value, r.Timestamp.UTC().Format(time.RFC3339)}
		if r.Error != "" {
			cells = []any{r.Metric, "<error>", strings.ReplaceAll(r.Error, "\n", " ")}
		}
		t.Rows = append(t.Rows, output.Row{Cells: cells, Object: r, Ref: ref})
	}
	return t
}
