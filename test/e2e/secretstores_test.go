package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	kvserver "github.com/kedactl/kedactl/test/servers/azurekeyvault"
)

// bearerAPI is a metrics API on 127.0.0.1 that answers {"depth": N} to requests bearing token
// and 401 to any other.
type bearerAPI struct {
	*httptest.Server
	depth, served, refused atomic.Int64
}

func startBearerAPI(t *testing.T, token string) *bearerAPI {
	t.Helper()
	a := &bearerAPI{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			a.refused.Add(1)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		a.served.Add(1)
		fmt.Fprintf(w, `{"depth": %d}`, a.depth.Load())
	}))
	t.Cleanup(a.Close)
	return a
}

// bearerScaledObject is a ScaledObject whose metrics-api trigger takes its bearer token from the
// named TriggerAuthentication.
func bearerScaledObject(name, url, auth string) string {
	return fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: %[1]s
spec:
  scaleTargetRef:
    name: %[1]s
  pollingInterval: 1
  cooldownPeriod: 5
  maxReplicaCount: 1
  triggers:
    - type: metrics-api
      metadata:
        url: %[2]s
        valueLocation: depth
        targetValue: "2"
        authMode: bearer
      authenticationRef:
        name: %[3]s
`, name, url, auth)
}

// TestTriggerAuthAWSSecretManager: a TriggerAuthentication's awsSecretManager reads a metrics-api
// trigger's bearer token from Secrets Manager (the fake, reached through the operator's
// AWS_ENDPOINT_URL_SECRETS_MANAGER), as a key of the secret's JSON, signing with an access key
// pair held in a Secret. The secret first holds a wrong token (the trigger fails), then a new
// version holds the right one: the operator reads it at its next resync, without a restart, and
// scales 0 -> 1. No credential appears in the operator's log, the events or the status.
func TestTriggerAuthAWSSecretManager(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "authawssm")
	token := "aws-sm-bearer-" + ns
	wrong := "aws-sm-wrong-" + ns
	api := startBearerAPI(t, token)
	api.depth.Store(3)
	secretName := "e2e/" + ns + "/api"
	s.secretsManager.PutSecret(secretName, fmt.Sprintf(`{"token": %q, "user": "app"}`, wrong))

	s.apply(t, ns, fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: aws\nstringData:\n  AWS_ACCESS_KEY_ID: %s\n  AWS_SECRET_ACCESS_KEY: %s\n",
		secretsManagerKeyID, secretsManagerSecret))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: aws-sm
spec:
  awsSecretManager:
    region: us-east-1
    credentials:
      accessKey:
        valueFrom:
          secretKeyRef:
            name: aws
            key: AWS_ACCESS_KEY_ID
      accessSecretKey:
        valueFrom:
          secretKeyRef:
            name: aws
            key: AWS_SECRET_ACCESS_KEY
    secrets:
      - parameter: bearerToken
        name: %s
        versionStage: AWSCURRENT
        secretKey: token
`, secretName))
	s.apply(t, ns, deployment("consumer", 0, nil))
	s.apply(t, ns, bearerScaledObject("consumer", api.URL, "aws-sm"))
	s.waitEvent(t, ns, "consumer", kedav1alpha1.EventKEDAScalerFailed)
	s.holdReplicas(t, ns, "consumer", 0, time.Second)
	if api.refused.Load() == 0 {
		t.Errorf("the API refused no request: the wrong token never reached it")
	}

	s.secretsManager.PutSecret(secretName, fmt.Sprintf(`{"token": %q, "user": "app"}`, token))
	s.waitReplicas(t, ns, "consumer", 1, 60*time.Second)
	var signed int
	for _, r := range s.secretsManager.Requests() {
		if r.SecretID == secretName {
			if r.AccessKeyID != secretsManagerKeyID || r.Region != "us-east-1" || r.VersionStage != "AWSCURRENT" {
				t.Errorf("request %+v: want it signed by %s for us-east-1, stage AWSCURRENT", r, secretsManagerKeyID)
			}
			signed++
		}
	}
	if signed == 0 {
		t.Error("the fake saw no request for the secret")
	}
	s.checkNoLeak(t, ns, []string{"consumer"}, map[string]string{"bearer token": token, "wrong bearer token": wrong,
		"AWS secret access key": secretsManagerSecret})
}

