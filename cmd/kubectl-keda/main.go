// Command kubectl-keda is the kubectl plugin: `kubectl keda ...`.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/kedactl/kedactl/internal/version"
)

func main() {
	root := &cobra.Command{
		Use:           "kubectl-keda",
		Short:         "Manage and debug KEDA-style event-driven autoscaling",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print the plugin's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "kubectl-keda %s\n", version.Get())
			return err
		},
	})
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
