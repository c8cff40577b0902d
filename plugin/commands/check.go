package commands

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kedactl/kedactl/plugin/check"
)

// CheckOptions is `kubectl keda check`.
type CheckOptions struct {
	streams genericiooptions.IOStreams
	Files   []string
	Output  string
}

type fileResult struct {
	File string `json:"file"`
	check.Result
}

func newCheckCommand(streams genericiooptions.IOStreams) *cobra.Command {
	o := &CheckOptions{streams: streams}
	cmd := &cobra.Command{
		Use:   "check -f FILE",
		Short: "Validate keda.sh manifests offline, with the operator's own validation",
		Long: `check validates ScaledObjects, ScaledJobs, (Cluster)TriggerAuthentications and
(Cluster)CloudEventSources without a cluster: the spec rules and every trigger's metadata, parsed as the operator parses it. Parameters a
TriggerAuthentication or the target's env could supply are not required here. It exits non-zero
when any object has an error.`,
		Example: "  kubectl keda check -f scaledobject.yaml\n  cat *.yaml | kubectl keda check -f -",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run()
		},
	}
	cmd.Flags().StringSliceVarP(&o.Files, "filename", "f", nil, "manifest files; - reads standard input")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "text", "text, json or yaml")
	return cmd
}

// Validate checks the flags.
func (o *CheckOptions) Validate() error {
	if len(o.Files) == 0 {
		return fmt.Errorf("-f FILE is required")
	}
	return validateOutput(o.Output, "text", "json", "yaml")
}

// Run validates every file.
func (o *CheckOptions) Run() error {
	var all []fileResult
	failed := 0
	for _, f := range o.Files {
		var data []byte
		var err error
		if f == "-" {
			data, err = io.ReadAll(o.streams.In)
		} else {
			data, err = os.ReadFile(f)
		}
		if err != nil {
			return fmt.Errorf("failed to read %s: %w", f, err)
		}
		results, err := check.Manifest(data)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		for _, r := range results {
			all = append(all, fileResult{File: f, Result: r})
			if len(r.Errors) > 0 {
				failed++
			}
		}
	}
	if o.Output != "text" {
		if err := printData(o.streams.Out, o.Output, all); err != nil {
			return err
		}
	} else {
		for _, r := range all {
			name := r.Kind + " " + r.Name
			if r.Namespace != "" {
				name = r.Kind + " " + r.Namespace + "/" + r.Name
			}
			switch {
			case r.Skipped:
				fmt.Fprintf(o.streams.Out, "%s: %s: skipped (not a keda.sh kind)\n", r.File, name)
			case len(r.Errors) == 0 && len(r.Warnings) == 0:
				fmt.Fprintf(o.streams.Out, "%s: %s: ok\n", r.File, name)
			case len(r.Errors) == 0:
				fmt.Fprintf(o.streams.Out, "%s: %s: ok, with warnings:\n", r.File, name)
			default:
				fmt.Fprintf(o.streams.Out, "%s: %s:\n", r.File, name)
				for _, e := range r.Errors {
					fmt.Fprintf(o.streams.Out, "  - %s\n", e)
				}
			}
			for _, w := range r.Warnings {
				fmt.Fprintf(o.streams.Out, "  - warning: %s\n", w)
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d object(s) failed the check", failed)
	}
	return nil
}
