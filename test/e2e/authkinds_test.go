package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	oauth2server "github.com/kedactl/kedactl/test/servers/oauth2"
	vaultserver "github.com/kedactl/kedactl/test/servers/vault"
)

// TestAuthKinds: each TriggerAuthentication kind beyond Secrets, ConfigMaps and env gives a real
// trigger its credential, the Deployment goes 0 -> 1, a credential changed at its source takes
// effect without restarting the operator, and no credential appears in the operator's log, the
// namespace's events or the ScaledObject's status.
func TestAuthKinds(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	t.Run("filePath", s.testFilePathAuth)
	t.Run("oauth2", s.testOAuth2Auth)
	t.Run("hashiCorpVault", s.testVaultAuth)
}

// redisAuthScaledObject is a ScaledObject whose redis trigger takes its password from the
// authentication.
func (s *suite) redisAuthScaledObject(name, list, authName, authKind string) string {
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
    - type: redis
      metadata:
        address: %[2]s
        listName: %[3]s
        listLength: "2"
      authenticationRef:
        name: %[4]s
        kind: %[5]s
`, name, s.redis.Addr, list, authName, authKind)
}

// pushJobs puts n items on a Redis list of the shared server.
func (s *suite) pushJobs(t *testing.T, list string, n int) {
	t.Helper()
	rc := s.redis.Client()
	defer rc.Close()
	for i := range n {
		if err := rc.RPush(context.Background(), list, fmt.Sprint(i)).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// checkNoLeak fails when any of secrets (named for the message) appears in the operator's log,
// the events of ns or the status of the named ScaledObjects.
func (s *suite) checkNoLeak(t *testing.T, ns string, objects []string, secrets map[string]string) {
	t.Helper()
	ctx := context.Background()
	var places []string
	logData, err := os.ReadFile(s.env.OperatorLog)
	if err != nil {
		t.Fatal(err)
	}
	if len(logData) == 0 {
		t.Fatal("the operator log is empty: the scan proves nothing")
	}
	places = append(places, "operator log", string(logData))
	events, err := s.env.Kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events.Items {
		places = append(places, "event "+ev.Reason+" on "+ev.InvolvedObject.Name, ev.Message)
	}
	for _, name := range objects {
		so, err := s.scaledObject(ctx, ns, name)
		if err != nil {
			t.Fatal(err)
		}
		status, _ := json.Marshal(so.Status)
		places = append(places, "status of "+name, string(status))
	}
	for what, secret := range secrets {
		if secret == "" {
			t.Fatalf("secret %s is empty: the scan proves nothing", what)
		}
		for i := 0; i < len(places); i += 2 {
			if strings.Contains(places[i+1], secret) {
				t.Errorf("the %s appears in the %s", what, places[i])
			}
		}
	}
}

// testFilePathAuth: a ClusterTriggerAuthentication reads the Redis password from a JSON file under
// the operator's --filepath-auth-root-path. The file first holds a wrong password (the trigger
// fails), then the right one: the operator picks it up at its next resync and activates.
func (s *suite) testFilePathAuth(t *testing.T) {
	t.Parallel()
	ns := s.newNamespace(t, "authfile")
	list := "file-" + ns
	dir := filepath.Join(s.env.FilePathAuthRoot, ns)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	wrong := "wrong-file-password-" + ns
	write := func(password string) {
		t.Helper()
		data, _ := json.Marshal(map[string]string{"password": password})
		// Write then rename, as a kubelet-mounted Secret changes: the operator never reads half a file.
		tmp := filepath.Join(dir, ".redis.json.tmp")
		if err := os.WriteFile(tmp, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "redis.json")); err != nil {
			t.Fatal(err)
		}
	}
	write(wrong)
	cta := "file-" + ns
	s.apply(t, "", fmt.Sprintf("apiVersion: keda.sh/v1alpha1\nkind: ClusterTriggerAuthentication\nmetadata:\n  name: %s\nspec:\n  filePath: %s/redis.json\n", cta, ns))
	t.Cleanup(func() {
		_ = s.env.Client.Delete(context.Background(), &kedav1alpha1.ClusterTriggerAuthentication{ObjectMeta: metav1.ObjectMeta{Name: cta}})
	})
	s.apply(t, ns, deployment("worker", 0, nil))
	s.apply(t, ns, s.redisAuthScaledObject("worker", list, cta, "ClusterTriggerAuthentication"))
	s.pushJobs(t, list, 3)
	s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScalerFailed)
	s.holdReplicas(t, ns, "worker", 0, time.Second)

	write(redisPassword)
	s.waitReplicas(t, ns, "worker", 1, 60*time.Second)
	s.checkNoLeak(t, ns, []string{"worker"}, map[string]string{"Redis password": redisPassword, "wrong password from the file": wrong})
}

// testOAuth2Auth: a metrics-api trigger with authMode oauth reads an API that requires a bearer
// token from a local OAuth2 server; the TriggerAuthentication's oauth2 gives it the client
// credentials (secret from a Secret, scopes, tokenUrlParams), and the token is reused across polls
// and resyncs rather than requested for each.
func (s *suite) testOAuth2Auth(t *testing.T) {
	t.Parallel()
	ns := s.newNamespace(t, "authoauth")
	clientSecret := "oauth-client-secret-" + ns
	auth := oauth2server.Start(t, oauth2server.Options{ClientID: "keda-" + ns, ClientSecret: clientSecret,
		Scopes: []string{"queue.read"}, EndpointParams: map[string]string{"audience": "queue-api"}})
	var depth, served atomic.Int64
	api := httptest.NewServer(auth.Require(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		served.Add(1)
		fmt.Fprintf(w, `{"queue": {"depth": %d}}`, depth.Load())
	})))
	defer api.Close()

	s.apply(t, ns, fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: oauth\nstringData:\n  client-secret: %s\n", clientSecret))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: oauth
spec:
  oauth2:
    type: clientCredentials
    clientId: keda-%s
    clientSecret:
      valueFrom:
        secretKeyRef:
          name: oauth
          key: client-secret
    tokenUrl: %s
    scopes:
      - queue.read
    tokenUrlParams:
      audience: queue-api
`, ns, auth.TokenURL))
	s.apply(t, ns, deployment("consumer", 0, nil))
	s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: consumer
