package view

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// PrintTriggerTable writes rows as kubectl writes tables. allNamespaces adds the NAMESPACE
// column; wide adds the metric name, health and fallback.
func PrintTriggerTable(w io.Writer, rows []TriggerRow, allNamespaces, wide bool) error {
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	cols := []string{"SCALEDOBJECT", "TARGET", "TRIGGER", "TYPE", "VALUE", "TARGET-VALUE", "ACTIVATION", "ACTIVE", "REPLICAS", "MIN-MAX", "PAUSED", "READY"}
	if wide {
		cols = append(cols, "METRIC", "HEALTH", "FALLBACK")
	}
	if allNamespaces {
		cols = append([]string{"NAMESPACE"}, cols...)
	}
	fmt.Fprintln(tw, strings.Join(cols, "\t"))
	for _, r := range rows {
		vals := []string{r.ScaledObject, r.Target, r.Trigger, r.Type, r.Value, r.TargetValue, r.Activation, r.Active, r.Replicas, r.MinMax, r.Paused, r.Ready}
		if wide {
			vals = append(vals, r.Metric, r.Health, r.Fallback)
		}
		if allNamespaces {
			vals = append([]string{r.Namespace}, vals...)
		}
		fmt.Fprintln(tw, strings.Join(vals, "\t"))
	}
	return tw.Flush()
}
