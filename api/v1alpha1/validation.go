package v1alpha1

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidateSpec checks what can be checked of a ScaledObject without a cluster. The webhook, the
// controller's Ready condition and `kubectl keda check` all call it, so each names the same field
// and the same fix.
func (so *ScaledObject) ValidateSpec() field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	s := &so.Spec
	if s.ScaleTargetRef == nil {
		errs = append(errs, field.Required(spec.Child("scaleTargetRef"), "set scaleTargetRef.name to the Deployment, StatefulSet or /scale resource to scale"))
	} else if s.ScaleTargetRef.Name == "" {
		errs = append(errs, field.Required(spec.Child("scaleTargetRef", "name"), "set it to the name of the workload to scale"))
	}
	if len(s.Triggers) == 0 {
		errs = append(errs, field.Required(spec.Child("triggers"), "add at least one trigger"))
	}
	errs = append(errs, validateHPAName(so)...)
	errs = append(errs, validateTriggers(spec.Child("triggers"), s.Triggers)...)
	if f := s.Fallback; f != nil {
		errs = append(errs, validateFallback(spec, f, s.Triggers, s.UsesScalingModifiers())...)
	}
	for _, c := range []struct {
		name string
		v    *int32
	}{{"pollingInterval", s.PollingInterval}, {"cooldownPeriod", s.CooldownPeriod}, {"initialCooldownPeriod", s.InitialCooldownPeriod}, {"minReplicaCount", s.MinReplicaCount}, {"idleReplicaCount", s.IdleReplicaCount}} {
		if c.v != nil && *c.v < 0 {
			errs = append(errs, field.Invalid(spec.Child(c.name), *c.v, "must not be negative"))
		}
	}
	if s.PollingInterval != nil && *s.PollingInterval == 0 {
		errs = append(errs, field.Invalid(spec.Child("pollingInterval"), 0, "must be at least 1 second"))
	}
	minR, maxR := s.MinReplicas(), s.MaxReplicas()
	if maxR < 1 {
		errs = append(errs, field.Invalid(spec.Child("maxReplicaCount"), maxR, "must be at least 1"))
	}
	if minR > maxR {
		errs = append(errs, field.Invalid(spec.Child("minReplicaCount"), minR, fmt.Sprintf("must not be greater than maxReplicaCount (%d)", maxR)))
	}
	if s.IdleReplicaCount != nil && *s.IdleReplicaCount >= idleBound(s) {
		errs = append(errs, field.Invalid(spec.Child("idleReplicaCount"), *s.IdleReplicaCount, fmt.Sprintf("must be less than minReplicaCount (%d)", minR)))
	}
	// cpu and memory are measured on running pods: with nothing else to wake the target, it would
	// stay at zero for ever. KEDA refuses this too (minReplicaCount defaults to 0).
	if minR == 0 && len(s.Triggers) > 0 && onlyResourceTriggers(s.Triggers) {
		errs = append(errs, field.Invalid(spec.Child("minReplicaCount"), minR,
			"a ScaledObject whose triggers are all cpu or memory cannot scale to zero: set minReplicaCount to 1 or more, or add another trigger that can activate the target"))
	}
	return errs
}

// validateHPAName refuses names that could not label the HPA or be its name, as KEDA does: the
// ScaledObject's name is the value of the scaledobject.keda.sh/name label (at most 63 characters),
// and so is the HPA's name, keda-hpa-<name> unless horizontalPodAutoscalerConfig.name sets it.
func validateHPAName(so *ScaledObject) field.ErrorList {
	var errs field.ErrorList
	if n := len(so.Name); n > validation.LabelValueMaxLength {
		return append(errs, field.Invalid(field.NewPath("metadata", "name"), so.Name, fmt.Sprintf("is %d characters, and it becomes the value of the %s label, which holds at most %d: shorten the name", n, LabelScaledObjectName, validation.LabelValueMaxLength)))
	}
	custom := so.Spec.Advanced != nil && so.Spec.Advanced.HorizontalPodAutoscalerConfig != nil && so.Spec.Advanced.HorizontalPodAutoscalerConfig.Name != ""
	name := so.HPAName()
	p := field.NewPath("spec", "advanced", "horizontalPodAutoscalerConfig", "name")
	switch {
	case len(name) > validation.LabelValueMaxLength && custom:
		errs = append(errs, field.Invalid(p, name, fmt.Sprintf("the HPA's name is %d characters, at most %d: choose a shorter name", len(name), validation.LabelValueMaxLength)))
	case len(name) > validation.LabelValueMaxLength:
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), so.Name, fmt.Sprintf("the HPA's name %s would be %d characters, at most %d: set spec.advanced.horizontalPodAutoscalerConfig.name to a shorter name, or shorten the ScaledObject's name", name, len(name), validation.LabelValueMaxLength)))
	case custom:
		if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
			errs = append(errs, field.Invalid(p, name, "is not a valid object name ("+strings.Join(msgs, "; ")+"): use lower-case letters, digits, '-' and '.'"))
		}
	}
	return errs
}

