package resolve

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	kvfake "github.com/kedactl/kedactl/test/servers/azurekeyvault"
)

func TestAzureKeyVault(t *testing.T) {
	const clientSecret = "sp-client-s3cret"
	srv := kvfake.Start(kvfake.Options{TenantID: "tenant-1", ClientID: "client-1", ClientSecret: clientSecret,
		FederatedToken: "federated-s3cret", Resource: "https://vault.private.test"})
	defer srv.Close()
	v1 := srv.SetSecret("api-token", "token-one-s3cret")
	srv.SetSecret("api-token", "token-two-s3cret")
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("federated-s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"AZURE_CLIENT_ID": "client-1", "AZURE_TENANT_ID": "tenant-1", "AZURE_FEDERATED_TOKEN_FILE": tokenFile}
	kv := &AzureKeyVault{Getenv: func(k string) string { return env[k] }}
	r := &Resolver{Azure: kv, Reader: authReader(t,
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "sp"}, Data: map[string][]byte{"secret": []byte(clientSecret), "wrong": []byte("nope-s3cret")}})}
	private := &kedav1alpha1.AzureKeyVaultCloudInfo{Type: "Private", ActiveDirectoryEndpoint: srv.URL + "/", KeyVaultResourceURL: "https://vault.private.test"}
	creds := &kedav1alpha1.AzureKeyVaultCredentials{ClientID: "client-1", TenantID: "tenant-1", ClientSecret: secretRef("sp", "secret")}
	sensitive := []string{"s3cret"}

	for _, tc := range []struct {
		name    string
		spec    kedav1alpha1.AzureKeyVault
		want    map[string]string
		wantErr []string
	}{
		{name: "latest and a version", spec: kedav1alpha1.AzureKeyVault{VaultURI: srv.URL, Credentials: creds, Cloud: private,
			Secrets: []kedav1alpha1.AzureKeyVaultSecret{{Parameter: "latest", Name: "api-token"}, {Parameter: "first", Name: "api-token", Version: v1}}},
			want: map[string]string{"latest": "token-two-s3cret", "first": "token-one-s3cret"}},
		{name: "cloud type is case-insensitive", spec: kedav1alpha1.AzureKeyVault{VaultURI: srv.URL + "/", Credentials: creds,
			Cloud:   &kedav1alpha1.AzureKeyVaultCloudInfo{Type: "private", ActiveDirectoryEndpoint: srv.URL, KeyVaultResourceURL: "https://vault.private.test/"},
			Secrets: []kedav1alpha1.AzureKeyVaultSecret{{Parameter: "p", Name: "api-token"}}},
			want: map[string]string{"p": "token-two-s3cret"}},
		{name: "azure-workload", spec: kedav1alpha1.AzureKeyVault{VaultURI: srv.URL, Cloud: private, PodIdentity: &kedav1alpha1.AuthPodIdentity{Provider: "azure-workload"},
			Secrets: []kedav1alpha1.AzureKeyVaultSecret{{Parameter: "p", Name: "api-token"}}},
			want: map[string]string{"p": "token-two-s3cret"}},
		{name: "azure-workload with another identity", spec: kedav1alpha1.AzureKeyVault{VaultURI: srv.URL, Cloud: private,
			PodIdentity: &kedav1alpha1.AuthPodIdentity{Provider: "azure-workload", IdentityID: ptr.To("client-2")},
			Secrets:     []kedav1alpha1.AzureKeyVaultSecret{{Parameter: "p", Name: "api-token"}}},
			wantErr: []string{"Microsoft Entra token", "client client-2", "unauthorized_client"}},
		{name: "missing secret", spec: kedav1alpha1.AzureKeyVault{VaultURI: srv.URL, Credentials: creds, Cloud: private,
			Secrets: []kedav1alpha1.AzureKeyVaultSecret{{Parameter: "p", Name: "gone"}}},
			wantErr: []string{"TriggerAuthentication ta: azureKeyVault: secrets[0] (parameter p)", `"gone"`, "404 SecretNotFound", "check the secret's name"}},
		{name: "wrong client secret", spec: kedav1alpha1.AzureKeyVault{VaultURI: srv.URL, Cloud: private,
			Credentials: &kedav1alpha1.AzureKeyVaultCredentials{ClientID: "client-1", TenantID: "tenant-1", ClientSecret: secretRef("sp", "wrong")},
			Secrets:     []kedav1alpha1.AzureKeyVaultSecret{{Parameter: "p", Name: "api-token"}}},
			wantErr: []string{"invalid_client", "Invalid client secret"}},
		{name: "wrong resource", spec: kedav1alpha1.AzureKeyVault{VaultURI: srv.URL, Credentials: creds,
			Cloud:   &kedav1alpha1.AzureKeyVaultCloudInfo{Type: "Private", ActiveDirectoryEndpoint: srv.URL, KeyVaultResourceURL: "https://vault.azure.net"},
			Secrets: []kedav1alpha1.AzureKeyVaultSecret{{Parameter: "p", Name: "api-token"}}},
			wantErr: []string{"invalid_scope"}},
		{name: "private cloud without endpoints", spec: kedav1alpha1.AzureKeyVault{VaultURI: srv.URL, Credentials: creds, Cloud: &kedav1alpha1.AzureKeyVaultCloudInfo{Type: "Private"},
			Secrets: []kedav1alpha1.AzureKeyVaultSecret{{Parameter: "p", Name: "api-token"}}},
			wantErr: []string{"spec.azureKeyVault.cloud.activeDirectoryEndpoint: Required", "spec.azureKeyVault.cloud.keyVaultResourceURL: Required"}},
		{name: "unknown cloud", spec: kedav1alpha1.AzureKeyVault{VaultURI: srv.URL, Credentials: creds, Cloud: &kedav1alpha1.AzureKeyVaultCloudInfo{Type: "Moon"},
			Secrets: []kedav1alpha1.AzureKeyVaultSecret{{Parameter: "p", Name: "api-token"}}},
			wantErr: []string{`spec.azureKeyVault.cloud.type: Unsupported value: "Moon"`}},
		{name: "plain http vault elsewhere", spec: kedav1alpha1.AzureKeyVault{VaultURI: "http://vault.example", Credentials: creds, Cloud: private,
			Secrets: []kedav1alpha1.AzureKeyVaultSecret{{Parameter: "p", Name: "api-token"}}},
			wantErr: []string{"vaultUri", "must be an https:// URL"}},
		{name: "no credentials", spec: kedav1alpha1.AzureKeyVault{VaultURI: srv.URL, Cloud: private,
			Secrets: []kedav1alpha1.AzureKeyVaultSecret{{Parameter: "p", Name: "api-token"}}},
			wantErr: []string{"spec.azureKeyVault.credentials: Required", "set credentials (clientId, tenantId, clientSecret)"}},
		{name: "client secret Secret missing", spec: kedav1alpha1.AzureKeyVault{VaultURI: srv.URL, Cloud: private,
			Credentials: &kedav1alpha1.AzureKeyVaultCredentials{ClientID: "client-1", TenantID: "tenant-1", ClientSecret: secretRef("nosuch", "secret")},
			Secrets:     []kedav1alpha1.AzureKeyVaultSecret{{Parameter: "p", Name: "api-token"}}},
			wantErr: []string{"azureKeyVault.credentials.clientSecret", "Secret app/nosuch"}},
		{name: "unsupported pod identity", spec: kedav1alpha1.AzureKeyVault{VaultURI: srv.URL, PodIdentity: &kedav1alpha1.AuthPodIdentity{Provider: "aws"},
			Secrets: []kedav1alpha1.AzureKeyVaultSecret{{Parameter: "p", Name: "api-token"}}},
			wantErr: []string{`spec.azureKeyVault.podIdentity.provider: Unsupported value: "aws"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec
			r.Authentications = authReader(t, &kedav1alpha1.TriggerAuthentication{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "ta"},
				Spec: kedav1alpha1.TriggerAuthenticationSpec{AzureKeyVault: &spec}})
			got, err := r.AuthParams(context.Background(), "app", &kedav1alpha1.AuthenticationRef{Name: "ta"}, nil)
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error, params %d", len(got))
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
				for _, s := range append(sensitive, srv.Issued()...) {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error %q holds a secret", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
	// A token per identity, reused across resolves.
	before := len(srv.Issued())
	for range 3 {
		r.Authentications = authReader(t, &kedav1alpha1.TriggerAuthentication{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "ta"},
			Spec: kedav1alpha1.TriggerAuthenticationSpec{AzureKeyVault: &kedav1alpha1.AzureKeyVault{VaultURI: srv.URL, Credentials: creds, Cloud: private,
				Secrets: []kedav1alpha1.AzureKeyVaultSecret{{Parameter: "p", Name: "api-token"}}}}})
		if _, err := r.AuthParams(context.Background(), "app", &kedav1alpha1.AuthenticationRef{Name: "ta"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(srv.Issued()); n != before {
		t.Errorf("%d new tokens for three resolves of a known identity, want none", n-before)
	}
	for _, tr := range srv.TokenRequests() {
		if tr.Tenant != "tenant-1" {
			t.Errorf("token asked of tenant %q", tr.Tenant)
		}
	}
}

func TestCheckSecureURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://login.microsoftonline.com/": true, "http://127.0.0.1:8080": true, "http://localhost/": true, "http://[::1]:9/": true,
		"http://login.example/": false, "ftp://x/": false, "not a url": false, "": false,
	} {
		if err := checkSecureURL(raw); (err == nil) != ok {
			t.Errorf("checkSecureURL(%q) = %v, want ok=%v", raw, err, ok)
		}
	}
}
