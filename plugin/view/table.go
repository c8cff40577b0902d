package view

import (
	"fmt"
	"io"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kedactl/kedactl/plugin/output"
)

// PrintTriggerTable writes rows as kubectl writes tables, one table per kind as `kubectl get so,sj`
// does. allNamespaces adds the NAMESPACE column; wide adds the metric name, health and fallback.
func PrintTriggerTable(w io.Writer, rows []TriggerRow, allNamespaces, wide bool) error {
	f := output.NewFlags()
	if wide {
		*f.Printing.OutputFormat = "wide"
	}
	return f.Print(w, TriggerTables(rows, allNamespaces)...)
}

// TriggerTables are the rows as the ScaledObjects' table then the ScaledJobs' (each row carrying
// its TriggerRow for -o json and the like), for output.Flags.Print. A ScaledJob has no scale target
// and no replicas: its columns are its queue and its Jobs, and MIN-MAX is the fewest and most
// unfinished Jobs it keeps (scaledjob.Bounds). The wide columns have priority 1; OWNER is the
// operator replica that polls the object ("-" when one replica polls them all).
func TriggerTables(rows []TriggerRow, allNamespaces bool) []output.Table {
	objects := output.Table{Columns: columns(allNamespaces, []string{"ScaledObject", "Target", "Trigger", "Type", "Value", "Target-Value", "Activation", "Active", "Replicas", "Min-Max", "Paused", "Ready"}, "Metric", "Health", "Fallback", "Owner")}
	jobs := output.Table{Columns: columns(allNamespaces, []string{"ScaledJob", "Trigger", "Type", "Value", "Target-Value", "Activation", "Active", "Queue", "Running", "Pending", "Succeeded", "Failed", "Min-Max", "Paused", "Ready"}, "Metric", "Strategy", "Owner")}
	for i := range rows {
		r := &rows[i]
		var cells []any
		if allNamespaces {
			cells = append(cells, r.Namespace)
		}
		if r.Kind == "ScaledJob" {
			cells = append(cells, r.ScaledJob, r.Trigger, r.Type, r.Value, r.TargetValue, r.Activation, r.Active,
				count(r.Queue), count(r.Running), count(r.Pending), count(r.Succeeded), count(r.Failed), r.MinMax, r.Paused, r.Ready, r.Metric, r.Strategy, ShortOwner(r.Owner))
			jobs.Rows = append(jobs.Rows, output.Row{Cells: cells, Object: r, Ref: ref("ScaledJob", r.Namespace, r.ScaledJob)})
			continue
		}
		cells = append(cells, r.ScaledObject, r.Target, r.Trigger, r.Type, r.Value, r.TargetValue, r.Activation, r.Active, r.Replicas, r.MinMax, r.Paused, r.Ready, r.Metric, r.Health, r.Fallback, ShortOwner(r.Owner))
		objects.Rows = append(objects.Rows, output.Row{Cells: cells, Object: r, Ref: ref("ScaledObject", r.Namespace, r.ScaledObject)})
	}
	var tables []output.Table
	// Without any row the ScaledObjects' table is the one printed (its headers alone).
	if len(objects.Rows) > 0 || len(jobs.Rows) == 0 {
		tables = append(tables, objects)
	}
	if len(jobs.Rows) > 0 {
		tables = append(tables, jobs)
	}
	return tables
}

func columns(allNamespaces bool, names []string, wide ...string) []metav1.TableColumnDefinition {
	var cols []metav1.TableColumnDefinition
	if allNamespaces {
		cols = append(cols, metav1.TableColumnDefinition{Name: "Namespace", Type: "string"})
	}
	for _, n := range names {
		cols = append(cols, metav1.TableColumnDefinition{Name: n, Type: "string"})
	}
	for _, n := range wide {
		cols = append(cols, metav1.TableColumnDefinition{Name: n, Type: "string", Priority: 1})
	}
	return cols
}

func ref(kind, namespace, name string) output.Ref {
	return output.Ref{GroupVersionKind: schema.GroupVersionKind{Group: "keda.sh", Version: "v1alpha1", Kind: kind}, Namespace: namespace, Name: name}
}

// count prints a number that may be unknown.
func count(n *int64) string {
	if n == nil {
		return "-"
	}
	return fmt.Sprint(*n)
}