// IsResourceTrigger reports whether a trigger type is cpu or memory: a Resource metric that the HPA
// reads from metrics.k8s.io rather than an External metric served by the operator.
func IsResourceTrigger(triggerType string) bool {
	return triggerType == "cpu" || triggerType == "memory"
}

func onlyResourceTriggers(triggers []ScaleTriggers) bool {
	for _, t := range triggers {
		if !IsResourceTrigger(t.Type) {
			return false
		}
	}
	return true
}

// validateTriggers checks what every trigger of a ScaledObject or ScaledJob needs whatever its type.
func validateTriggers(path *field.Path, triggers []ScaleTriggers) field.ErrorList {
	var errs field.ErrorList
	names := map[string]int{}
	for i, t := range triggers {
		p := path.Index(i)
		if t.Type == "" {
			errs = append(errs, field.Required(p.Child("type"), "set the scaler type, e.g. redis or cron"))
		}
		if t.Name != "" {
			if first, dup := names[t.Name]; dup {
				errs = append(errs, field.Duplicate(p.Child("name"), fmt.Sprintf("%s (also spec.triggers[%d].name): give each trigger its own name", t.Name, first)))
			} else {
				names[t.Name] = i
			}
		}
		if t.UseCachedMetrics && (IsResourceTrigger(t.Type) || t.Type == "cron") {
			// The HPA reads cpu and memory from metrics-server, and a cron trigger's value is the
			// clock's: there is no source read to cache (KEDA refuses it too).
			errs = append(errs, field.Invalid(p.Child("useCachedMetrics"), true, fmt.Sprintf("a %s trigger has no source read to cache: remove useCachedMetrics", t.Type)))
		}
		if t.AuthenticationRef != nil && t.AuthenticationRef.Name == "" {
			errs = append(errs, field.Required(p.Child("authenticationRef", "name"), "name the TriggerAuthentication or ClusterTriggerAuthentication"))
		}
		if k := t.AuthenticationRef; k != nil && k.Kind != "" && k.Kind != "TriggerAuthentication" && k.Kind != "ClusterTriggerAuthentication" {
			errs = append(errs, field.NotSupported(p.Child("authenticationRef", "kind"), k.Kind, []string{"TriggerAuthentication", "ClusterTriggerAuthentication"}))
		}
	}
	return errs
}

// validateFallback enforces KEDA's rules (CheckFallbackValid, its webhook and its CRD): failureThreshold
// and replicas 0 or more; a behavior KEDA knows, scalingModifiers only with a formula; and, without
// scalingModifiers, a trigger other than cpu and memory for the fallback to stand in for. Value
// triggers are fine: their fallback value is divided by the target's ready pods.
func validateFallback(spec *field.Path, f *Fallback, triggers []ScaleTriggers, modifiers bool) field.ErrorList {
	var errs field.ErrorList
	p := spec.Child("fallback")
	if f.FailureThreshold < 0 {
		errs = append(errs, field.Invalid(p.Child("failureThreshold"), f.FailureThreshold, "must be 0 or more: the fallback takes over after more than this many failed reads in a row"))
	}
	if f.Replicas < 0 {
		errs = append(errs, field.Invalid(p.Child("replicas"), f.Replicas, "must be 0 or more: the replicas the HPA converges to while a trigger keeps failing"))
	}
	switch f.Behavior {
	case "", FallbackBehaviorStatic, FallbackBehaviorCurrentReplicas, FallbackBehaviorCurrentReplicasIfHigher, FallbackBehaviorCurrentReplicasIfLower:
	case FallbackBehaviorScalingModifiers:
		if !modifiers {
			errs = append(errs, field.Invalid(p.Child("behavior"), f.Behavior,
				"scalingModifiers needs spec.advanced.scalingModifiers.formula (the formula decides what a failing trigger means): add a formula, or choose static, currentReplicas, currentReplicasIfHigher or currentReplicasIfLower"))
		}
	default:
		errs = append(errs, field.NotSupported(p.Child("behavior"), f.Behavior, FallbackBehaviors))
	}
	if !modifiers && len(triggers) > 0 && onlyResourceTriggers(triggers) {
		errs = append(errs, field.Invalid(p, "cpu/memory only",
			"spec.fallback needs a trigger other than cpu or memory: the HPA reads those from metrics-server and no fallback value can stand in for them; add an event source trigger, or remove spec.fallback"))
	}
	return errs
}

