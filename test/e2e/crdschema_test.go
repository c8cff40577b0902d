package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// TestCRDSchemaRules: in a namespace the admission webhook skips, as if it were down under the
// chart's failurePolicy Ignore, the API server itself refuses what KEDA 2.21's CRD schemas refuse,
// in the schema's words, and applies valid objects, including those at the edge of each rule and
// those KEDA's CRDs accept that ours used to refuse.
func TestCRDSchemaRules(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ctx := context.Background()
	ns := s.newUnadmittedNamespace(t, "schema")

	// Nothing listens on port 1: the triggers of the objects that apply just fail.
	redis := "  triggers:\n    - type: redis\n      metadata:\n        address: 127.0.0.1:1\n        listName: l\n"
	so := func(name, spec string) string {
		return "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: " + name + "\nspec:\n  scaleTargetRef:\n    name: ghost\n" + spec
	}
	sj := func(name, spec string) string {
		return "apiVersion: keda.sh/v1alpha1\nkind: ScaledJob\nmetadata:\n  name: " + name + "\nspec:\n  jobTargetRef:\n    template:\n      spec:\n        restartPolicy: Never\n        containers:\n          - name: job\n            image: job\n" + spec
	}
	ta := func(name, spec string) string {
		return "apiVersion: keda.sh/v1alpha1\nkind: TriggerAuthentication\nmetadata:\n  name: " + name + "\nspec:\n" + spec
	}

	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{"pollingInterval 0", so("polling", "  pollingInterval: 0\n"+redis),
			[]string{"spec.pollingInterval", "should be greater than or equal to 1"}},
		{"maxReplicaCount 0", so("max", "  maxReplicaCount: 0\n"+redis),
			[]string{"spec.maxReplicaCount", "should be greater than or equal to 1"}},
		{"minReplicaCount above maxReplicaCount", so("minmax", "  minReplicaCount: 5\n  maxReplicaCount: 2\n"+redis),
			[]string{"spec.minReplicaCount", "must not be greater than maxReplicaCount", "lower minReplicaCount or raise maxReplicaCount"}},
		{"minReplicaCount above the default maxReplicaCount", so("mindefault", "  minReplicaCount: 101\n"+redis),
			[]string{"spec.minReplicaCount", "100 when maxReplicaCount is omitted"}},
		{"no triggers", so("none", "  triggers: []\n"),
			[]string{"spec.triggers", "should have at least 1 items"}},
		{"a trigger without a type", so("untyped", "  triggers:\n    - type: \"\"\n      metadata: {}\n"),
			[]string{"spec.triggers[0].type", "should be at least 1 chars long"}},
		{"ScaledJob with a negative failedJobsHistoryLimit", sj("history", "  failedJobsHistoryLimit: -1\n"+redis),
			[]string{"spec.failedJobsHistoryLimit", "should be greater than or equal to 0"}},
		{"TriggerAuthentication with a Vault and no secrets", ta("vault", "  hashiCorpVault:\n    address: http://vault:8200\n    authentication: token\n    credential:\n      token: t\n    secrets: []\n"),
			[]string{"spec.hashiCorpVault.secrets", "should have at least 1 items"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.env.ApplyYAML(ctx, ns, tc.doc)
			if err == nil {
				t.Fatalf("the API server applied:\n%s", tc.doc)
			}
			if !apierrors.IsInvalid(err) || strings.Contains(err.Error(), "denied the request") {
				t.Fatalf("refused, but not by the CRD schema: %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the refusal lacks %q:\n%v", w, err)
				}
			}
		})
	}

	// At the edge of each rule, and what KEDA's CRDs accept: no spec on a ScaledJob, an oauth2
	// without type (defaulted) or clientSecret.
	for name, doc := range map[string]string{
		"ScaledObject at the bounds": so("edges", "  pollingInterval: 1\n  cooldownPeriod: 0\n  initialCooldownPeriod: 0\n  idleReplicaCount: 0\n  minReplicaCount: 100\n"+
			"  fallback:\n    failureThreshold: 0\n    replicas: 0\n"+redis+"      authenticationRef:\n        name: oauth\n        kind: TriggerAuthentication\n"),
		"ScaledObject with min equal to max":  so("equal", "  minReplicaCount: 3\n  maxReplicaCount: 3\n"+redis),
		"ScaledJob at the bounds":             sj("edges", "  pollingInterval: 1\n  minReplicaCount: 0\n  maxReplicaCount: 1\n  successfulJobsHistoryLimit: 0\n  failedJobsHistoryLimit: 0\n"+redis),
		"ScaledJob without a spec":            "apiVersion: keda.sh/v1alpha1\nkind: ScaledJob\nmetadata:\n  name: bare\n",
		"oauth2 without type or clientSecret": ta("oauth", "  oauth2:\n    clientId: app\n    tokenUrl: https://auth.example/token\n"),
		"Vault secret of type secretV2":       ta("vaultv2", "  hashiCorpVault:\n    address: http://vault:8200\n    authentication: token\n    credential:\n      token: t\n    secrets:\n      - parameter: password\n        path: secret/data/app\n        key: password\n        type: secretV2\n"),
	} {
		if err := s.env.ApplyYAML(ctx, ns, doc); err != nil {
			t.Errorf("%s was refused, KEDA's CRDs accept it: %v", name, err)
		}
	}
	// The ScaledJob without a spec reaches the controller, which reports what it lacks.
	eventually(t, 30*time.Second, "ScaledJob bare Ready False naming spec.jobTargetRef", func(ctx context.Context) (bool, string) {
		var bare kedav1alpha1.ScaledJob
		if err := s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "bare"}, &bare); err != nil {
			return false, err.Error()
		}
		c := bare.Status.Conditions.Get(kedav1alpha1.ConditionReady)
		return c != nil && c.Status == metav1.ConditionFalse && strings.Contains(c.Message, "spec.jobTargetRef"), fmt.Sprintf("%+v", c)
	})
	var oauth kedav1alpha1.TriggerAuthentication
	if err := s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "oauth"}, &oauth); err != nil {
		t.Fatal(err)
	}
	if o := oauth.Spec.OAuth2; o == nil || o.Type != "clientCredentials" {
		t.Errorf("oauth2.type of the stored TriggerAuthentication is not defaulted to clientCredentials: %+v", o)
	}
}
