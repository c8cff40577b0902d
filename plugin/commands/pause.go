package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/plugin/kedaclient"
)

// pauseAnnotations are every annotation pause may set; resume removes exactly these.
var pauseAnnotations = []string{
	kedav1alpha1.AnnotationPaused,
	kedav1alpha1.AnnotationPausedReplicas,
	kedav1alpha1.AnnotationPausedScaleIn,
	kedav1alpha1.AnnotationPausedScaleOut,
}

// PauseOptions is `kubectl keda pause` and `kubectl keda resume`.
type PauseOptions struct {
	f       *factory
	streams genericiooptions.IOStreams

	Resume   bool
	Replicas int32
	ScaleIn  bool
	ScaleOut bool
	DryRun   string

	Kind      string
	Name      string
	Namespace string
	setRepl   bool
}

func newPauseCommand(f *factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &PauseOptions{f: f, streams: streams}
	cmd := &cobra.Command{
		Use:   "pause [so|sj/]NAME [--replicas N] [--scale-in|--scale-out]",
		Short: "Pause autoscaling of a ScaledObject or ScaledJob with KEDA's annotations",
		Long: `Pause sets autoscaling.keda.sh/paused: "true" (the target keeps its current replicas),
or autoscaling.keda.sh/paused-replicas with --replicas (the target goes to N and stays),
or autoscaling.keda.sh/paused-scale-in / paused-scale-out to block one direction only.`,
		Example: `  kubectl keda pause worker
  kubectl keda pause worker --replicas 0
  kubectl keda pause sj/nightly
  kubectl keda pause worker --scale-in --dry-run=client`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: f.completeScaledObjects,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.setRepl = cmd.Flags().Changed("replicas")
			return o.run(cmd, args)
		},
	}
	cmd.Flags().Int32Var(&o.Replicas, "replicas", 0, "hold the target at this many replicas (paused-replicas)")
	cmd.Flags().BoolVar(&o.ScaleIn, "scale-in", false, "only block scaling in (paused-scale-in)")
	cmd.Flags().BoolVar(&o.ScaleOut, "scale-out", false, "only block scaling out (paused-scale-out)")
	cmd.Flags().StringVar(&o.DryRun, "dry-run", "none", `"none", "client" (print the patch) or "server" (send it with dryRun)`)
	cmd.Flags().Lookup("dry-run").NoOptDefVal = "client"
	return cmd
}

func newResumeCommand(f *factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &PauseOptions{f: f, streams: streams, Resume: true}
	cmd := &cobra.Command{
		Use:               "resume [so|sj/]NAME",
		Short:             "Resume autoscaling: remove the pause annotations",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: f.completeScaledObjects,
		RunE:              func(cmd *cobra.Command, args []string) error { return o.run(cmd, args) },
	}
	cmd.Flags().StringVar(&o.DryRun, "dry-run", "none", `"none", "client" (print the patch) or "server" (send it with dryRun)`)
	cmd.Flags().Lookup("dry-run").NoOptDefVal = "client"
	return cmd
}

func (o *PauseOptions) run(cmd *cobra.Command, args []string) error {
	if err := o.Complete(args); err != nil {
		return err
	}
	if err := o.Validate(); err != nil {
		return err
	}
	return o.Run(cmd)
}

// Complete parses TYPE/NAME and the namespace.
func (o *PauseOptions) Complete(args []string) error {
	var err error
	o.Kind, o.Name, o.Namespace, err = o.f.object(args[0])
	return err
}

// parseKindName reads NAME (a ScaledObject), so/NAME or sj/NAME, as kubectl reads TYPE/NAME.
func parseKindName(arg string) (kind, name string, err error) {
	k, name, found := strings.Cut(arg, "/")
	if !found {
		k, name = "so", arg
	}
	switch strings.ToLower(k) {
	case "so", "scaledobject", "scaledobjects", "scaledobject.keda.sh":
		return KindScaledObject, name, nil
	case "sj", "scaledjob", "scaledjobs", "scaledjob.keda.sh":
		return KindScaledJob, name, nil
	}
	return "", "", fmt.Errorf("%q is not a ScaledObject or ScaledJob: write NAME, so/NAME or sj/NAME", arg)
}