// ValidateSpec checks what can be checked of a ScaledJob without a cluster.
func (sj *ScaledJob) ValidateSpec() field.ErrorList {
	refused, stricter := sj.SpecProblems()
	return append(refused, stricter...)
}

// SpecProblems sorts ValidateSpec's problems into those KEDA refuses too (its webhook's trigger
// rules, its CRD's minimums and minItems) and those only this operator finds: a missing Job spec or
// container, a cpu or memory trigger. KEDA's webhook admits the latter (its ScaledJob check looks
// at the triggers only), and so does admission here, with a warning; the controller reports them.
func (sj *ScaledJob) SpecProblems() (refused, stricter field.ErrorList) {
	spec := field.NewPath("spec")
	s := &sj.Spec
	if s.JobTargetRef == nil {
		stricter = append(stricter, field.Required(spec.Child("jobTargetRef"), "set the Job spec to run, with a pod template"))
	} else if len(s.JobTargetRef.Template.Spec.Containers) == 0 {
		stricter = append(stricter, field.Required(spec.Child("jobTargetRef", "template", "spec", "containers"), "add the container the Job runs"))
	}
	if len(s.Triggers) == 0 {
		refused = append(refused, field.Required(spec.Child("triggers"), "add at least one trigger"))
	}
	refused = append(refused, validateTriggers(spec.Child("triggers"), s.Triggers)...)
	for i, t := range s.Triggers {
		if IsResourceTrigger(t.Type) {
			stricter = append(stricter, field.Invalid(spec.Child("triggers").Index(i).Child("type"), t.Type,
				"cpu and memory triggers apply to ScaledObjects only (the HPA measures running pods): use an event source trigger for a ScaledJob"))
		}
	}
	for _, c := range []struct {
		name string
		v    *int32
	}{{"pollingInterval", s.PollingInterval}, {"minReplicaCount", s.MinReplicaCount}, {"maxReplicaCount", s.MaxReplicaCount}, {"successfulJobsHistoryLimit", s.SuccessfulJobsHistoryLimit}, {"failedJobsHistoryLimit", s.FailedJobsHistoryLimit}} {
		if c.v != nil && *c.v < 0 {
			refused = append(refused, field.Invalid(spec.Child(c.name), *c.v, "must not be negative"))
		}
	}
	// minReplicaCount above maxReplicaCount is admitted, as KEDA admits it: both are taken as
	// maxReplicaCount (operator/scaledjob.BoundsFor), and the webhook warns.
	return refused, stricter
}

// idleBound is what idleReplicaCount must stay below, as KEDA checks it: the HPA's minimum (at least
// 1) when minReplicaCount is set, and 0 when it is not. So idleReplicaCount 0 passes with an
// explicit minReplicaCount 0 (the same as no idle count) and is refused without one.
func idleBound(s *ScaledObjectSpec) int32 {
	if s.MinReplicaCount == nil {
		return 0
	}
	return max(*s.MinReplicaCount, 1)
}

// ValidateTriggerAuthenticationSpec checks a TriggerAuthentication's or (clusterScoped) a
// ClusterTriggerAuthentication's spec: every problem, KEDA's refusals and the stricter checks
// alike, as resolving it and `kubectl keda check` need them.
func ValidateTriggerAuthenticationSpec(s *TriggerAuthenticationSpec, clusterScoped bool) field.ErrorList {
	refused, stricter := TriggerAuthenticationProblems(s, clusterScoped)
	return append(refused, stricter...)
}

