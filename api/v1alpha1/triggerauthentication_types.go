package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +genclient
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=triggerauthentications,scope=Namespaced,shortName=ta;triggerauth,categories=keda
// +kubebuilder:printcolumn:name="PodIdentity",type="string",JSONPath=".spec.podIdentity.provider"
// +kubebuilder:printcolumn:name="Secret",type="string",JSONPath=".spec.secretTargetRef[*].name"
// +kubebuilder:printcolumn:name="Env",type="string",JSONPath=".spec.env[*].name"
// +kubebuilder:printcolumn:name="VaultAddress",type="string",JSONPath=".spec.hashiCorpVault.address"
// +kubebuilder:printcolumn:name="ScaledObjects",type="string",priority=1,JSONPath=".status.scaledobjects"
// +kubebuilder:printcolumn:name="ScaledJobs",type="string",priority=1,JSONPath=".status.scaledjobs"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"

// TriggerAuthentication holds the credentials of triggers in its namespace.
type TriggerAuthentication struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec TriggerAuthenticationSpec `json:"spec"`
	// +optional
	Status TriggerAuthenticationStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// TriggerAuthenticationList is a list of TriggerAuthentications.
type TriggerAuthenticationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []TriggerAuthentication `json:"items"`
}

// +genclient
// +genclient:nonNamespaced
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=clustertriggerauthentications,scope=Cluster,shortName=cta;clustertriggerauth,categories=keda
// +kubebuilder:printcolumn:name="PodIdentity",type="string",JSONPath=".spec.podIdentity.provider"
// +kubebuilder:printcolumn:name="Secret",type="string",JSONPath=".spec.secretTargetRef[*].name"
// +kubebuilder:printcolumn:name="Env",type="string",JSONPath=".spec.env[*].name"
// +kubebuilder:printcolumn:name="VaultAddress",type="string",JSONPath=".spec.hashiCorpVault.address"
// +kubebuilder:printcolumn:name="ScaledObjects",type="string",priority=1,JSONPath=".status.scaledobjects"
// +kubebuilder:printcolumn:name="ScaledJobs",type="string",priority=1,JSONPath=".status.scaledjobs"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"

// ClusterTriggerAuthentication holds credentials usable by triggers in any namespace; the Secrets
// and ConfigMaps it names live in the operator's cluster object namespace.
type ClusterTriggerAuthentication struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec TriggerAuthenticationSpec `json:"spec"`
	// +optional
	Status TriggerAuthenticationStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ClusterTriggerAuthenticationList is a list of ClusterTriggerAuthentications.
type ClusterTriggerAuthenticationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []ClusterTriggerAuthentication `json:"items"`
}

// TriggerAuthenticationSpec lists where each auth parameter of a trigger comes from.
type TriggerAuthenticationSpec struct {
	// +optional
	PodIdentity *AuthPodIdentity `json:"podIdentity,omitempty"`
	// +optional
	SecretTargetRef []AuthSecretTargetRef `json:"secretTargetRef,omitempty"`
	// +optional
	Env []AuthEnvironment `json:"env,omitempty"`
	// +optional
	HashiCorpVault *HashiCorpVault `json:"hashiCorpVault,omitempty"`
	// +optional
	AzureKeyVault *AzureKeyVault `json:"azureKeyVault,omitempty"`
	// +optional
	AwsSecretManager *AwsSecretManager `json:"awsSecretManager,omitempty"`
	// +optional
	GCPSecretManager *GCPSecretManager `json:"gcpSecretManager,omitempty"`
	// +optional
	ConfigMapTargetRef []AuthConfigMapTargetRef `json:"configMapTargetRef,omitempty"`
	// +optional
	BoundServiceAccountToken []BoundServiceAccountToken `json:"boundServiceAccountToken,omitempty"`
	// +optional
	AzureServicePrincipal *AzureServicePrincipal `json:"azureServicePrincipal,omitempty"`
	// FilePath is a file on the operator's filesystem holding the parameters (cluster kind only).
	// +optional
	FilePath string `json:"filePath,omitempty"`
	// +optional
	OAuth2 *OAuth2 `json:"oauth2,omitempty"`
}

// TriggerAuthenticationStatus lists the objects that use this authentication.
type TriggerAuthenticationStatus struct {
	// +optional
	ScaledObjectNamesStr string `json:"scaledobjects,omitempty"`
	// +optional
	ScaledJobNamesStr string `json:"scaledjobs,omitempty"`
}

