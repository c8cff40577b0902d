// Package resolve turns references into values for the scalers: the scale target's container env
// (value, valueFrom, envFrom) and a trigger's TriggerAuthentication or
// ClusterTriggerAuthentication. Secrets and ConfigMaps are read one by one, uncached, so the
// operator needs no cluster-wide list or watch on Secrets.
package resolve

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// Resolver reads Secrets, ConfigMaps and authentications.
type Resolver struct {
	// Reader reads Secrets and ConfigMaps uncached (the manager's API reader): the operator keeps
	// no cluster-wide watch on Secrets.
	Reader client.Reader
	// Authentications reads TriggerAuthentications and ClusterTriggerAuthentications; the
	// operator passes its cache, which it watches them through anyway. Nil reads them with Reader.
	Authentications client.Reader
	// ClusterObjectNamespace holds the Secrets and ConfigMaps of ClusterTriggerAuthentications
	// (KEDA_CLUSTER_OBJECT_NAMESPACE, "keda" by default), and the ServiceAccounts their
	// boundServiceAccountToken entries name.
	ClusterObjectNamespace string
	// Tokens serves boundServiceAccountToken and the ServiceAccount tokens of hashiCorpVault's
	// kubernetes authentication; nil refuses them.
	Tokens *Tokens
	// FilePathRoot is the directory a ClusterTriggerAuthentication's spec.filePath is relative to
	// (--filepath-auth-root-path); empty refuses filePath.
	FilePathRoot string
	// Vault serves hashiCorpVault; nil refuses it.
	Vault *Vault
	// AWS serves awsSecretManager; nil refuses it.
	AWS *AWSSecrets
	// Azure serves azureKeyVault; nil refuses it.
	Azure *AzureKeyVault
	// GCP serves gcpSecretManager; nil refuses it.
	GCP *GCPSecretManager
}

// Env returns the environment of the named container of podSpec (the first when name is empty):
// plain values, valueFrom Secret and ConfigMap keys, and envFrom Secrets and ConfigMaps.
func (r *Resolver) Env(ctx context.Context, namespace string, podSpec *corev1.PodSpec, name string) (map[string]string, error) {
	env := map[string]string{}
	if podSpec == nil || len(podSpec.Containers) == 0 {
		return env, nil
	}
	var c *corev1.Container
	for i := range podSpec.Containers {
		if name == "" || podSpec.Containers[i].Name == name {
			c = &podSpec.Containers[i]
			break
		}
	}
	if c == nil {
		return nil, fmt.Errorf("spec.scaleTargetRef.envSourceContainerName: the target has no container %q", name)
	}
	for _, from := range c.EnvFrom {
		var data map[string]string
		var err error
		switch {
		case from.SecretRef != nil:
			data, err = r.secretData(ctx, namespace, from.SecretRef.Name, optional(from.SecretRef.Optional))
		case from.ConfigMapRef != nil:
			data, err = r.configMapData(ctx, namespace, from.ConfigMapRef.Name, optional(from.ConfigMapRef.Optional))
		}
		if err != nil {
			return nil, fmt.Errorf("container %s envFrom: %w", c.Name, err)
		}
		for k, v := range data {
			env[from.Prefix+k] = v
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			v, ok, err := r.secretKey(ctx, namespace, ref.Name, ref.Key, optional(ref.Optional))
			if err != nil {
				return nil, fmt.Errorf("container %s env %s: %w", c.Name, e.Name, err)
			}
			if ok {
				env[e.Name] = v
			}
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			data, err := r.configMapData(ctx, namespace, ref.Name, optional(ref.Optional))
			if err != nil {
				return nil, fmt.Errorf("container %s env %s: %w", c.Name, e.Name, err)
			}
			if v, ok := data[ref.Key]; ok {
				env[e.Name] = v
			}
		}
	}
	return env, nil
}