// TriggerAuthenticationProblems sorts a spec's problems into those KEDA's webhook refuses too (pod
// identity, azureServicePrincipal and oauth2 rules) and those only this operator finds: empty
// references, an incomplete Vault, a filePath on a namespaced TriggerAuthentication. KEDA admits the
// latter and fails when a trigger uses them; so does the webhook here, with a warning.
func TriggerAuthenticationProblems(s *TriggerAuthenticationSpec, clusterScoped bool) (refused, stricter field.ErrorList) {
	var errs field.ErrorList // the stricter ones
	spec := field.NewPath("spec")
	required := func(p *field.Path, v, what string) {
		if strings.TrimSpace(v) == "" {
			errs = append(errs, field.Required(p, what))
		}
	}
	for i, r := range s.SecretTargetRef {
		p := spec.Child("secretTargetRef").Index(i)
		required(p.Child("parameter"), r.Parameter, "name the scaler parameter this Secret key supplies, e.g. password")
		required(p.Child("name"), r.Name, "name the Secret")
		required(p.Child("key"), r.Key, "name the key in the Secret")
	}
	for i, r := range s.ConfigMapTargetRef {
		p := spec.Child("configMapTargetRef").Index(i)
		required(p.Child("parameter"), r.Parameter, "name the scaler parameter this ConfigMap key supplies")
		required(p.Child("name"), r.Name, "name the ConfigMap")
		required(p.Child("key"), r.Key, "name the key in the ConfigMap")
	}
	for i, r := range s.Env {
		p := spec.Child("env").Index(i)
		required(p.Child("parameter"), r.Parameter, "name the scaler parameter this variable supplies")
		required(p.Child("name"), r.Name, "name the environment variable of the scale target's container")
	}
	for i, r := range s.BoundServiceAccountToken {
		p := spec.Child("boundServiceAccountToken").Index(i)
		required(p.Child("parameter"), r.Parameter, "name the scaler parameter the token supplies")
		required(p.Child("serviceAccountName"), r.ServiceAccountName, "name the ServiceAccount to request a token for")
	}
	if s.FilePath != "" && !clusterScoped {
		errs = append(errs, field.Forbidden(spec.Child("filePath"), "only a ClusterTriggerAuthentication may read a file of the operator's filesystem: use a ClusterTriggerAuthentication, or secretTargetRef"))
	} else if s.FilePath != "" && !filepath.IsLocal(s.FilePath) {
		errs = append(errs, field.Invalid(spec.Child("filePath"), s.FilePath, "must be a path relative to the operator's --filepath-auth-root-path that stays inside it (no leading /, no ..)"))
	}
	if pi := s.PodIdentity; pi != nil {
		refused = append(refused, validatePodIdentity(spec.Child("podIdentity"), pi)...)
	}
	if sp := s.AzureServicePrincipal; sp != nil {
		refused = append(refused, validateAzureServicePrincipal(spec.Child("azureServicePrincipal"), sp)...)
	}
	if o := s.OAuth2; o != nil {
		p := spec.Child("oauth2")
		// An omitted type is the CRD's default, clientCredentials, which the API server fills in
		// (a manifest checked offline has not met it yet).
		if o.Type != "" && o.Type != "clientCredentials" {
			refused = append(refused, field.NotSupported(p.Child("type"), o.Type, []string{"clientCredentials"}))
		}
		if strings.TrimSpace(o.ClientID) == "" {
			refused = append(refused, field.Required(p.Child("clientId"), "set the OAuth2 client ID"))
		}
		if strings.TrimSpace(o.TokenURL) == "" {
			refused = append(refused, field.Required(p.Child("tokenUrl"), "set the token endpoint, e.g. https://auth.example/oauth2/token"))
		}
		if u, err := url.Parse(o.TokenURL); o.TokenURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
			refused = append(refused, field.Invalid(p.Child("tokenUrl"), o.TokenURL, "must be an http:// or https:// URL"))
		}
		if o.ClientSecret == nil {
			errs = append(errs, field.Required(p.Child("clientSecret"), "set clientSecret.valueFrom.secretKeyRef to the Secret key holding the client secret"))
		} else {
			q := p.Child("clientSecret", "valueFrom", "secretKeyRef")
			required(q.Child("name"), o.ClientSecret.ValueFrom.SecretKeyRef.Name, "name the Secret holding the client secret")
			required(q.Child("key"), o.ClientSecret.ValueFrom.SecretKeyRef.Key, "name the key of the Secret holding the client secret")
		}
	}
	if v := s.HashiCorpVault; v != nil {
		p := spec.Child("hashiCorpVault")
		required(p.Child("address"), v.Address, "set the Vault address, e.g. https://vault.example:8200")
		switch v.Authentication {
		case "token":
			if v.Credential == nil || strings.TrimSpace(v.Credential.Token) == "" {
				errs = append(errs, field.Required(p.Child("credential", "token"), "token authentication needs the Vault token in credential.token"))
			}
		case "kubernetes":
			required(p.Child("role"), v.Role, "name the Vault role of the kubernetes auth method to log in as")
			required(p.Child("mount"), v.Mount, "name the mount path of Vault's kubernetes auth method, e.g. kubernetes")
		default:
			errs = append(errs, field.NotSupported(p.Child("authentication"), v.Authentication, []string{"token", "kubernetes"}))
		}
		if len(v.Secrets) == 0 {
			errs = append(errs, field.Required(p.Child("secrets"), "list the Vault secrets (parameter, path, key) to read"))
		}
		for i, sec := range v.Secrets {
			q := p.Child("secrets").Index(i)
			required(q.Child("parameter"), sec.Parameter, "name the scaler parameter this secret supplies")
			required(q.Child("path"), sec.Path, "set the secret's path in Vault")
			required(q.Child("key"), sec.Key, "name the key of the Vault secret (for pki: certificate, private_key, issuing_ca or ca_chain)")
			switch sec.Type {
			case "", "secret", "secretV2", "pki":
			default:
				errs = append(errs, field.NotSupported(q.Child("type"), sec.Type, []string{"secret", "secretV2", "pki"}))
			}
		}
	}
	errs = append(errs, secretStoreProblems(spec, s)...)
	return refused, errs
}

