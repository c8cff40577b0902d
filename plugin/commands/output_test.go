package commands

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/utils/ptr"

	"github.com/kedactl/kedactl/plugin/output"
	"github.com/kedactl/kedactl/plugin/view"
)

// outputCases are the ways a user asks for a list-like command's output, as kubectl spells them.
var outputCases = [][]string{
	{},
	{"-o", "wide"},
	{"--no-headers"},
	{"--sort-by", "{.value}"},
	{"--sort-by", ".metric", "-o", "custom-columns=METRIC:.metric,VALUE:.value,ERROR:.error"},
	{"-o", "name"},
	{"-o", "jsonpath={range .items[*]}{.metric}={.value}{\"\\n\"}{end}"},
	{"-o", "go-template={{range .items}}{{.metric}} {{.value}}{{\"\\n\"}}{{end}}"},
	{"-o", "json"},
	{"-o", "yaml"},
}

// printEach runs print with the flags of every case and returns the outputs, each under the
// command line that produced it.
func printEach(t *testing.T, command string, print func(streams genericiooptions.IOStreams, flags *output.Flags) error) []byte {
	t.Helper()
	var all bytes.Buffer
	for _, args := range outputCases {
		flags := output.NewFlags()
		cmd := newTopCommand(&factory{}, genericiooptions.NewTestIOStreamsDiscard())
		cmd.ResetFlags()
		flags.AddFlags(cmd)
		if err := cmd.ParseFlags(args); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if err := flags.Validate(); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		streams, _, out, errOut := genericiooptions.NewTestIOStreams()
		if err := print(streams, flags); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		fmt.Fprintf(&all, "$ kubectl keda %s %s\n%s%s\n", command, strings.Join(args, " "), out, errOut)
	}
	return all.Bytes()
}

func topRows() []view.TriggerRow {
	return []view.TriggerRow{
		{Kind: "ScaledObject", Namespace: "shop", ScaledObject: "orders", Target: "Deployment/orders", Trigger: "s0", Type: "redis", Metric: "s0-redis-orders",
			Value: "12", TargetValue: "5 (avg)", Activation: "1", Active: "true", Replicas: "3/3", MinMax: "0-10", Paused: "False", Fallback: "-", Ready: "True", Health: "Happy",
			Owner: "keda-operator-7c9f-abcde_4981970a-61b1-481c-92d9-b36e3a58f936"},
		{Kind: "ScaledObject", Namespace: "shop", ScaledObject: "orders", Target: "Deployment/orders", Trigger: "nights", Type: "cron", Metric: "s1-cron-Etc-UTC-00xxx-06xxx",
			Value: "0", TargetValue: "1 (avg)", Activation: "0", Active: "false", Replicas: "3/3", MinMax: "0-10", Paused: "False", Fallback: "-", Ready: "True", Health: "Happy",
			Owner: "keda-operator-7c9f-abcde_4981970a-61b1-481c-92d9-b36e3a58f936"},
		{Kind: "ScaledObject", Namespace: "shop", ScaledObject: "billing", Target: "StatefulSet/billing", Trigger: "s0", Type: "prometheus", Metric: "s0-prometheus",
			Value: "<error>", TargetValue: "100 (value)", Activation: "0", Active: "-", Replicas: "1/1", MinMax: "1-4", Paused: "False", Fallback: "Active(1)", Ready: "True", Health: "Failing(4)",
			Owner: "keda-operator-7c9f-fghij_0f1e2d3c-aaaa-bbbb-cccc-1234567890ab"},
		{Kind: "ScaledJob", Namespace: "shop", ScaledJob: "reports", Trigger: "s0", Type: "redis", Metric: "s0-redis-reports",
			Value: "4", TargetValue: "1", Activation: "0", Active: "true", Replicas: "2/-", MinMax: "0-8", Paused: "False", Ready: "True",
			Queue: ptr.To[int64](4), Running: ptr.To[int64](2), Pending: ptr.To[int64](0), Succeeded: ptr.To[int64](7), Failed: ptr.To[int64](1), Max: ptr.To[int64](8), Strategy: "default",
			Owner: "keda-operator-7c9f-klmno_5d6e7f80-1111-2222-3333-444455556666"},
	}
}

// TestTopOutput: every output kubectl users know, from the same rows, through cli-runtime's printers.
func TestTopOutput(t *testing.T) {
	got := printEach(t, "top -n shop", func(streams genericiooptions.IOStreams, flags *output.Flags) error {
		o := &TopOptions{streams: streams, Output: flags, Namespace: "shop"}
		return o.print(topRows())
	})
	goldenFile(t, "top.golden", got)
}

func TestTopOutputEmpty(t *testing.T) {
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	o := &TopOptions{streams: streams, Output: output.NewFlags(), Namespace: "shop"}
	if err := o.print(nil); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 || errOut.String() != "No ScaledObjects or ScaledJobs found in namespace shop.\n" {
		t.Errorf("stdout %q, stderr %q", out, errOut)
	}
	*o.Output.Printing.OutputFormat = "json"
	if err := o.print(nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"items": []`) {
		t.Errorf("-o json of nothing = %q, want an empty List", out)
	}
}

// TestMetricsOutput: the metrics table and its objects; a metric that cannot be read is a row
// with its reason, and the command fails after printing.
func TestMetricsOutput(t *testing.T) {
	at := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	rows := []MetricRow{
		{Metric: "s1-cron-Etc-UTC-00xxx-06xxx", Value: "0", Timestamp: at},
		{Metric: "s0-redis-orders", Value: "12", Timestamp: at},
		{Metric: "s2-prometheus", Error: "the server is currently unable\nto handle the request"},
	}
	got := printEach(t, "metrics orders -n shop", func(streams genericiooptions.IOStreams, flags *output.Flags) error {
		o := &MetricsOptions{streams: streams, Output: flags}
		err := o.Output.Print(o.streams.Out, MetricsTable("shop", "orders", rows))
		if err == nil {
			err = failures(rows)
		}
		if err == nil || err.Error() != "1 of 3 metrics could not be read" {
			return fmt.Errorf("error = %v, want 1 of 3 metrics could not be read", err)
		}
		return nil
	})
	goldenFile(t, "metrics.golden", got)
}

func TestOutputFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-o", "table"}, `--output "table" is not supported: use one of wide, custom-columns=, json, yaml`},
		{[]string{"-o", "custom-columns=VALUE"}, `"VALUE" is not HEADER:.path`},
		{[]string{"--sort-by", "{.value"}, `--sort-by "{.value" is not a JSONPath expression`},
	} {
		flags := output.NewFlags()
		cmd := newTopCommand(&factory{}, genericiooptions.NewTestIOStreamsDiscard())
		cmd.ResetFlags()
		flags.AddFlags(cmd)
		if err := cmd.ParseFlags(tc.args); err != nil {
			t.Fatal(err)
		}
		if err := flags.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error = %v, want it to contain %q", tc.args, err, tc.want)
		}
	}
}