// AuthParams resolves a trigger's authenticationRef into parameters. env returns the environment
// of a container of the target (name "" for the default one).
func (r *Resolver) AuthParams(ctx context.Context, namespace string, ref *kedav1alpha1.AuthenticationRef, env func(container string) (map[string]string, error)) (map[string]string, error) {
	params := map[string]string{}
	if ref == nil {
		return params, nil
	}
	spec, objNamespace, err := r.authSpec(ctx, namespace, ref)
	if err != nil {
		return nil, err
	}
	// The same rules as the admission webhook and `kubectl keda check`, for objects that reached
	// the cluster without the webhook (it was off, or the namespace opted out).
	clusterScoped := ref.TriggerAuthKind() == "ClusterTriggerAuthentication"
	if errs := kedav1alpha1.ValidateTriggerAuthenticationSpec(spec, clusterScoped); len(errs) > 0 {
		return nil, fmt.Errorf("%s %s is invalid: %w", ref.TriggerAuthKind(), ref.Name, errs.ToAggregate())
	}
	if err := unsupported(spec, ref); err != nil {
		return nil, err
	}
	// filePath first, so that the explicit sources below can override a shared file's values.
	if spec.FilePath != "" {
		fromFile, err := fileParams(r.FilePathRoot, spec.FilePath)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", ref.TriggerAuthKind(), ref.Name, err)
		}
		maps.Copy(params, fromFile)
	}
	for _, s := range spec.SecretTargetRef {
		v, _, err := r.secretKey(ctx, objNamespace, s.Name, s.Key, false)
		if err != nil {
			return nil, fmt.Errorf("%s %s: secretTargetRef parameter %s: %w", ref.TriggerAuthKind(), ref.Name, s.Parameter, err)
		}
		params[s.Parameter] = v
	}
	for _, c := range spec.ConfigMapTargetRef {
		data, err := r.configMapData(ctx, objNamespace, c.Name, false)
		if err != nil {
			return nil, fmt.Errorf("%s %s: configMapTargetRef parameter %s: %w", ref.TriggerAuthKind(), ref.Name, c.Parameter, err)
		}
		v, ok := data[c.Key]
		if !ok {
			return nil, fmt.Errorf("%s %s: configMapTargetRef parameter %s: ConfigMap %s/%s has no key %q", ref.TriggerAuthKind(), ref.Name, c.Parameter, objNamespace, c.Name, c.Key)
		}
		params[c.Parameter] = v
	}
	for _, b := range spec.BoundServiceAccountToken {
		if r.Tokens == nil {
			return nil, fmt.Errorf("%s %s: boundServiceAccountToken is not available in this operator", ref.TriggerAuthKind(), ref.Name)
		}
		v, err := r.Tokens.Token(ctx, objNamespace, b.ServiceAccountName)
		if err != nil {
			return nil, fmt.Errorf("%s %s: boundServiceAccountToken parameter %s: %w", ref.TriggerAuthKind(), ref.Name, b.Parameter, err)
		}
		params[b.Parameter] = v
	}
	if o := spec.OAuth2; o != nil {
		if err := r.oauth2Params(ctx, objNamespace, o, params); err != nil {
			return nil, fmt.Errorf("%s %s: oauth2: %w", ref.TriggerAuthKind(), ref.Name, err)
		}
	}
	if v := spec.HashiCorpVault; v != nil {
		if r.Vault == nil {
			return nil, fmt.Errorf("%s %s: hashiCorpVault is not available in this operator", ref.TriggerAuthKind(), ref.Name)
		}
		// A ServiceAccount named by credential.serviceAccountName lives in the namespace of the
		// object being scaled, for a ClusterTriggerAuthentication too (as KEDA).
		values, err := r.Vault.Resolve(ctx, namespace, v)
		if err != nil {
			return nil, fmt.Errorf("%s %s: hashiCorpVault: %w", ref.TriggerAuthKind(), ref.Name, err)
		}
		maps.Copy(params, values)
	}
	// The cloud secret stores after Vault, in KEDA's order, so that a parameter named by two
	// sources takes the later one's value as in KEDA.
	if a := spec.AzureKeyVault; a != nil && len(a.Secrets) > 0 {
		if r.Azure == nil {
			return nil, fmt.Errorf("%s %s: azureKeyVault is not available in this operator", ref.TriggerAuthKind(), ref.Name)
		}
		id, err := r.azureIdentityOf(ctx, objNamespace, a)
		if err != nil {
			return nil, fmt.Errorf("%s %s: azureKeyVault.%w", ref.TriggerAuthKind(), ref.Name, err)
		}
		values, err := r.Azure.Resolve(ctx, id, a)
		if err != nil {
			return nil, fmt.Errorf("%s %s: azureKeyVault: %w", ref.TriggerAuthKind(), ref.Name, err)
		}
		maps.Copy(params, values)
	}
	if g := spec.GCPSecretManager; g != nil && len(g.Secrets) > 0 {
		if r.GCP == nil {
			return nil, fmt.Errorf("%s %s: gcpSecretManager is not available in this operator", ref.TriggerAuthKind(), ref.Name)
		}
		key, err := r.gcpKeyOf(ctx, objNamespace, g)
		if err != nil {
			return nil, fmt.Errorf("%s %s: gcpSecretManager.%w", ref.TriggerAuthKind(), ref.Name, err)
		}
		values, err := r.GCP.Resolve(ctx, key, g)
		if err != nil {
			return nil, fmt.Errorf("%s %s: gcpSecretManager: %w", ref.TriggerAuthKind(), ref.Name, err)
		}
		maps.Copy(params, values)
	}
	if a := spec.AwsSecretManager; a != nil && len(a.Secrets) > 0 {
		if r.AWS == nil {
			return nil, fmt.Errorf("%s %s: awsSecretManager is not available in this operator", ref.TriggerAuthKind(), ref.Name)
		}
		id, err := r.awsCredentials(ctx, objNamespace, a)
		if err != nil {
			return nil, fmt.Errorf("%s %s: awsSecretManager.%w", ref.TriggerAuthKind(), ref.Name, err)
		}
		values, err := r.AWS.Resolve(ctx, id, a)
		if err != nil {
			return nil, fmt.Errorf("%s %s: awsSecretManager: %w", ref.TriggerAuthKind(), ref.Name, err)
		}
		maps.Copy(params, values)
	}
	for _, e := range spec.Env {
		vars, err := env(e.ContainerName)
		if err != nil {
			return nil, fmt.Errorf("%s %s: env parameter %s: %w", ref.TriggerAuthKind(), ref.Name, e.Parameter, err)
		}
		v, ok := vars[e.Name]
		if !ok {
			return nil, fmt.Errorf("%s %s: env parameter %s: the target's container has no env var %q", ref.TriggerAuthKind(), ref.Name, e.Parameter, e.Name)
		}
		params[e.Parameter] = v
	}
	return params, nil
}

