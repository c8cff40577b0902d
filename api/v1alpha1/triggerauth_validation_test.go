package v1alpha1

import (
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// TestValidateTriggerAuthenticationSpec: the rules the webhook, the controller and `kubectl keda
// check` share for filePath, oauth2 and hashiCorpVault; each error names the field and the fix,
// and none echoes a credential.
func TestValidateTriggerAuthenticationSpec(t *testing.T) {
	secret := &SecretValue{ValueFrom: ValueFromSecret{SecretKeyRef: SecretKeyRef{Name: "oauth", Key: "secret"}}}
	goodOAuth := func() *OAuth2 {
		return &OAuth2{Type: "clientCredentials", ClientID: "app", ClientSecret: secret, TokenURL: "https://auth.example/token"}
	}
	goodVault := func() *HashiCorpVault {
		return &HashiCorpVault{Address: "http://127.0.0.1:8200", Authentication: "token", Credential: &HashiCorpVaultCredential{Token: "hvs.root-token"},
			Secrets: []HashiCorpVaultSecret{{Parameter: "password", Path: "secret/data/redis", Key: "password"}}}
	}
	for _, tc := range []struct {
		name    string
		spec    TriggerAuthenticationSpec
		cluster bool
		want    []string // substrings of the joined errors; none means valid
	}{
		{name: "filePath on a ClusterTriggerAuthentication", spec: TriggerAuthenticationSpec{FilePath: "team/redis.json"}, cluster: true},
		{name: "filePath on a TriggerAuthentication", spec: TriggerAuthenticationSpec{FilePath: "team/redis.json"},
			want: []string{"spec.filePath", "only a ClusterTriggerAuthentication"}},
		{name: "absolute filePath", spec: TriggerAuthenticationSpec{FilePath: "/etc/passwd"}, cluster: true,
			want: []string{"spec.filePath", "relative to the operator's --filepath-auth-root-path"}},
		{name: "filePath with ..", spec: TriggerAuthenticationSpec{FilePath: "../../var/run/secrets/token"}, cluster: true,
			want: []string{"spec.filePath", "no .."}},
		{name: "oauth2", spec: TriggerAuthenticationSpec{OAuth2: goodOAuth()}},
		// KEDA's webhook rules for podIdentity and azureServicePrincipal.
		{name: "azure-workload with an identity", spec: TriggerAuthenticationSpec{PodIdentity: &AuthPodIdentity{Provider: "azure-workload", IdentityID: str("client-id"), IdentityTenantID: str("tenant"), IdentityAuthorityHost: str("https://login.example")}}},
		{name: "azure-workload with an empty identityId", spec: TriggerAuthenticationSpec{PodIdentity: &AuthPodIdentity{Provider: "azure-workload", IdentityID: str("")}},
			want: []string{"spec.podIdentity.identityId", "must not be empty"}},
		{name: "azure-workload authority host without tenant", spec: TriggerAuthenticationSpec{PodIdentity: &AuthPodIdentity{Provider: "azure-workload", IdentityAuthorityHost: str("https://login.example")}},
			want: []string{"spec.podIdentity.identityTenantId", "identityAuthorityHost needs the tenant"}},
		{name: "azure-workload with an empty tenant", spec: TriggerAuthenticationSpec{PodIdentity: &AuthPodIdentity{Provider: "azure-workload", IdentityTenantID: str("")}},
			want: []string{"spec.podIdentity.identityTenantId", "must not be empty"}},
		{name: "aws roleArn with the workload's identity", spec: TriggerAuthenticationSpec{PodIdentity: &AuthPodIdentity{Provider: "aws", RoleArn: str("arn:aws:iam::1:role/r"), IdentityOwner: str("workload")}},
			want: []string{"spec.podIdentity.roleArn", "identityOwner keda"}},
		{name: "aws externalID without roleArn", spec: TriggerAuthenticationSpec{PodIdentity: &AuthPodIdentity{Provider: "aws", ExternalID: str("x")}},
			want: []string{"spec.podIdentity.roleArn", "externalID"}},
		{name: "aws role with externalID", spec: TriggerAuthenticationSpec{PodIdentity: &AuthPodIdentity{Provider: "aws", RoleArn: str("arn:aws:iam::1:role/r"), ExternalID: str("x")}}},
		{name: "service principal", spec: TriggerAuthenticationSpec{AzureServicePrincipal: &AzureServicePrincipal{TenantID: "t", ClientID: "c", ClientSecret: secret}}},
		{name: "service principal without anything", spec: TriggerAuthenticationSpec{AzureServicePrincipal: &AzureServicePrincipal{ClientCertificatePassword: secret, ActiveDirectoryEndpoint: "https://login.example"}},
			want: []string{"spec.azureServicePrincipal.tenantId", "spec.azureServicePrincipal.clientId", "spec.azureServicePrincipal.clientSecret", "spec.azureServicePrincipal.clientCertificatePassword", "spec.azureServicePrincipal.activeDirectoryEndpoint"}},
		{name: "service principal with secret and certificate, private cloud without endpoint", spec: TriggerAuthenticationSpec{AzureServicePrincipal: &AzureServicePrincipal{TenantID: "t", ClientID: "c", ClientSecret: secret, ClientCertificate: secret, Cloud: "Private"}},
			want: []string{"spec.azureServicePrincipal.clientCertificate", "exclusive", "spec.azureServicePrincipal.activeDirectoryEndpoint"}},
		{name: "oauth2 without anything", spec: TriggerAuthenticationSpec{OAuth2: &OAuth2{}},
			want: []string{"spec.oauth2.clientId", "spec.oauth2.tokenUrl", "spec.oauth2.clientSecret"}},
		{name: "oauth2 without type (the CRD defaults it)", spec: TriggerAuthenticationSpec{OAuth2: func() *OAuth2 { o := goodOAuth(); o.Type = ""; return o }()}},
		{name: "oauth2 with another grant", spec: TriggerAuthenticationSpec{OAuth2: func() *OAuth2 { o := goodOAuth(); o.Type = "password"; return o }()},
			want: []string{"spec.oauth2.type", "clientCredentials"}},
		{name: "oauth2 with a bad tokenUrl", spec: TriggerAuthenticationSpec{OAuth2: func() *OAuth2 { o := goodOAuth(); o.TokenURL = "ftp://x"; return o }()},
			want: []string{"spec.oauth2.tokenUrl", "http:// or https://"}},
		{name: "oauth2 secret without key", spec: TriggerAuthenticationSpec{OAuth2: func() *OAuth2 {
			o := goodOAuth()
			o.ClientSecret = &SecretValue{ValueFrom: ValueFromSecret{SecretKeyRef: SecretKeyRef{Name: "oauth"}}}
			return o
		}()}, want: []string{"spec.oauth2.clientSecret.valueFrom.secretKeyRef.key"}},
		{name: "vault token", spec: TriggerAuthenticationSpec{HashiCorpVault: goodVault()}},
		{name: "awsSecretManager with keys", spec: TriggerAuthenticationSpec{AwsSecretManager: &AwsSecretManager{Region: "eu-west-1",
			Credentials: &AwsSecretManagerCredentials{AccessKey: secret, AccessSecretKey: secret, AccessToken: secret},
			Secrets:     []AwsSecretManagerSecret{{Parameter: "password", Name: "db", VersionStage: "AWSCURRENT", SecretKey: "pw"}}}}},
		{name: "awsSecretManager with pod identity", spec: TriggerAuthenticationSpec{AwsSecretManager: &AwsSecretManager{PodIdentity: &AuthPodIdentity{Provider: "aws"},
			Secrets: []AwsSecretManagerSecret{{Parameter: "password", Name: "db"}}}}},
		{name: "awsSecretManager incomplete", spec: TriggerAuthenticationSpec{AwsSecretManager: &AwsSecretManager{
			Credentials: &AwsSecretManagerCredentials{AccessKey: &SecretValue{}},
			Secrets:     []AwsSecretManagerSecret{{Name: "db"}}}},
			want: []string{"spec.awsSecretManager.credentials.accessKey.valueFrom.secretKeyRef.name: Required", "spec.awsSecretManager.credentials.accessSecretKey: Required",
				"spec.awsSecretManager.secrets[0].parameter: Required"}},
		{name: "awsSecretManager with another pod identity", spec: TriggerAuthenticationSpec{AwsSecretManager: &AwsSecretManager{PodIdentity: &AuthPodIdentity{Provider: "gcp"},
			Secrets: []AwsSecretManagerSecret{{Parameter: "password", Name: "db"}}}},
			want: []string{`spec.awsSecretManager.podIdentity.provider: Unsupported value: "gcp"`}},
		{name: "azureKeyVault with a service principal", spec: TriggerAuthenticationSpec{AzureKeyVault: &AzureKeyVault{VaultURI: "https://v.vault.azure.net",
			Credentials: &AzureKeyVaultCredentials{ClientID: "c", TenantID: "t", ClientSecret: secret}, Cloud: &AzureKeyVaultCloudInfo{Type: "AzureChinaCloud"},
			Secrets: []AzureKeyVaultSecret{{Parameter: "password", Name: "db", Version: "abc"}}}}},
		{name: "azureKeyVault with workload identity in a private cloud", spec: TriggerAuthenticationSpec{AzureKeyVault: &AzureKeyVault{VaultURI: "https://v.vault.example",
			PodIdentity: &AuthPodIdentity{Provider: "azure-workload"}, Cloud: &AzureKeyVaultCloudInfo{Type: "private", ActiveDirectoryEndpoint: "https://login.example/", KeyVaultResourceURL: "https://vault.example"},
			Secrets: []AzureKeyVaultSecret{{Parameter: "password", Name: "db"}}}}},
		{name: "azureKeyVault incomplete", spec: TriggerAuthenticationSpec{AzureKeyVault: &AzureKeyVault{
			Credentials: &AzureKeyVaultCredentials{ClientID: "c"}, Cloud: &AzureKeyVaultCloudInfo{Type: "Private"}}},
			want: []string{"spec.azureKeyVault.vaultUri: Required", "spec.azureKeyVault.credentials.tenantId: Required", "spec.azureKeyVault.credentials.clientSecret: Required",
				"spec.azureKeyVault.cloud.activeDirectoryEndpoint: Required", "spec.azureKeyVault.cloud.keyVaultResourceURL: Required", "spec.azureKeyVault.secrets: Required"}},
		{name: "azureKeyVault unknown cloud", spec: TriggerAuthenticationSpec{AzureKeyVault: &AzureKeyVault{VaultURI: "https://v", PodIdentity: &AuthPodIdentity{Provider: "azure-workload"},
			Cloud: &AzureKeyVaultCloudInfo{Type: "Moon"}, Secrets: []AzureKeyVaultSecret{{Parameter: "p", Name: "n"}}}},
			want: []string{`spec.azureKeyVault.cloud.type: Unsupported value: "Moon"`}},
		{name: "gcpSecretManager with a key", spec: TriggerAuthenticationSpec{GCPSecretManager: &GCPSecretManager{Credentials: &GCPCredentials{ClientSecret: *secret},
			Secrets: []GCPSecretManagerSecret{{Parameter: "password", ID: "db", Version: "3"}}}}},
		{name: "gcpSecretManager incomplete", spec: TriggerAuthenticationSpec{GCPSecretManager: &GCPSecretManager{Secrets: []GCPSecretManagerSecret{{Parameter: "password"}}}},
			want: []string{"spec.gcpSecretManager.credentials: Required", "spec.gcpSecretManager.secrets[0].id: Required"}},
		{name: "vault token without token", spec: TriggerAuthenticationSpec{HashiCorpVault: func() *HashiCorpVault { v := goodVault(); v.Credential = nil; return v }()},
			want: []string{"spec.hashiCorpVault.credential.token"}},
		{name: "vault kubernetes", spec: TriggerAuthenticationSpec{HashiCorpVault: func() *HashiCorpVault {
			v := goodVault()
			v.Authentication, v.Role, v.Mount, v.Credential = "kubernetes", "reader", "kubernetes", &HashiCorpVaultCredential{ServiceAccountName: "reader"}
			return v
		}()}},
		{name: "vault kubernetes without role and mount", spec: TriggerAuthenticationSpec{HashiCorpVault: func() *HashiCorpVault {
			v := goodVault()
			v.Authentication = "kubernetes"
			return v
		}()}, want: []string{"spec.hashiCorpVault.role", "spec.hashiCorpVault.mount"}},
		{name: "vault unknown authentication and type", spec: TriggerAuthenticationSpec{HashiCorpVault: func() *HashiCorpVault {
			v := goodVault()
			v.Authentication = "aws"
			v.Secrets[0].Type = "kv3"
			return v
		}()}, want: []string{"spec.hashiCorpVault.authentication", "spec.hashiCorpVault.secrets[0].type"}},
		{name: "vault without secrets", spec: TriggerAuthenticationSpec{HashiCorpVault: func() *HashiCorpVault { v := goodVault(); v.Secrets = nil; return v }()},
			want: []string{"spec.hashiCorpVault.secrets"}},
		{name: "vault secret without key", spec: TriggerAuthenticationSpec{HashiCorpVault: func() *HashiCorpVault {
			v := goodVault()
			v.Secrets[0].Key, v.Secrets[0].Type = "", "pki"
			return v
		}()}, want: []string{"spec.hashiCorpVault.secrets[0].key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := ValidateTriggerAuthenticationSpec(&tc.spec, tc.cluster)
			if len(tc.want) == 0 {
				if len(errs) > 0 {
					t.Fatalf("unexpected errors: %v", errs)
				}
				return
			}
			joined := errs.ToAggregate().Error()
			for _, w := range tc.want {
				if !strings.Contains(joined, w) {
					t.Errorf("errors %q do not mention %q", joined, w)
				}
			}
			if strings.Contains(joined, "hvs.root-token") {
				t.Errorf("errors show the Vault token: %s", joined)
			}
		})
	}
}

func str(v string) *string { return &v }

// TestTriggerAuthenticationProblemsAsKEDA: only what KEDA's webhook refuses is a refusal; the
// stricter checks are kept apart, for admission to warn about.
func TestTriggerAuthenticationProblemsAsKEDA(t *testing.T) {
	owner, role := "workload", "arn:aws:iam::123456789012:role/reader"
	for _, tc := range []struct {
		name              string
		spec              TriggerAuthenticationSpec
		refused, stricter int
	}{
		{name: "empty Secret key", spec: TriggerAuthenticationSpec{SecretTargetRef: []AuthSecretTargetRef{{Parameter: "password", Name: "creds"}}}, stricter: 1},
		{name: "filePath on a namespaced one", spec: TriggerAuthenticationSpec{FilePath: "team/redis.json"}, stricter: 1},
		{name: "Vault without secrets", spec: TriggerAuthenticationSpec{HashiCorpVault: &HashiCorpVault{Address: "http://127.0.0.1:8200", Authentication: "token", Credential: &HashiCorpVaultCredential{Token: "t"}}}, stricter: 1},
		{name: "oauth2 without a client id or secret", spec: TriggerAuthenticationSpec{OAuth2: &OAuth2{Type: "clientCredentials", TokenURL: "https://auth.example/token"}}, refused: 1, stricter: 1},
		{name: "secret stores without credentials (KEDA's webhook admits them)", spec: TriggerAuthenticationSpec{
			AwsSecretManager: &AwsSecretManager{Secrets: []AwsSecretManagerSecret{{Parameter: "p", Name: "n"}}},
			AzureKeyVault:    &AzureKeyVault{VaultURI: "https://v", Secrets: []AzureKeyVaultSecret{{Parameter: "p", Name: "n"}}},
			GCPSecretManager: &GCPSecretManager{Secrets: []GCPSecretManagerSecret{{Parameter: "p", ID: "n"}}}}, stricter: 3},
		{name: "aws roleArn with identityOwner workload", spec: TriggerAuthenticationSpec{PodIdentity: &AuthPodIdentity{Provider: "aws", IdentityOwner: &owner, RoleArn: &role}}, refused: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refused, stricter := TriggerAuthenticationProblems(&tc.spec, false)
			if len(refused) != tc.refused || len(stricter) != tc.stricter {
				t.Errorf("refused %v, stricter %v; want %d and %d", refused, stricter, tc.refused, tc.stricter)
			}
			if all := ValidateTriggerAuthenticationSpec(&tc.spec, false); len(all) != tc.refused+tc.stricter {
				t.Errorf("ValidateTriggerAuthenticationSpec = %v, want both kinds", all)
			}
		})
	}
}

