// Package commands holds the `kubectl keda` commands. Each follows kubectl's pattern: an options
// struct filled by Complete, checked by Validate and executed by Run, so tests drive commands
// without a terminal.
package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/kedactl/kedactl/internal/version"
	"github.com/kedactl/kedactl/plugin/kedaclient"
)

// TUIRunner runs the full-screen view; namespace is "" for all namespaces. It lives outside this
// package because the TUI uses the commands' functions.
type TUIRunner func(ctx context.Context, cfg *rest.Config, namespace string) error

// NewRootCommand returns `kubectl keda` with every subcommand; with runTUI, `kubectl keda` with no
// arguments and `kubectl keda tui` open the full-screen view.
func NewRootCommand(streams genericiooptions.IOStreams, runTUI TUIRunner) *cobra.Command {
	flags := genericclioptions.NewConfigFlags(true)
	f := &factory{flags: flags}
	root := &cobra.Command{
		Use: "kubectl-keda",
		// kubectl runs the binary kubectl-keda as `kubectl keda`: usage lines and help say so, as
		// kubectl's plugin convention asks.
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl keda"},
		Short:         "Manage and debug KEDA-style event-driven autoscaling",
		Long:          "kubectl keda shows what the autoscaler believes about ScaledObjects and ScaledJobs, and why.\nIt reads the objects KEDA and kedactl's operator write, so it works against either.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	flags.AddFlags(root.PersistentFlags())
	if runTUI != nil {
		var all bool
		run := func(cmd *cobra.Command, _ []string) error {
			cfg, err := flags.ToRESTConfig()
			if err != nil {
				return fmt.Errorf("failed to load the kubeconfig: %w", err)
			}
			ns := ""
			if !all {
				if ns, err = f.namespace(); err != nil {
					return err
				}
			}
			return runTUI(contextOf(cmd), cfg, ns)
		}
		root.Args = cobra.NoArgs
		root.RunE = run
		root.Flags().BoolVarP(&all, "all-namespaces", "A", false, "show every namespace")
		tui := &cobra.Command{Use: "tui", Short: "Open the full-screen live view (also: kubectl keda with no arguments)", Args: cobra.NoArgs, RunE: run}
		tui.Flags().BoolVarP(&all, "all-namespaces", "A", false, "show every namespace")
		root.AddCommand(tui)
	}
	root.AddCommand(
		newVersionCommand(streams),
		newTopCommand(f, streams),
		newPauseCommand(f, streams),
		newResumeCommand(f, streams),
		newMetricsCommand(f, streams),
		newDescribeCommand(f, streams),
		newTimelineCommand(f, streams),
		newTransferHPACommand(f, streams),
		newCheckCommand(streams),
	)
	return root
}

// factory turns the kubectl flags into what commands need.
type factory struct {
	flags *genericclioptions.ConfigFlags
}

func (f *factory) client() (*kedaclient.Client, error) {
	cfg, err := f.flags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("failed to load the kubeconfig: %w", err)
	}
	return kedaclient.New(cfg)
}

// object reads a [sj/]NAME argument and the namespace the flags select: what every command on
// one ScaledObject or ScaledJob starts from.
func (f *factory) object(arg string) (kind, name, namespace string, err error) {
	if kind, name, err = parseKindName(arg); err != nil {
		return "", "", "", err
	}
	namespace, err = f.namespace()
	return kind, name, namespace, err
}

func (f *factory) namespace() (string, error) {
	ns, _, err := f.flags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return "", fmt.Errorf("failed to find the namespace: %w", err)
	}
	return ns, nil
}

// completeScaledObjects completes ScaledObject names in the current namespace.
func (f *factory) completeScaledObjects(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	c, err := f.client()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	ns, err := f.namespace()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	list, err := c.ScaledObjects(cmd.Context(), ns)
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var names []string
	for _, so := range list {
		if strings.HasPrefix(so.Name, toComplete) {
			names = append(names, so.Name)
		}
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}

func newVersionCommand(streams genericiooptions.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the plugin's version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(streams.Out, "kubectl-keda %s\n", version.Get())
			return err
		},
	}
}

// printData writes v as json or yaml.
func printData(w io.Writer, format string, v any) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "    ")
		return enc.Encode(v)
	case "yaml":
		out, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(out)
		return err
	default:
		return fmt.Errorf("unknown output format %q", format)
	}
}

func validateOutput(format string, allowed ...string) error {
	for _, a := range allowed {
		if format == a {
			return nil
		}
	}
	return fmt.Errorf("--output %q is not supported: use one of %s", format, strings.Join(allowed, ", "))
}

// contextOf returns the command's context, or a background one in tests that build commands bare.
func contextOf(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}
