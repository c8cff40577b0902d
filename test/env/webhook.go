package env

import (
	"context"
	"fmt"
	"strings"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
)

// WebhookConfigName is the ValidatingWebhookConfiguration of the chart, which the environment points
// at the operator on loopback by URL.
const WebhookConfigName = "keda-admission"

// SkipAdmissionLabel on a namespace keeps the webhook out of it, so that a test can create objects
// the webhook would refuse and watch how the controller reports them.
const SkipAdmissionLabel = "e2e.kedactl.dev/admission"

// registerWebhook points the admission webhook of the four keda.sh kinds and the two
// eventing.keda.sh kinds at the operator's webhook
// server on localhost:port (creating the configuration when the chart did not). caBundle nil keeps
// the configuration's caBundle for the operator to inject.
func (e *Env) registerWebhook(ctx context.Context, port int, caBundle []byte) error {
	api := e.Kube.AdmissionregistrationV1().ValidatingWebhookConfigurations()
	var hooks []admissionregistrationv1.ValidatingWebhook
	for _, gk := range []struct{ group, kind string }{
		{"keda.sh", "scaledobject"}, {"keda.sh", "scaledjob"}, {"keda.sh", "triggerauthentication"}, {"keda.sh", "clustertriggerauthentication"},
		{"eventing.keda.sh", "cloudeventsource"}, {"eventing.keda.sh", "clustercloudeventsource"},
	} {
		kind := gk.kind
		scope := admissionregistrationv1.NamespacedScope
		if strings.HasPrefix(kind, "cluster") {
			scope = admissionregistrationv1.ClusterScope
		}
		hooks = append(hooks, admissionregistrationv1.ValidatingWebhook{
			Name:                    "v" + kind + ".kb.io",
			AdmissionReviewVersions: []string{"v1"},
			SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
			// Fail, not the chart's Ignore: a webhook that does not answer must fail the tests.
			FailurePolicy:  ptr.To(admissionregistrationv1.Fail),
			TimeoutSeconds: ptr.To(int32(10)),
			ClientConfig: admissionregistrationv1.WebhookClientConfig{
				URL:      ptr.To(fmt.Sprintf("https://localhost:%d/validate-%s-v1alpha1-%s", port, strings.ReplaceAll(gk.group, ".", "-"), kind)),
				CABundle: caBundle,
			},
			NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
				Key: SkipAdmissionLabel, Operator: metav1.LabelSelectorOpNotIn, Values: []string{"skip"},
			}}},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
				Rule: admissionregistrationv1.Rule{APIGroups: []string{gk.group}, APIVersions: []string{"v1alpha1"},
					Resources: []string{kind + "s"}, Scope: ptr.To(scope)},
			}},
		})
	}
	// The operator injects its CA into the same object: retry on conflicts, then wait for the CA.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		existing, err := api.Get(ctx, WebhookConfigName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: WebhookConfigName}, Webhooks: hooks}
			if _, err := api.Create(ctx, cfg, metav1.CreateOptions{}); err != nil {
				return fmt.Errorf("failed to create ValidatingWebhookConfiguration %s: %w", WebhookConfigName, err)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("failed to get ValidatingWebhookConfiguration %s: %w", WebhookConfigName, err)
		}
		for i := range hooks {
			if caBundle == nil && i < len(existing.Webhooks) {
				hooks[i].ClientConfig.CABundle = existing.Webhooks[i].ClientConfig.CABundle
			}
		}
		existing.Webhooks = hooks
		_, err = api.Update(ctx, existing, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("failed to point ValidatingWebhookConfiguration %s at localhost:%d: %w", WebhookConfigName, port, err)
	}
	return wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		cfg, err := api.Get(ctx, WebhookConfigName, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		for _, h := range cfg.Webhooks {
			if len(h.ClientConfig.CABundle) == 0 {
				return false, nil
			}
		}
		return true, nil
	})
}