spec:
  scaleTargetRef:
    name: consumer
  pollingInterval: 1
  cooldownPeriod: 5
  maxReplicaCount: 1
  triggers:
    - type: metrics-api
      metadata:
        url: %s
        valueLocation: queue.depth
        targetValue: "2"
        authMode: oauth
      authenticationRef:
        name: oauth
`, api.URL))
	s.waitReady(t, ns, "consumer", metav1.ConditionTrue)
	eventually(t, 30*time.Second, "the API to be read with a token", func(context.Context) (bool, string) {
		return served.Load() >= 3, fmt.Sprintf("%d authorised reads, %d tokens issued, %d token requests refused", served.Load(), auth.Issued(), auth.Refused())
	})
	s.holdReplicas(t, ns, "consumer", 0, time.Second)
	depth.Store(3)
	s.waitReplicas(t, ns, "consumer", 1, 60*time.Second)
	// Polled every second and resynced every 3 seconds: a token per poll or per resync would
	// show here as dozens.
	if n := auth.Issued(); n < 1 || n > 2 || auth.Refused() > 0 {
		t.Errorf("the token server issued %d tokens and refused %d requests for %d reads: want one token, reused", n, auth.Refused(), served.Load())
	}
	secrets := map[string]string{"client secret": clientSecret}
	for i, tok := range auth.Tokens() {
		secrets[fmt.Sprintf("access token %d", i)] = tok
	}
	s.checkNoLeak(t, ns, []string{"consumer"}, secrets)
}

// testVaultAuth: a real Vault dev server holds the Redis password. With token authentication
// (a token limited to a read policy) the password comes from KV version 2 and is rotated in Vault
// from a wrong to the right value; with kubernetes authentication the operator logs in with a
// token of a ServiceAccount of the ScaledObject's namespace (TokenRequest, audience vault), which
// Vault verifies with a TokenReview against the local apiserver, and reads KV version 1.
func (s *suite) testVaultAuth(t *testing.T) {
	t.Parallel()
	srv := vaultserver.Start(t)
	ctx := context.Background()
	must := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(t, srv.Mount(ctx, "kv1", "kv", map[string]string{"version": "1"}))
	must(t, srv.Policy(ctx, "redis-read", `