// AuthPodIdentity names a workload identity provider.
type AuthPodIdentity struct {
	// +kubebuilder:validation:Enum=azure-workload;gcp;aws;aws-eks;none
	Provider string `json:"provider"`
	// +optional
	IdentityID *string `json:"identityId,omitempty"`
	// +optional
	IdentityTenantID *string `json:"identityTenantId,omitempty"`
	// +optional
	IdentityAuthorityHost *string `json:"identityAuthorityHost,omitempty"`
	// +optional
	RoleArn *string `json:"roleArn,omitempty"`
	// +optional
	// +kubebuilder:validation:Enum=keda;workload
	IdentityOwner *string `json:"identityOwner,omitempty"`
	// +optional
	ExternalID *string `json:"externalID,omitempty"`
}

// AuthSecretTargetRef takes a parameter from a key of a Secret.
type AuthSecretTargetRef struct {
	Parameter string `json:"parameter"`
	Name      string `json:"name"`
	Key       string `json:"key"`
}

// AuthConfigMapTargetRef takes a parameter from a key of a ConfigMap.
type AuthConfigMapTargetRef struct {
	Parameter string `json:"parameter"`
	Name      string `json:"name"`
	Key       string `json:"key"`
}

// AuthEnvironment takes a parameter from an env var of the scale target's container.
type AuthEnvironment struct {
	Parameter string `json:"parameter"`
	Name      string `json:"name"`
	// +optional
	ContainerName string `json:"containerName,omitempty"`
}

// BoundServiceAccountToken takes a parameter from a token minted for a ServiceAccount.
type BoundServiceAccountToken struct {
	Parameter          string `json:"parameter"`
	ServiceAccountName string `json:"serviceAccountName"`
}

// HashiCorpVault reads parameters from a Vault server.
type HashiCorpVault struct {
	Address string `json:"address"`
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// +kubebuilder:validation:Enum=token;kubernetes
	Authentication string `json:"authentication"`
	// +optional
	Role string `json:"role,omitempty"`
	// +optional
	Mount string `json:"mount,omitempty"`
	// +optional
	Credential *HashiCorpVaultCredential `json:"credential,omitempty"`
	// +kubebuilder:validation:MinItems=1
	Secrets []HashiCorpVaultSecret `json:"secrets"`
}