// TestScaledJobProblemsAsKEDA: KEDA's webhook looks only at a ScaledJob's triggers (and its CRD
// at counts and list lengths); a missing Job spec or container and a cpu trigger are ours.
func TestScaledJobProblemsAsKEDA(t *testing.T) {
	negative := int32(-1)
	for _, tc := range []struct {
		name              string
		spec              ScaledJobSpec
		refused, stricter int
	}{
		{name: "no jobTargetRef", spec: ScaledJobSpec{Triggers: []ScaleTriggers{{Type: "redis"}}}, stricter: 1},
		{name: "cpu trigger and no containers", spec: ScaledJobSpec{JobTargetRef: &batchv1.JobSpec{}, Triggers: []ScaleTriggers{{Type: "cpu"}}}, stricter: 2},
		{name: "no triggers and a negative limit", spec: ScaledJobSpec{JobTargetRef: &batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "job"}}}}},
			FailedJobsHistoryLimit: &negative}, refused: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sj := &ScaledJob{Spec: tc.spec}
			refused, stricter := sj.SpecProblems()
			if len(refused) != tc.refused || len(stricter) != tc.stricter {
				t.Errorf("refused %v, stricter %v; want %d and %d", refused, stricter, tc.refused, tc.stricter)
			}
		})
	}
}

