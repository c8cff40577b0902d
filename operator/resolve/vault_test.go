package resolve

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	vaultserver "github.com/kedactl/kedactl/test/servers/vault"
)

const vaultSecret = "vault-s3cret-value"

// TestVault runs hashiCorpVault against a real Vault dev server: KV version 2 (type secretV2 and
// type "" telling the versions apart) and version 1, a secret changed in Vault read again at the
// next resolve, PKI certificates issued once and reused, and errors (wrong token, wrong path,
// missing key, unreachable Vault, kubernetes login with a token Vault refuses) that never show
// the token or a secret.
func TestVault(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Vault server")
	}
	srv := vaultserver.Start(t)
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(srv.Write(ctx, "secret/data/redis", map[string]any{"data": map[string]any{"password": vaultSecret, "port": 6379}}))
	must(srv.Mount(ctx, "kv1", "kv", map[string]string{"version": "1"}))
	must(srv.Write(ctx, "kv1/redis", map[string]any{"password": "v1-" + vaultSecret}))
	must(srv.Mount(ctx, "pki", "pki", nil))
	must(srv.Write(ctx, "pki/root/generate/internal", map[string]any{"common_name": "kedactl test CA", "ttl": "24h"}))
	must(srv.Write(ctx, "pki/roles/scaler", map[string]any{"allowed_domains": "example.com", "allow_subdomains": true, "max_ttl": "1h"}))
	jwtFile := filepath.Join(t.TempDir(), "token")
	must(os.WriteFile(jwtFile, []byte("not-a-service-account-jwt"), 0o600))

	vault := func(mutate func(v *kedav1alpha1.HashiCorpVault), secrets ...kedav1alpha1.HashiCorpVaultSecret) kedav1alpha1.TriggerAuthenticationSpec {
		v := &kedav1alpha1.HashiCorpVault{Address: srv.Addr, Authentication: "token", Credential: &kedav1alpha1.HashiCorpVaultCredential{Token: srv.RootToken}, Secrets: secrets}
		if mutate != nil {
			mutate(v)
		}
		return kedav1alpha1.TriggerAuthenticationSpec{HashiCorpVault: v}
	}
	pw := func(typ, path, key string) kedav1alpha1.HashiCorpVaultSecret {
		return kedav1alpha1.HashiCorpVaultSecret{Parameter: "password", Type: typ, Path: path, Key: key}
	}
	pki := func(param, key string) kedav1alpha1.HashiCorpVaultSecret {
		return kedav1alpha1.HashiCorpVaultSecret{Parameter: param, Type: "pki", Path: "pki/issue/scaler", Key: key,
			PkiData: kedav1alpha1.VaultPkiData{CommonName: "scaler.example.com", TTL: "30m"}}
	}
	specs := map[string]kedav1alpha1.TriggerAuthenticationSpec{
		"v2":        vault(nil, pw("secretV2", "secret/data/redis", "password"), kedav1alpha1.HashiCorpVaultSecret{Parameter: "port", Type: "secretV2", Path: "secret/data/redis", Key: "port"}),
		"v2-guess":  vault(nil, pw("", "secret/data/redis", "password")),
		"v1":        vault(nil, pw("secret", "kv1/redis", "password")),
		"v1-guess":  vault(nil, pw("", "kv1/redis", "password")),
		"pki":       vault(nil, pki("cert", "certificate"), pki("key", "private_key"), pki("ca", "issuing_ca")),
		"bad-token": vault(func(v *kedav1alpha1.HashiCorpVault) { v.Credential.Token = "wrong-" + srv.RootToken }, pw("", "secret/data/redis", "password")),
		"bad-path":  vault(nil, pw("secretV2", "secret/data/nothing", "password")),
		"bad-key":   vault(nil, pw("secretV2", "secret/data/redis", "nope")),
		"v1-as-v2":  vault(nil, pw("secretV2", "kv1/redis", "password")),
		"down":      vault(func(v *kedav1alpha1.HashiCorpVault) { v.Address = "http://127.0.0.1:1" }, pw("", "secret/data/redis", "password")),
		"k8s-refused": vault(func(v *kedav1alpha1.HashiCorpVault) {
			v.Authentication, v.Mount, v.Role, v.Credential = "kubernetes", "kubernetes", "reader", &kedav1alpha1.HashiCorpVaultCredential{ServiceAccount: jwtFile}
		}, pw("", "secret/data/redis", "password")),
	}
	var objs []client.Object
	for name, spec := range specs {
		objs = append(objs, &kedav1alpha1.TriggerAuthentication{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: name}, Spec: spec})
	}
	r := &Resolver{Reader: fakeReader(t, objs...), Vault: &Vault{}}
	resolve := func(name string) (map[string]string, error) {
		return r.AuthParams(ctx, "app", &kedav1alpha1.AuthenticationRef{Name: name}, noEnv)
	}

	for _, tc := range []struct {
		name    string
		want    map[string]string
		wantErr string
	}{
		{name: "v2", want: map[string]string{"password": vaultSecret, "port": "6379"}},
		{name: "v2-guess", want: map[string]string{"password": vaultSecret}},
		{name: "v1", want: map[string]string{"password": "v1-" + vaultSecret}},
		{name: "v1-guess", want: map[string]string{"password": "v1-" + vaultSecret}},
		{name: "bad-token", wantErr: "permission denied"},
		{name: "bad-path", wantErr: "Vault has no secret at secret/data/nothing"},
		{name: "bad-key", wantErr: `the secret has no key "nope"`},
		{name: "v1-as-v2", wantErr: "is not a KV version 2 secret"},
		{name: "down", wantErr: "127.0.0.1:1"},
		{name: "k8s-refused", wantErr: `failed to log in to ` + srv.Addr + ` with the kubernetes auth method at auth/kubernetes as role "reader"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := resolve(tc.name)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want it to mention %q", err, tc.wantErr)
				}
				for _, secret := range []string{srv.RootToken, vaultSecret, "not-a-service-account-jwt"} {
					if strings.Contains(err.Error(), secret) {
						t.Fatalf("the error shows a secret: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("parameter %s is not the value in Vault", k)
				}
			}
		})
	}

	t.Run("a secret changed in Vault is read at the next resolve", func(t *testing.T) {
		must(srv.Write(ctx, "secret/data/redis", map[string]any{"data": map[string]any{"password": "rotated", "port": 6380}}))
		got, err := resolve("v2")
		must(err)
		if got["password"] != "rotated" || got["port"] != "6380" {
			t.Errorf("after the change the parameters are not the new values")
		}
	})

	t.Run("pki issues once and reuses the certificate", func(t *testing.T) {
		first, err := resolve("pki")
		must(err)
		if !strings.Contains(first["cert"], "BEGIN CERTIFICATE") || !strings.Contains(first["key"], "PRIVATE KEY") || !strings.Contains(first["ca"], "BEGIN CERTIFICATE") {
			t.Fatalf("pki parameters are not PEM: cert %d, key %d, ca %d bytes", len(first["cert"]), len(first["key"]), len(first["ca"]))
		}
		second, err := resolve("pki")
		must(err)
		if second["cert"] != first["cert"] || second["key"] != first["key"] {
			t.Error("a second resolve issued a new certificate: the scaler would be rebuilt every resync")
		}
	})
}