// HashiCorpVaultCredential is how the operator authenticates to Vault.
type HashiCorpVaultCredential struct {
	// +optional
	Token string `json:"token,omitempty"`
	// +optional
	ServiceAccount string `json:"serviceAccount,omitempty"`
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`
}

// HashiCorpVaultSecret maps one Vault secret key to a parameter.
type HashiCorpVaultSecret struct {
	Parameter string `json:"parameter"`
	Path      string `json:"path"`
	Key       string `json:"key"`
	// Type is the secrets engine: secret (KV version 1), secretV2 (KV version 2), pki, or empty
	// to tell the KV versions apart by the answer.
	// +optional
	// +kubebuilder:validation:Enum="";secretV2;secret;pki
	Type string `json:"type,omitempty"`
	// +optional
	PkiData VaultPkiData `json:"pkiData,omitempty"`
}

// VaultPkiData asks Vault's PKI engine for a certificate.
type VaultPkiData struct {
	// +optional
	CommonName string `json:"commonName,omitempty"`
	// +optional
	AltNames string `json:"altNames,omitempty"`
	// +optional
	IPSans string `json:"ipSans,omitempty"`
	// +optional
	URISans string `json:"uriSans,omitempty"`
	// +optional
	OtherSans string `json:"otherSans,omitempty"`
	// +optional
	TTL string `json:"ttl,omitempty"`
	// +optional
	Format string `json:"format,omitempty"`
}

// ValueFromSecret reads a value from a Secret.
type ValueFromSecret struct {
	SecretKeyRef SecretKeyRef `json:"secretKeyRef"`
}

// SecretKeyRef is a key of a Secret.
type SecretKeyRef struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// SecretValue is a value held in a Secret.
type SecretValue struct {
	ValueFrom ValueFromSecret `json:"valueFrom"`
}

// AzureKeyVault reads parameters from an Azure Key Vault.
type AzureKeyVault struct {
	VaultURI string `json:"vaultUri"`
	// +optional
	Credentials *AzureKeyVaultCredentials `json:"credentials,omitempty"`
	// +optional
	PodIdentity *AuthPodIdentity `json:"podIdentity,omitempty"`
	// +optional
	Cloud *AzureKeyVaultCloudInfo `json:"cloud,omitempty"`
	// +kubebuilder:validation:MinItems=1
	Secrets []AzureKeyVaultSecret `json:"secrets"`
}

// AzureKeyVaultCredentials is a service principal for Key Vault.
type AzureKeyVaultCredentials struct {
	ClientID     string       `json:"clientId"`
	TenantID     string       `json:"tenantId"`
	ClientSecret *SecretValue `json:"clientSecret"`
}

// AzureKeyVaultCloudInfo selects the Azure cloud.
type AzureKeyVaultCloudInfo struct {
	Type string `json:"type"`
	// +optional
	KeyVaultResourceURL string `json:"keyVaultResourceURL,omitempty"`
	// +optional
	ActiveDirectoryEndpoint string `json:"activeDirectoryEndpoint,omitempty"`
}

// AzureKeyVaultSecret maps one Key Vault secret to a parameter.
type AzureKeyVaultSecret struct {
	Parameter string `json:"parameter"`
	Name      string `json:"name"`
	// +optional
	Version string `json:"version,omitempty"`
}

// AzureServicePrincipal authenticates as an Azure service principal.
type AzureServicePrincipal struct {
	TenantID string `json:"tenantId"`
	ClientID string `json:"clientId"`
	// +optional
	ClientSecret *SecretValue `json:"clientSecret,omitempty"`
	// +optional
	ClientCertificate *SecretValue `json:"clientCertificate,omitempty"`
	// +optional
	ClientCertificatePassword *SecretValue `json:"clientCertificatePassword,omitempty"`
	// +optional
	Cloud string `json:"cloud,omitempty"`
	// +optional
	ActiveDirectoryEndpoint string `json:"activeDirectoryEndpoint,omitempty"`
}

// AwsSecretManager reads parameters from AWS Secrets Manager.
type AwsSecretManager struct {
	// +kubebuilder:validation:MinItems=1
	Secrets []AwsSecretManagerSecret `json:"secrets"`
	// +optional
	Credentials *AwsSecretManagerCredentials `json:"credentials,omitempty"`
	// +optional
	PodIdentity *AuthPodIdentity `json:"podIdentity,omitempty"`
	// +optional
	Region string `json:"region,omitempty"`
}

// AwsSecretManagerCredentials are static AWS credentials.
type AwsSecretManagerCredentials struct {
	AccessKey       *SecretValue `json:"accessKey"`
	AccessSecretKey *SecretValue `json:"accessSecretKey"`
	// +optional
	AccessToken *SecretValue `json:"accessToken,omitempty"`
}

// AwsSecretManagerSecret maps one AWS secret to a parameter.
type AwsSecretManagerSecret struct {
	Parameter string `json:"parameter"`
	Name      string `json:"name"`
	// +optional
	VersionID string `json:"versionId,omitempty"`
	// +optional
	VersionStage string `json:"versionStage,omitempty"`
	// +optional
	SecretKey string `json:"secretKey,omitempty"`
}

// GCPSecretManager reads parameters from Google Secret Manager.
type GCPSecretManager struct {
	// +kubebuilder:validation:MinItems=1
	Secrets []GCPSecretManagerSecret `json:"secrets"`
	// +optional
	Credentials *GCPCredentials `json:"credentials,omitempty"`
	// +optional
	PodIdentity *AuthPodIdentity `json:"podIdentity,omitempty"`
}

// GCPCredentials is a service account key.
type GCPCredentials struct {
	ClientSecret SecretValue `json:"clientSecret"`
}

// GCPSecretManagerSecret maps one GCP secret to a parameter.
type GCPSecretManagerSecret struct {
	Parameter string `json:"parameter"`
	ID        string `json:"id"`
	// +optional
	Version string `json:"version,omitempty"`
}

// OAuth2 obtains a token with the client credentials grant.
type OAuth2 struct {
	// Type is the grant; the API server fills in clientCredentials, the only one, when omitted.
	// +kubebuilder:validation:Enum=clientCredentials
	// +kubebuilder:default=clientCredentials
	Type     string `json:"type"`
	ClientID string `json:"clientId"`
	// ClientSecret may be omitted, as KEDA's CRD allows; the webhook warns and resolving the
	// authentication fails without it.
	// +optional
	ClientSecret *SecretValue `json:"clientSecret,omitempty"`
	TokenURL     string       `json:"tokenUrl"`
	// +optional
	Scopes []string `json:"scopes,omitempty"`
	// +optional
	TokenURLParams map[string]string `json:"tokenUrlParams,omitempty"`
}

func init() {
	SchemeBuilder.Register(&TriggerAuthentication{}, &TriggerAuthenticationList{}, &ClusterTriggerAuthentication{}, &ClusterTriggerAuthenticationList{})
}
