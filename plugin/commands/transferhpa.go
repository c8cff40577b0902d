package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	"github.com/kedactl/kedactl/plugin/kedaclient"
)

// TransferHPAOptions is `kubectl keda transfer-hpa`.
type TransferHPAOptions struct {
	f       *factory
	streams genericiooptions.IOStreams

	HPA     string
	DryRun  string
	Timeout time.Duration

	Name      string
	Namespace string
}

func newTransferHPACommand(f *factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &TransferHPAOptions{f: f, streams: streams}
	cmd := &cobra.Command{
		Use:   "transfer-hpa NAME --hpa EXISTING",
		Short: "Let a ScaledObject adopt an existing HPA, as KEDA documents it",
		Long: `transfer-hpa checks that the HPA exists and scales the ScaledObject's target, then sets
annotation scaledobject.keda.sh/transfer-hpa-ownership: "true" and
spec.advanced.horizontalPodAutoscalerConfig.name: EXISTING, and waits for the operator to take
the HPA over.`,
		Example:           "  kubectl keda transfer-hpa worker --hpa worker-hpa",
		Args:              cobra.ExactArgs(1),
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
	cmd.Flags().StringVar(&o.HPA, "hpa", "", "name of the existing HPA to adopt")
	cmd.Flags().StringVar(&o.DryRun, "dry-run", "none", `"none", "client" (print the patch) or "server"`)
	cmd.Flags().Lookup("dry-run").NoOptDefVal = "client"
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 30*time.Second, "how long to wait for the operator to adopt the HPA")
	return cmd
}

// Complete fills the name and namespace.
func (o *TransferHPAOptions) Complete(args []string) error {
	o.Name = args[0]
	ns, err := o.f.namespace()
	o.Namespace = ns
	return err
}

// Validate checks the flags.
func (o *TransferHPAOptions) Validate() error {
	if o.HPA == "" {
		return fmt.Errorf("--hpa is required: name the existing HPA to adopt")
	}
	return validateOutput(o.DryRun, "none", "client", "server")
}

// Patch is the merge patch sent to the ScaledObject.
func (o *TransferHPAOptions) Patch() ([]byte, error) { return TransferHPAPatch(o.HPA) }

// TransferHPAPatch is the merge patch that makes a ScaledObject adopt HPA hpa, as KEDA documents it.
func TransferHPAPatch(hpa string) ([]byte, error) {
	return json.Marshal(map[string]any{
		"metadata": map[string]any{"annotations": map[string]string{kedav1alpha1.AnnotationTransferHPAOwnership: "true"}},
		"spec":     map[string]any{"advanced": map[string]any{"horizontalPodAutoscalerConfig": map[string]string{"name": hpa}}},
	})
}

// Run checks, patches and waits for the adoption.
func (o *TransferHPAOptions) Run(ctx context.Context) error {
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
	outcome, err := TransferHPA(ctx, c, o.Namespace, o.Name, o.HPA, o.DryRun == "server", o.Timeout)
	if err != nil {
		return err
	}
	if o.DryRun == "server" {
		fmt.Fprintf(o.streams.Out, "%s\n", patch)
	}
	fmt.Fprintln(o.streams.Out, outcome)
	return nil
}

// TransferHPA makes ScaledObject namespace/name adopt HPA hpa: it checks that the HPA exists and
// scales the same workload, patches the ScaledObject, and waits up to timeout for the operator to own
// the HPA. It returns the outcome in a sentence.
func TransferHPA(ctx context.Context, c *kedaclient.Client, namespace, name, hpaName string, serverDryRun bool, timeout time.Duration) (string, error) {
	patch, err := TransferHPAPatch(hpaName)
	if err != nil {
		return "", err
	}
	so, err := c.ScaledObject(ctx, namespace, name)
	if err != nil {
		return "", err
	}
	hpa, err := c.Kube.AutoscalingV2().HorizontalPodAutoscalers(namespace).Get(ctx, hpaName, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("HPA %s/%s: %w", namespace, hpaName, err)
	}
	ref := so.Spec.ScaleTargetRef
	kind := ref.Kind
	if kind == "" {
		kind = "Deployment"
	}
	if hpa.Spec.ScaleTargetRef.Name != ref.Name || hpa.Spec.ScaleTargetRef.Kind != kind {
		return "", fmt.Errorf("HPA %s scales %s/%s but ScaledObject %s scales %s/%s: only an HPA on the same workload can be adopted",
			hpaName, hpa.Spec.ScaleTargetRef.Kind, hpa.Spec.ScaleTargetRef.Name, name, kind, ref.Name)
	}
	if owner := metav1.GetControllerOf(hpa); owner != nil && owner.UID == so.UID {
		return fmt.Sprintf("HPA %s is already owned by ScaledObject %s", hpaName, name), nil
	}
	opts := []client.PatchOption{}
	if serverDryRun {
		opts = append(opts, client.DryRunAll)
	}
	if err := c.CR.Patch(ctx, so, client.RawPatch(types.MergePatchType, patch), opts...); err != nil {
		return "", fmt.Errorf("failed to patch ScaledObject %s/%s: %w", namespace, name, err)
	}
	if serverDryRun {
		return fmt.Sprintf("ScaledObject %s/%s would adopt HPA %s (server dry run)", namespace, name, hpaName), nil
	}
	var last string
	err = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		h, err := c.Kube.AutoscalingV2().HorizontalPodAutoscalers(namespace).Get(ctx, hpaName, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		if owner := metav1.GetControllerOf(h); owner != nil && owner.UID == so.UID {
			return true, nil
		}
		cur, err := c.ScaledObject(ctx, namespace, name)
		if err == nil {
			if r := cur.Status.Conditions.Get(kedav1alpha1.ConditionReady); r != nil {
				last = r.Reason + ": " + r.Message
			}
		}
		return false, nil
	})
	if err != nil {
		return "", fmt.Errorf("the operator has not adopted HPA %s within %s (Ready: %s); see kubectl keda describe %s", hpaName, timeout, last, name)
	}
	return fmt.Sprintf("ScaledObject %s/%s now owns HPA %s", namespace, name, hpaName), nil
}