// Validate rejects flag combinations KEDA does not define.
func (o *PauseOptions) Validate() error {
	if o.Name == "" {
		return fmt.Errorf("a name is required")
	}
	if o.ScaleIn && o.ScaleOut {
		return fmt.Errorf("--scale-in and --scale-out together block both directions: use plain pause instead")
	}
	if o.setRepl && (o.ScaleIn || o.ScaleOut) {
		return fmt.Errorf("--replicas holds the target at N; it cannot be combined with --scale-in or --scale-out")
	}
	if o.setRepl && o.Replicas < 0 {
		return fmt.Errorf("--replicas must not be negative")
	}
	if o.Kind == KindScaledJob && (o.setRepl || o.ScaleIn || o.ScaleOut) {
		return fmt.Errorf("ScaledJobs only support plain pause (autoscaling.keda.sh/paused)")
	}
	return validateOutput(o.DryRun, "none", "client", "server")
}

// Patch is the merge patch the command sends: what a kubectl user could write by hand.
func (o *PauseOptions) Patch() ([]byte, error) {
	var replicas *int32
	if o.setRepl {
		replicas = &o.Replicas
	}
	return PausePatch(!o.Resume, replicas, o.ScaleIn, o.ScaleOut)
}

// PausePatch is the merge patch that pauses (or, with pause false, resumes) an object: it sets the
// one annotation asked for and removes the other pause annotations.
func PausePatch(pause bool, replicas *int32, scaleIn, scaleOut bool) ([]byte, error) {
	annotations := map[string]any{}
	for _, a := range pauseAnnotations {
		annotations[a] = nil
	}
	if pause {
		switch {
		case replicas != nil:
			annotations[kedav1alpha1.AnnotationPausedReplicas] = strconv.Itoa(int(*replicas))
		case scaleIn:
			annotations[kedav1alpha1.AnnotationPausedScaleIn] = "true"
		case scaleOut:
			annotations[kedav1alpha1.AnnotationPausedScaleOut] = "true"
		default:
			annotations[kedav1alpha1.AnnotationPaused] = "true"
		}
	}
	return json.Marshal(map[string]any{"metadata": map[string]any{"annotations": annotations}})
}

// Run sends (or prints) the patch.
func (o *PauseOptions) Run(cmd *cobra.Command) error {
	patch, err := o.Patch()
	if err != nil {
		return err
	}
	if o.DryRun == "client" {
		fmt.Fprintf(o.streams.Out, "%s\n", patch)
		return nil
	}
	c, err := o.f.client()
	if err != nil {
		return err
	}
	if err := SendPatch(contextOf(cmd), c, o.Kind, o.Namespace, o.Name, patch, o.DryRun == "server"); err != nil {
		return err
	}
	verb := "paused"
	if o.Resume {
		verb = "resumed"
	}
	suffix := ""
	if o.DryRun == "server" {
		suffix = " (server dry run)"
		fmt.Fprintf(o.streams.Out, "%s\n", patch)
	}
	fmt.Fprintf(o.streams.Out, "%s %s/%s %s%s\n", strings.ToLower(o.Kind), o.Namespace, o.Name, verb, suffix)
	return nil
}

// Kinds of object the commands act on.
const (
	KindScaledObject = "ScaledObject"
	KindScaledJob    = "ScaledJob"
)

// SendPatch merge-patches a ScaledObject or ScaledJob (kind), as a server dry run when asked.
func SendPatch(ctx context.Context, c *kedaclient.Client, kind, namespace, name string, patch []byte, serverDryRun bool) error {
	var obj client.Object = &kedav1alpha1.ScaledObject{}
	if kind == KindScaledJob {
		obj = &kedav1alpha1.ScaledJob{}
	}
	obj.SetNamespace(namespace)
	obj.SetName(name)
	var opts []client.PatchOption
	if serverDryRun {
		opts = append(opts, client.DryRunAll)
	}
	if err := c.CR.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch), opts...); err != nil {
		return fmt.Errorf("failed to patch %s %s/%s: %w", kind, namespace, name, err)
	}
	return nil
}
