package commands

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// TestCheckAuthenticationKinds: `kubectl keda check` refuses what the webhook and the operator
// refuse for filePath, oauth2 and hashiCorpVault, with the same field and fix.
func TestCheckAuthenticationKinds(t *testing.T) {
	manifest := `apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: namespaced-file
spec:
  filePath: team-a/redis.json
---
apiVersion: keda.sh/v1alpha1
kind: ClusterTriggerAuthentication
metadata:
  name: cluster-file
spec:
  filePath: team-a/redis.json
---
apiVersion: keda.sh/v1alpha1
kind: ClusterTriggerAuthentication
metadata:
  name: escaping-file
spec:
  filePath: ../../var/run/secrets/kubernetes.io/serviceaccount/token
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: oauth
spec:
  oauth2:
    type: clientCredentials
    clientId: app
    tokenUrl: https://auth.example/token
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: vault
spec:
  hashiCorpVault:
    address: https://vault.example:8200
    authentication: kubernetes
    secrets:
      - parameter: password
        path: secret/data/redis
        key: password
`
	path := filepath.Join(t.TempDir(), "auth.yaml")
	if err := os.WriteFile(path, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	root := NewRootCommand(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, nil)
	root.SetArgs([]string{"check", "-f", path})
	err := root.Execute()
	if err == nil || !strings.Contains(err.Error(), "4 object(s) failed") {
		t.Fatalf("want 4 failed objects, got %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"spec.filePath: Forbidden: only a ClusterTriggerAuthentication may read a file",
		"relative to the operator's --filepath-auth-root-path",
		"spec.oauth2.clientSecret: Required value",
		"spec.hashiCorpVault.role: Required value",
		"spec.hashiCorpVault.mount: Required value",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check output does not say %q:\n%s", want, out.String())
		}
	}
}