// TestIdleBoundAsKEDA: idleReplicaCount must stay below the HPA's minimum (1 at least) when
// minReplicaCount is set, below 0 when it is not, as KEDA's bounds check reads it.
func TestIdleBoundAsKEDA(t *testing.T) {
	i32 := func(v int32) *int32 { return &v }
	for _, tc := range []struct {
		name      string
		min, idle *int32
		refused   bool
	}{
		{"idle 0 with minReplicaCount 0 (KEDA's value_metric_type)", i32(0), i32(0), false},
		{"idle 0 without minReplicaCount", nil, i32(0), true},
		{"idle 1 with minReplicaCount 0", i32(0), i32(1), true},
		{"idle 0 with minReplicaCount 2", i32(2), i32(0), false},
		{"idle 2 with minReplicaCount 2", i32(2), i32(2), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			so := &ScaledObject{Spec: ScaledObjectSpec{ScaleTargetRef: &ScaleTarget{Name: "w"}, MinReplicaCount: tc.min, IdleReplicaCount: tc.idle,
				Triggers: []ScaleTriggers{{Type: "redis"}}}}
			so.Name = "w"
			refused := false
			for _, e := range so.ValidateSpec() {
				refused = refused || e.Field == "spec.idleReplicaCount"
			}
			if refused != tc.refused {
				t.Errorf("idleReplicaCount refused = %v, want %v", refused, tc.refused)
			}
		})
	}
}