// secretStoreProblems finds what keeps azureKeyVault, gcpSecretManager and awsSecretManager from
// resolving: empty names, missing credentials, a pod identity provider the store cannot use, an
// unknown cloud. KEDA's webhook checks none of these (its CRD requires the keys, not values); they
// fail when a trigger uses the authentication, so they are warnings at admission.
func secretStoreProblems(spec *field.Path, s *TriggerAuthenticationSpec) field.ErrorList {
	var errs field.ErrorList
	required := func(p *field.Path, v, what string) {
		if strings.TrimSpace(v) == "" {
			errs = append(errs, field.Required(p, what))
		}
	}
	secretRef := func(p *field.Path, v *SecretValue, what string) {
		if v == nil {
			errs = append(errs, field.Required(p, "set valueFrom.secretKeyRef to the Secret key holding "+what))
			return
		}
		q := p.Child("valueFrom", "secretKeyRef")
		required(q.Child("name"), v.ValueFrom.SecretKeyRef.Name, "name the Secret holding "+what)
		required(q.Child("key"), v.ValueFrom.SecretKeyRef.Key, "name the key of the Secret holding "+what)
	}
	// provider is the store's pod identity provider, "" for none; a provider it cannot use is a problem.
	provider := func(p *field.Path, pi *AuthPodIdentity, usable string) string {
		if pi == nil || pi.Provider == "" || pi.Provider == "none" {
			return ""
		}
		if pi.Provider != usable {
			errs = append(errs, field.NotSupported(p.Child("podIdentity", "provider"), pi.Provider, []string{usable, "none"}))
		}
		return pi.Provider
	}
	if a := s.AzureKeyVault; a != nil {
		p := spec.Child("azureKeyVault")
		required(p.Child("vaultUri"), a.VaultURI, "set the vault's URI, e.g. https://my-vault.vault.azure.net")
		if provider(p, a.PodIdentity, PodIdentityProviderAzureWorkload) == "" {
			if c := a.Credentials; c == nil {
				errs = append(errs, field.Required(p.Child("credentials"), "set credentials (clientId, tenantId, clientSecret) of a service principal, or podIdentity.provider azure-workload"))
			} else {
				required(p.Child("credentials", "clientId"), c.ClientID, "set the service principal's application (client) ID")
				required(p.Child("credentials", "tenantId"), c.TenantID, "set the service principal's directory (tenant) ID")
				secretRef(p.Child("credentials", "clientSecret"), c.ClientSecret, "the service principal's client secret")
			}
		}
		if c := a.Cloud; c != nil {
			q := p.Child("cloud")
			switch strings.ToLower(c.Type) {
			case "azurepubliccloud", "azureusgovernmentcloud", "azurechinacloud":
			case "private":
				required(q.Child("activeDirectoryEndpoint"), c.ActiveDirectoryEndpoint, "cloud Private needs the Microsoft Entra endpoint of that cloud")
				required(q.Child("keyVaultResourceURL"), c.KeyVaultResourceURL, "cloud Private needs the Key Vault resource of that cloud, e.g. https://vault.azure.net")
			default:
				errs = append(errs, field.NotSupported(q.Child("type"), c.Type, []string{"AzurePublicCloud", "AzureUSGovernmentCloud", "AzureChinaCloud", "Private"}))
			}
		}
		if len(a.Secrets) == 0 {
			errs = append(errs, field.Required(p.Child("secrets"), "list the Key Vault secrets (parameter, name) to read"))
		}
		for i, sec := range a.Secrets {
			q := p.Child("secrets").Index(i)
			required(q.Child("parameter"), sec.Parameter, "name the scaler parameter this secret supplies")
			required(q.Child("name"), sec.Name, "name the Key Vault secret")
		}
	}
	if g := s.GCPSecretManager; g != nil {
		p := spec.Child("gcpSecretManager")
		if provider(p, g.PodIdentity, "gcp") == "" {
			if g.Credentials == nil {
				errs = append(errs, field.Required(p.Child("credentials"), "set credentials.clientSecret to the Secret key holding a service account's JSON key, or podIdentity.provider gcp"))
			} else {
				secretRef(p.Child("credentials", "clientSecret"), &g.Credentials.ClientSecret, "the service account's JSON key")
			}
		}
		if len(g.Secrets) == 0 {
			errs = append(errs, field.Required(p.Child("secrets"), "list the Secret Manager secrets (parameter, id) to read"))
		}
		for i, sec := range g.Secrets {
			q := p.Child("secrets").Index(i)
			required(q.Child("parameter"), sec.Parameter, "name the scaler parameter this secret supplies")
			required(q.Child("id"), sec.ID, "set the secret's id in Secret Manager")
		}
	}
	if a := s.AwsSecretManager; a != nil {
		p := spec.Child("awsSecretManager")
		if provider(p, a.PodIdentity, PodIdentityProviderAWS) == "" {
			if c := a.Credentials; c == nil {
				errs = append(errs, field.Required(p.Child("credentials"), "set credentials.accessKey and credentials.accessSecretKey, or podIdentity.provider aws"))
			} else {
				secretRef(p.Child("credentials", "accessKey"), c.AccessKey, "the access key ID")
				secretRef(p.Child("credentials", "accessSecretKey"), c.AccessSecretKey, "the secret access key")
				if c.AccessToken != nil {
					secretRef(p.Child("credentials", "accessToken"), c.AccessToken, "the session token")
				}
			}
		}
		if len(a.Secrets) == 0 {
			errs = append(errs, field.Required(p.Child("secrets"), "list the Secrets Manager secrets (parameter, name) to read"))
		}
		for i, sec := range a.Secrets {
			q := p.Child("secrets").Index(i)
			required(q.Child("parameter"), sec.Parameter, "name the scaler parameter this secret supplies")
			required(q.Child("name"), sec.Name, "set the secret's name or ARN")
		}
	}
	return errs
}