// authSpec reads the authentication and says which namespace its Secrets live in.
func (r *Resolver) authSpec(ctx context.Context, namespace string, ref *kedav1alpha1.AuthenticationRef) (*kedav1alpha1.TriggerAuthenticationSpec, string, error) {
	reader := r.Authentications
	if reader == nil {
		reader = r.Reader
	}
	switch ref.TriggerAuthKind() {
	case "ClusterTriggerAuthentication":
		cta := &kedav1alpha1.ClusterTriggerAuthentication{}
		if err := reader.Get(ctx, types.NamespacedName{Name: ref.Name}, cta); err != nil {
			return nil, "", fmt.Errorf("authenticationRef: failed to get ClusterTriggerAuthentication %s: %w", ref.Name, err)
		}
		ns := r.ClusterObjectNamespace
		if ns == "" {
			ns = "keda"
		}
		return &cta.Spec, ns, nil
	default:
		ta := &kedav1alpha1.TriggerAuthentication{}
		if err := reader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: ref.Name}, ta); err != nil {
			return nil, "", fmt.Errorf("authenticationRef: failed to get TriggerAuthentication %s/%s: %w", namespace, ref.Name, err)
		}
		return &ta.Spec, namespace, nil
	}
}

// unsupported names the authentication sources this build cannot resolve yet, rather than
// silently ignoring them.
func unsupported(spec *kedav1alpha1.TriggerAuthenticationSpec, ref *kedav1alpha1.AuthenticationRef) error {
	var names []string
	if spec.PodIdentity != nil && spec.PodIdentity.Provider != "none" && spec.PodIdentity.Provider != "" {
		names = append(names, "podIdentity")
	}
	for name, set := range map[string]bool{
		"azureServicePrincipal": spec.AzureServicePrincipal != nil,
	} {
		if set {
			names = append(names, name)
		}
	}
	if len(names) > 0 {
		sort.Strings(names)
		return fmt.Errorf("%s %s uses spec.%s, which this operator does not resolve yet: use secretTargetRef, configMapTargetRef, env, boundServiceAccountToken, filePath, oauth2, hashiCorpVault, azureKeyVault, gcpSecretManager or awsSecretManager", ref.TriggerAuthKind(), ref.Name, strings.Join(names, ", spec."))
	}
	return nil
}

// secretValue reads a valueFrom.secretKeyRef of the authentication's namespace.
func (r *Resolver) secretValue(ctx context.Context, namespace string, v *kedav1alpha1.SecretValue) (string, error) {
	ref := v.ValueFrom.SecretKeyRef
	if ref.Name == "" || ref.Key == "" {
		return "", fmt.Errorf("set valueFrom.secretKeyRef.name and .key")
	}
	s, _, err := r.secretKey(ctx, namespace, ref.Name, ref.Key, false)
	return s, err
}

func (r *Resolver) secretKey(ctx context.Context, namespace, name, key string, opt bool) (string, bool, error) {
	data, err := r.secretData(ctx, namespace, name, opt)
	if err != nil {
		return "", false, err
	}
	v, ok := data[key]
	if !ok && !opt {
		return "", false, fmt.Errorf("Secret %s/%s has no key %q", namespace, name, key)
	}
	return v, ok, nil
}

func (r *Resolver) secretData(ctx context.Context, namespace, name string, opt bool) (map[string]string, error) {
	s := &corev1.Secret{}
	if err := r.Reader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, s); err != nil {
		if opt && client.IgnoreNotFound(err) == nil {
			return map[string]string{}, nil
		}
		return nil, fmt.Errorf("failed to get Secret %s/%s: %w", namespace, name, err)
	}
	out := make(map[string]string, len(s.Data)+len(s.StringData))
	for k, v := range s.Data {
		out[k] = string(v)
	}
	for k, v := range s.StringData {
		out[k] = v
	}
	return out, nil
}

func (r *Resolver) configMapData(ctx context.Context, namespace, name string, opt bool) (map[string]string, error) {
	cm := &corev1.ConfigMap{}
	if err := r.Reader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, cm); err != nil {
		if opt && client.IgnoreNotFound(err) == nil {
			return map[string]string{}, nil
		}
		return nil, fmt.Errorf("failed to get ConfigMap %s/%s: %w", namespace, name, err)
	}
	out := make(map[string]string, len(cm.Data)+len(cm.BinaryData))
	for k, v := range cm.Data {
		out[k] = v
	}
	for k, v := range cm.BinaryData {
		out[k] = string(v)
	}
	return out, nil
}

func optional(p *bool) bool { return p != nil && *p }