path "secret/data/redis/*" { capabilities = ["read"] }
path "kv1/redis/*" { capabilities = ["read"] }
`))
	root, err := srv.Client()
	must(t, err)

	t.Run("token", func(t *testing.T) {
		t.Parallel()
		ns := s.newNamespace(t, "authvault")
		list := "vault-" + ns
		tok, err := root.Auth().Token().CreateWithContext(ctx, &vaultapi.TokenCreateRequest{Policies: []string{"redis-read"}, TTL: "1h", NoParent: true})
		must(t, err)
		vaultToken := tok.Auth.ClientToken
		wrong := "wrong-vault-password-" + ns
		must(t, srv.Write(ctx, "secret/data/redis/"+ns, map[string]any{"data": map[string]any{"password": wrong}}))
		s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: vault
spec:
  hashiCorpVault:
    address: %s
    authentication: token
    credential:
      token: %s
    secrets:
      - parameter: password
        path: secret/data/redis/%s
        key: password
        type: secretV2
`, srv.Addr, vaultToken, ns))
		s.apply(t, ns, deployment("worker", 0, nil))
		s.apply(t, ns, s.redisAuthScaledObject("worker", list, "vault", "TriggerAuthentication"))
		s.pushJobs(t, list, 3)
		s.waitEvent(t, ns, "worker", kedav1alpha1.EventKEDAScalerFailed)
		s.holdReplicas(t, ns, "worker", 0, time.Second)

		must(t, srv.Write(ctx, "secret/data/redis/"+ns, map[string]any{"data": map[string]any{"password": redisPassword}}))
		s.waitReplicas(t, ns, "worker", 1, 60*time.Second)
		s.checkNoLeak(t, ns, []string{"worker"}, map[string]string{"Redis password": redisPassword, "wrong password in Vault": wrong,
			"Vault token": vaultToken, "Vault root token": srv.RootToken})
	})

	t.Run("kubernetes", func(t *testing.T) {
		t.Parallel()
		ns := s.newNamespace(t, "authvaultk8s")
		list := "vaultk8s-" + ns
		// Vault checks the operator's ServiceAccount tokens with TokenReview, as a reviewer allowed
		// to (system:auth-delegator).
		s.apply(t, ns, "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: vault-reviewer\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: reader\n")
		crb := "vault-reviewer-" + ns
		s.apply(t, "", fmt.Sprintf(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: %s
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:auth-delegator
subjects:
  - kind: ServiceAccount
    name: vault-reviewer
    namespace: %s
`, crb, ns))
		t.Cleanup(func() {
			_ = s.env.Kube.RbacV1().ClusterRoleBindings().Delete(context.Background(), crb, metav1.DeleteOptions{})
		})
		reviewer, err := s.env.Kube.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "vault-reviewer",
			&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}, metav1.CreateOptions{})
		must(t, err)
		cfg := s.env.Cluster.RestConfig()
		caPEM := cfg.CAData
		if len(caPEM) == 0 {
			caPEM, err = os.ReadFile(cfg.CAFile)
			must(t, err)
		}
		mount := "k8s-" + ns
		must(t, srv.KubernetesAuth(ctx, mount, cfg.Host, string(caPEM), reviewer.Status.Token))
		must(t, srv.Write(ctx, "auth/"+mount+"/role/reader", map[string]any{
			"bound_service_account_names": "reader", "bound_service_account_namespaces": ns,
			"audience": "vault", "token_policies": "redis-read", "token_ttl": "1h",
		}))
		must(t, srv.Write(ctx, "kv1/redis/"+ns, map[string]any{"password": redisPassword}))
		s.apply(t, ns, fmt.Sprintf(`apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: vault
spec:
  hashiCorpVault:
    address: %s
    authentication: kubernetes
    mount: %s
    role: reader
    credential:
      serviceAccountName: reader
    secrets:
      - parameter: password
        path: kv1/redis/%s
        key: password
        type: secret
`, srv.Addr, mount, ns))
		s.apply(t, ns, deployment("worker", 0, nil))
		s.apply(t, ns, s.redisAuthScaledObject("worker", list, "vault", "TriggerAuthentication"))
		s.waitReady(t, ns, "worker", metav1.ConditionTrue)
		s.holdReplicas(t, ns, "worker", 0, time.Second)
		s.pushJobs(t, list, 3)
		s.waitReplicas(t, ns, "worker", 1, 60*time.Second)
		s.checkNoLeak(t, ns, []string{"worker"}, map[string]string{"Redis password": redisPassword, "Vault root token": srv.RootToken,
			"reviewer token": reviewer.Status.Token})
	})
}