// Pod identity providers whose settings KEDA's webhook checks.
const (
	PodIdentityProviderAzureWorkload = "azure-workload"
	PodIdentityProviderAWS           = "aws"
)

// validatePodIdentity refuses what KEDA's webhook refuses in a podIdentity: an identityId or
// identityTenantId set to "", an identityAuthorityHost without a tenant, and for aws a roleArn
// with identityOwner workload, or an externalID without a roleArn.
func validatePodIdentity(p *field.Path, pi *AuthPodIdentity) field.ErrorList {
	var errs field.ErrorList
	set := func(v *string) bool { return v != nil && *v != "" }
	empty := func(v *string) bool { return v != nil && *v == "" }
	switch pi.Provider {
	case PodIdentityProviderAzureWorkload:
		if empty(pi.IdentityID) {
			errs = append(errs, field.Invalid(p.Child("identityId"), "", "must not be empty: set the managed identity's client ID, or remove identityId to use the ServiceAccount's"))
		}
		switch {
		case set(pi.IdentityAuthorityHost) && !set(pi.IdentityTenantID):
			errs = append(errs, field.Required(p.Child("identityTenantId"), "identityAuthorityHost needs the tenant: set identityTenantId"))
		case empty(pi.IdentityTenantID):
			errs = append(errs, field.Invalid(p.Child("identityTenantId"), "", "must not be empty: set the tenant ID, or remove identityTenantId"))
		}
	case PodIdentityProviderAWS:
		if set(pi.RoleArn) && pi.IdentityOwner != nil && *pi.IdentityOwner == "workload" {
			errs = append(errs, field.Forbidden(p.Child("roleArn"), "roleArn is for identityOwner keda (the operator assumes the role): remove roleArn, or identityOwner workload"))
		}
		if set(pi.ExternalID) && !set(pi.RoleArn) {
			errs = append(errs, field.Required(p.Child("roleArn"), "externalID is passed when assuming a role: set roleArn, or remove externalID"))
		}
	}
	return errs
}

