package view

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// PrintTriggerTable writes rows as kubectl writes tables, one table per kind as `kubectl get so,sj`
// does. allNamespaces adds the NAMESPACE column; wide adds the metric name, health and fallback.
func PrintTriggerTable(w io.Writer, rows []TriggerRow, allNamespaces, wide bool) error {
	var objects, jobs []TriggerRow
	for _, r := range rows {
		if r.Kind == "ScaledJob" {
			jobs = append(jobs, r)
		} else {
			objects = append(objects, r)
		}
	}
	if len(objects) > 0 || len(jobs) == 0 {
		if err := printTable(w, "SCALEDOBJECT", objects, allNamespaces, wide); err != nil {
			return err
		}
	}
	if len(jobs) == 0 {
		return nil
	}
	if len(objects) > 0 {
		fmt.Fprintln(w)
	}
	return printTable(w, "SCALEDJOB", jobs, allNamespaces, wide)
}

func printTable(w io.Writer, kind string, rows []TriggerRow, allNamespaces, wide bool) error {
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	// A ScaledJob has no scale target and no replicas: its columns are its queue and its Jobs, and
	// MIN-MAX is the fewest and most unfinished Jobs it keeps (scaledjob.Bounds).
	jobs := kind == "SCALEDJOB"
	cols := []string{kind, "TARGET", "TRIGGER", "TYPE", "VALUE", "TARGET-VALUE", "ACTIVATION", "ACTIVE", "REPLICAS", "MIN-MAX", "PAUSED", "READY"}
	if jobs {
		cols = []string{kind, "TRIGGER", "TYPE", "VALUE", "TARGET-VALUE", "ACTIVATION", "ACTIVE", "QUEUE", "RUNNING", "PENDING", "SUCCEEDED", "FAILED", "MIN-MAX", "PAUSED", "READY"}
	}
	switch {
	case wide && jobs:
		cols = append(cols, "METRIC", "STRATEGY")
	case wide:
		cols = append(cols, "METRIC", "HEALTH", "FALLBACK")
	}
	if allNamespaces {
		cols = append([]string{"NAMESPACE"}, cols...)
	}
	fmt.Fprintln(tw, strings.Join(cols, "\t"))
	for _, r := range rows {
		vals := []string{r.ScaledObject, r.Target, r.Trigger, r.Type, r.Value, r.TargetValue, r.Activation, r.Active, r.Replicas, r.MinMax, r.Paused, r.Ready}
		if jobs {
			vals = []string{r.ScaledJob, r.Trigger, r.Type, r.Value, r.TargetValue, r.Activation, r.Active,
				count(r.Queue), count(r.Running), count(r.Pending), count(r.Succeeded), count(r.Failed), r.MinMax, r.Paused, r.Ready}
		}
		switch {
		case wide && jobs:
			vals = append(vals, r.Metric, r.Strategy)
		case wide:
			vals = append(vals, r.Metric, r.Health, r.Fallback)
		}
		if allNamespaces {
			vals = append([]string{r.Namespace}, vals...)
		}
		fmt.Fprintln(tw, strings.Join(vals, "\t"))
	}
	return tw.Flush()
}

// count prints a number that may be unknown.
func count(n *int64) string {
	if n == nil {
		return "-"
	}
	return fmt.Sprint(*n)
}