// TestTriggerAuthAzureKeyVault: a TriggerAuthentication's azureKeyVault reads a metrics-api
// trigger's bearer token from Key Vault (the fake) as a service principal whose client secret is
// in a Secret, with a token of the Microsoft Entra token endpoint that cloud Private names (the
// fake too). The vault first holds a wrong token, then a new version the right one: the operator
// reads it at its next resync and scales 0 -> 1, with one Entra token reused throughout. No
// credential appears in the operator's log, the events or the status.
func TestTriggerAuthAzureKeyVault(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "authazurekv")
	token := "azure-kv-bearer-" + ns
	wrong := "azure-kv-wrong-" + ns
	clientSecret := "azure-sp-secret-" + ns
	kv := kvserver.Start(kvserver.Options{TenantID: "tenant-" + ns, ClientID: "client-" + ns, ClientSecret: clientSecret, Resource: "https://vault.azure.net"})
	t.Cleanup(kv.Close)
	kv.SetSecret("api-token", wrong)
	api := startBearerAPI(t, token)
	api.depth.Store(3)

	s.apply(t, ns, fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: sp\nstringData:\n  clientSecret: %s\n", clientSecret))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: azure-kv
spec:
  azureKeyVault:
    vaultUri: %[1]s
    credentials:
      clientId: client-%[2]s
      tenantId: tenant-%[2]s
      clientSecret:
        valueFrom:
          secretKeyRef:
            name: sp
            key: clientSecret
    cloud:
      type: Private
      activeDirectoryEndpoint: %[1]s/
      keyVaultResourceURL: https://vault.azure.net
    secrets:
      - parameter: bearerToken
        name: api-token
`, kv.URL, ns))
	s.apply(t, ns, deployment("consumer", 0, nil))
	s.apply(t, ns, bearerScaledObject("consumer", api.URL, "azure-kv"))
	s.waitEvent(t, ns, "consumer", kedav1alpha1.EventKEDAScalerFailed)
	s.holdReplicas(t, ns, "consumer", 0, time.Second)

	kv.SetSecret("api-token", token)
	s.waitReplicas(t, ns, "consumer", 1, 60*time.Second)
	if n := len(kv.Issued()); n != 1 {
		t.Errorf("the token endpoint issued %d tokens over %d secret reads: want one, reused", n, len(kv.SecretRequests()))
	}
	for _, r := range kv.SecretRequests() {
		if r.Status != http.StatusOK {
			t.Errorf("secret request %+v was refused", r)
		}
	}
	secrets := map[string]string{"bearer token": token, "wrong bearer token": wrong, "client secret": clientSecret}
	for i, tok := range kv.Issued() {
		secrets[fmt.Sprintf("Entra access token %d", i)] = tok
	}
	s.checkNoLeak(t, ns, []string{"consumer"}, secrets)
}

// TestTriggerAuthGCPSecretManager: a TriggerAuthentication's gcpSecretManager reads a metrics-api
// trigger's bearer token from Secret Manager (the fake, reached through the operator's
// CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER) as the service account whose JSON key is in a
// Secret; the key's token_uri names the fake's token endpoint, which checks the signed JWT. The
// latest version first holds a wrong token, then a new version the right one: the operator reads
// it at its next resync and scales 0 -> 1, with one access token reused throughout. No
// credential appears in the operator's log, the events or the status.
func TestTriggerAuthGCPSecretManager(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	ns := s.newNamespace(t, "authgcpsm")
	token := "gcp-sm-bearer-" + ns
	wrong := "gcp-sm-wrong-" + ns
	project := "proj-" + ns
	key := s.gcpSecrets.NewServiceAccount(project, "keda")
	s.gcpSecrets.AddVersion(project, "api-token", wrong)
	api := startBearerAPI(t, token)
	api.depth.Store(3)

	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gcp"}, StringData: map[string]string{"key.json": key}}
	if err := s.env.Client.Create(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	s.apply(t, ns, `apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: gcp-sm
spec:
  gcpSecretManager:
    credentials:
      clientSecret:
        valueFrom:
          secretKeyRef:
            name: gcp
            key: key.json
    secrets:
      - parameter: bearerToken
        id: api-token
`)
	s.apply(t, ns, deployment("consumer", 0, nil))
	s.apply(t, ns, bearerScaledObject("consumer", api.URL, "gcp-sm"))
	s.waitEvent(t, ns, "consumer", kedav1alpha1.EventKEDAScalerFailed)
	s.holdReplicas(t, ns, "consumer", 0, time.Second)

	s.gcpSecrets.AddVersion(project, "api-token", token)
	s.waitReplicas(t, ns, "consumer", 1, 60*time.Second)
	var issued []string
	seen := 0
	for _, r := range s.gcpSecrets.Requests() {
		if r.Project == project {
			seen++
			if r.Account != "keda@"+project+".iam.gserviceaccount.com" || r.Secret != "api-token" || r.Version != "latest" {
				t.Errorf("request %+v: want the key's account reading api-token version latest", r)
			}
		}
	}
	if seen == 0 {
		t.Error("the fake saw no request for the project's secret")
	}
	issued = s.gcpSecrets.Issued()
	secrets := map[string]string{"bearer token": token, "wrong bearer token": wrong, "service account private key": privateKeyLine(t, key)}
	for i, tok := range issued {
		secrets[fmt.Sprintf("Google access token %d", i)] = tok
	}
	s.checkNoLeak(t, ns, []string{"consumer"}, secrets)
}

// privateKeyLine is a line from the middle of a key file's PEM private key, which a leak of the
// key would show.
func privateKeyLine(t *testing.T, keyJSON string) string {
	t.Helper()
	var k struct {
		PrivateKey string `json:"private_key"`
	}
	if err := json.Unmarshal([]byte(keyJSON), &k); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(k.PrivateKey, "\n")
	return lines[len(lines)/2]
}