// validateAzureServicePrincipal refuses what KEDA's webhook refuses in an azureServicePrincipal.
func validateAzureServicePrincipal(p *field.Path, sp *AzureServicePrincipal) field.ErrorList {
	var errs field.ErrorList
	if sp.TenantID == "" {
		errs = append(errs, field.Required(p.Child("tenantId"), "set the directory (tenant) ID of the service principal"))
	}
	if sp.ClientID == "" {
		errs = append(errs, field.Required(p.Child("clientId"), "set the application (client) ID of the service principal"))
	}
	switch {
	case sp.ClientSecret != nil && sp.ClientCertificate != nil:
		errs = append(errs, field.Forbidden(p.Child("clientCertificate"), "clientSecret and clientCertificate are exclusive: keep one"))
	case sp.ClientSecret == nil && sp.ClientCertificate == nil:
		errs = append(errs, field.Required(p.Child("clientSecret"), "set clientSecret or clientCertificate"))
	}
	if sp.ClientCertificatePassword != nil && sp.ClientCertificate == nil {
		errs = append(errs, field.Forbidden(p.Child("clientCertificatePassword"), "is for a clientCertificate: set clientCertificate, or remove the password"))
	}
	private := strings.EqualFold(sp.Cloud, "Private")
	switch {
	case private && sp.ActiveDirectoryEndpoint == "":
		errs = append(errs, field.Required(p.Child("activeDirectoryEndpoint"), "cloud Private needs the Microsoft Entra endpoint of that cloud"))
	case !private && sp.ActiveDirectoryEndpoint != "":
		errs = append(errs, field.Forbidden(p.Child("activeDirectoryEndpoint"), "is only for cloud Private: set cloud to Private, or remove activeDirectoryEndpoint"))
	}
	return errs
}

// ValidateMetricType checks a trigger's metricType: one of the HPA's target types, and Utilization
// only for cpu and memory. KEDA's webhook does not check it (the HPA refuses it later), so the
// admission webhook only warns about it; path is the trigger's.
func ValidateMetricType(path *field.Path, t ScaleTriggers) *field.Error {
	switch t.MetricType {
	case "", autoscalingv2.AverageValueMetricType, autoscalingv2.ValueMetricType:
	case autoscalingv2.UtilizationMetricType:
		if !IsResourceTrigger(t.Type) {
			return field.Invalid(path.Child("metricType"), t.MetricType, "Utilization applies to cpu and memory triggers only: use AverageValue or Value")
		}
	default:
		return field.NotSupported(path.Child("metricType"), t.MetricType, []string{"AverageValue", "Value", "Utilization"})
	}
	return nil
}
