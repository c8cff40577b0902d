package resolve

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
	smfake "github.com/kedactl/kedactl/test/servers/gcpsecretmanager"
)

func TestGCPSecretManager(t *testing.T) {
	srv := smfake.Start()
	defer srv.Close()
	key := srv.NewServiceAccount("proj-a", "keda")
	other := srv.NewServiceAccount("proj-b", "other")
	srv.SetMetadataIdentity("proj-meta", "node")
	srv.AddVersion("proj-a", "api-token", "one-s3cret")
	srv.AddVersion("proj-a", "api-token", "two-s3cret")
	srv.AddVersion("proj-meta", "api-token", "meta-s3cret")
	env := map[string]string{"CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER": srv.URL + "/", "GCE_METADATA_HOST": srv.MetadataHost}
	g := &GCPSecretManager{Getenv: func(k string) string { return env[k] }}
	r := &Resolver{GCP: g, Reader: authReader(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "gcp"}, Data: map[string][]byte{
		"key.json": []byte(key), "other.json": []byte(other), "user.json": []byte(`{"type": "authorized_user", "refresh_token": "r-s3cret"}`), "junk": []byte("junk-s3cret")}})}
	creds := func(k string) *kedav1alpha1.GCPCredentials {
		return &kedav1alpha1.GCPCredentials{ClientSecret: *secretRef("gcp", k)}
	}
	sensitive := []string{"s3cret", "PRIVATE KEY"}

	for _, tc := range []struct {
		name    string
		spec    kedav1alpha1.GCPSecretManager
		want    map[string]string
		wantErr []string
	}{
		{name: "latest by default and a version", spec: kedav1alpha1.GCPSecretManager{Credentials: creds("key.json"),
			Secrets: []kedav1alpha1.GCPSecretManagerSecret{{Parameter: "latest", ID: "api-token"}, {Parameter: "first", ID: "api-token", Version: "1"}, {Parameter: "named", ID: "api-token", Version: "latest"}}},
			want: map[string]string{"latest": "two-s3cret", "first": "one-s3cret", "named": "two-s3cret"}},
		{name: "pod identity gcp", spec: kedav1alpha1.GCPSecretManager{PodIdentity: &kedav1alpha1.AuthPodIdentity{Provider: "gcp"},
			Secrets: []kedav1alpha1.GCPSecretManagerSecret{{Parameter: "p", ID: "api-token"}}},
			want: map[string]string{"p": "meta-s3cret"}},
		{name: "missing secret", spec: kedav1alpha1.GCPSecretManager{Credentials: creds("key.json"),
			Secrets: []kedav1alpha1.GCPSecretManagerSecret{{Parameter: "p", ID: "gone"}}},
			wantErr: []string{"TriggerAuthentication ta: gcpSecretManager: secrets[0] (parameter p)", `"gone" version latest of project proj-a`, "404 NOT_FOUND", "check the secret's id"}},
		{name: "missing version", spec: kedav1alpha1.GCPSecretManager{Credentials: creds("key.json"),
			Secrets: []kedav1alpha1.GCPSecretManagerSecret{{Parameter: "p", ID: "api-token", Version: "7"}}},
			wantErr: []string{"404 NOT_FOUND"}},
		{name: "another project's account", spec: kedav1alpha1.GCPSecretManager{Credentials: creds("other.json"),
			Secrets: []kedav1alpha1.GCPSecretManagerSecret{{Parameter: "p", ID: "api-token"}}},
			wantErr: []string{"project proj-b", "404 NOT_FOUND"}},
		{name: "not a service account key", spec: kedav1alpha1.GCPSecretManager{Credentials: creds("user.json"),
			Secrets: []kedav1alpha1.GCPSecretManagerSecret{{Parameter: "p", ID: "api-token"}}},
			wantErr: []string{`type is "authorized_user"`, "type service_account"}},
		{name: "not JSON", spec: kedav1alpha1.GCPSecretManager{Credentials: creds("junk"),
			Secrets: []kedav1alpha1.GCPSecretManagerSecret{{Parameter: "p", ID: "api-token"}}},
			wantErr: []string{"does not hold a service account's JSON key"}},
		{name: "credential key missing", spec: kedav1alpha1.GCPSecretManager{Credentials: creds("nokey"),
			Secrets: []kedav1alpha1.GCPSecretManagerSecret{{Parameter: "p", ID: "api-token"}}},
			wantErr: []string{"gcpSecretManager.credentials.clientSecret", `has no key "nokey"`}},
		{name: "no credentials", spec: kedav1alpha1.GCPSecretManager{Secrets: []kedav1alpha1.GCPSecretManagerSecret{{Parameter: "p", ID: "api-token"}}},
			wantErr: []string{"spec.gcpSecretManager.credentials: Required", "set credentials.clientSecret"}},
		{name: "unsupported pod identity", spec: kedav1alpha1.GCPSecretManager{PodIdentity: &kedav1alpha1.AuthPodIdentity{Provider: "azure-workload"},
			Secrets: []kedav1alpha1.GCPSecretManagerSecret{{Parameter: "p", ID: "api-token"}}},
			wantErr: []string{`spec.gcpSecretManager.podIdentity.provider: Unsupported value: "azure-workload"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec
			r.Authentications = authReader(t, &kedav1alpha1.TriggerAuthentication{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "ta"},
				Spec: kedav1alpha1.TriggerAuthenticationSpec{GCPSecretManager: &spec}})
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
	// One token per identity (the key, the other key, the metadata server's), reused.
	if n := len(srv.Issued()); n != 3 {
		t.Errorf("%d tokens issued, want 3", n)
	}
	for _, req := range srv.Requests() {
		if req.Account == "" {
			t.Errorf("request %+v was not authorised by a token", req)
		}
	}
}

// TestGCPSecretManagerRefusedKey: a key the token endpoint refuses says why (the RFC 6749 error),
// without the key.
func TestGCPSecretManagerRefusedKey(t *testing.T) {
	srv := smfake.Start()
	defer srv.Close()
	key := srv.NewServiceAccount("proj-a", "keda")
	// The same key file, naming an account the token endpoint does not know.
	forged := strings.Replace(key, "keda@proj-a", "ghost@proj-a", 1)
	g := &GCPSecretManager{Getenv: func(k string) string {
		return map[string]string{"CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER": srv.URL}[k]
	}}
	_, err := g.Resolve(context.Background(), forged, &kedav1alpha1.GCPSecretManager{Secrets: []kedav1alpha1.GCPSecretManagerSecret{{Parameter: "p", ID: "x"}}})
	if err == nil || !strings.Contains(err.Error(), "status 400 invalid_grant") || strings.Contains(err.Error(), "PRIVATE KEY") {
		t.Fatalf("error = %v, want the token endpoint's invalid_grant and no key", err)
	}
}
