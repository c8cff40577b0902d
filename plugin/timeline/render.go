package timeline

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Header is the first line of the text rendering.
const Header = "TIME\tSOURCE\tWHAT\tDETAIL"

// Render writes entries as a table, times in loc (UTC when nil), with the header when header is
// set (a follow-up batch of -w omits it).
func Render(w io.Writer, entries []Entry, loc *time.Location, header bool) error {
	if loc == nil {
		loc = time.UTC
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if header {
		fmt.Fprintln(tw, Header)
	}
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Time.In(loc).Format(time.RFC3339), source(e), what(e), detail(e))
	}
	return tw.Flush()
}

func source(e Entry) string {
	if e.Source == SourceOperator {
		return e.Source
	}
	// Kinds read long in a narrow column: hpa/x, deploy/x as kubectl abbreviates them.
	kind, name, _ := strings.Cut(e.Source, "/")
	switch kind {
	case "HorizontalPodAutoscaler":
		kind = "hpa"
	case "Deployment":
		kind = "deploy"
	case "StatefulSet":
		kind = "sts"
	case "ScaledObject":
		kind = "so"
	case "ScaledJob":
		kind = "sj"
	case "Job":
		kind = "job"
	}
	return kind + "/" + name
}

func what(e Entry) string {
	w := string(e.Kind)
	if e.Warning {
		w += "!"
	}
	return w
}

func detail(e Entry) string {
	d := e.Message
	if e.Count > 1 {
		d += fmt.Sprintf(" (x%d)", e.Count)
	}
	// Event messages may hold newlines (a scaler's error); a timeline row stays one line.
	return strings.Join(strings.Fields(d), " ")
}
