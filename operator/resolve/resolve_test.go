package resolve

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

func TestResolve(t *testing.T) {
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = kedav1alpha1.AddToScheme(scheme)
	reader := fake.NewClientBuilder().WithScheme(scheme).WithObjects(
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "redis"}, Data: map[string][]byte{"password": []byte("s3cret"), "HOST": []byte("redis:6379")}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "keda", Name: "shared"}, Data: map[string][]byte{"token": []byte("cluster-token")}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "settings"}, Data: map[string]string{"list": "jobs", "LEVEL": "debug"}},
		&kedav1alpha1.TriggerAuthentication{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "auth"}, Spec: kedav1alpha1.TriggerAuthenticationSpec{
			SecretTargetRef:    []kedav1alpha1.AuthSecretTargetRef{{Parameter: "password", Name: "redis", Key: "password"}},
			ConfigMapTargetRef: []kedav1alpha1.AuthConfigMapTargetRef{{Parameter: "listName", Name: "settings", Key: "list"}},
			Env:                []kedav1alpha1.AuthEnvironment{{Parameter: "address", Name: "REDIS_ADDR"}},
		}},
		&kedav1alpha1.ClusterTriggerAuthentication{ObjectMeta: metav1.ObjectMeta{Name: "cluster"}, Spec: kedav1alpha1.TriggerAuthenticationSpec{
			SecretTargetRef: []kedav1alpha1.AuthSecretTargetRef{{Parameter: "token", Name: "shared", Key: "token"}},
		}},
		&kedav1alpha1.TriggerAuthentication{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "vault"}, Spec: kedav1alpha1.TriggerAuthenticationSpec{
			HashiCorpVault: &kedav1alpha1.HashiCorpVault{Address: "http://vault"},
		}},
		&kedav1alpha1.TriggerAuthentication{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "badkey"}, Spec: kedav1alpha1.TriggerAuthenticationSpec{
			SecretTargetRef: []kedav1alpha1.AuthSecretTargetRef{{Parameter: "password", Name: "redis", Key: "nope"}},
		}},
	).Build()
	r := &Resolver{Reader: reader, ClusterObjectNamespace: "keda"}
	ctx := context.Background()
	f := false
	pod := &corev1.PodSpec{Containers: []corev1.Container{{
		Name: "app",
		Env: []corev1.EnvVar{
			{Name: "REDIS_ADDR", Value: "127.0.0.1:6379"},
			{Name: "PASS", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "redis"}, Key: "password", Optional: &f}}},
			{Name: "LIST", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}, Key: "list"}}},
		},
		EnvFrom: []corev1.EnvFromSource{{Prefix: "CM_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}}}, {SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "redis"}}}},
	}}}
	env, err := r.Env(ctx, "app", pod, "")
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"REDIS_ADDR": "127.0.0.1:6379", "PASS": "s3cret", "LIST": "jobs", "CM_LEVEL": "debug", "HOST": "redis:6379"} {
		if env[k] != want {
			t.Errorf("env %s = %q, want %q", k, env[k], want)
		}
	}
	if _, err := r.Env(ctx, "app", pod, "sidecar"); err == nil || !strings.Contains(err.Error(), "envSourceContainerName") {
		t.Errorf("missing container error = %v", err)
	}
	envOf := func(string) (map[string]string, error) { return env, nil }

	params, err := r.AuthParams(ctx, "app", &kedav1alpha1.AuthenticationRef{Name: "auth"}, envOf)
	if err != nil {
		t.Fatal(err)
	}
	if params["password"] != "s3cret" || params["listName"] != "jobs" || params["address"] != "127.0.0.1:6379" {
		t.Errorf("params = %v", params)
	}
	params, err = r.AuthParams(ctx, "other", &kedav1alpha1.AuthenticationRef{Name: "cluster", Kind: "ClusterTriggerAuthentication"}, envOf)
	if err != nil || params["token"] != "cluster-token" {
		t.Errorf("cluster params = %v (%v)", params, err)
	}
	for name, want := range map[string]string{"vault": "spec.hashiCorpVault", "badkey": `has no key "nope"`, "missing": "TriggerAuthentication app/missing"} {
		_, err := r.AuthParams(ctx, "app", &kedav1alpha1.AuthenticationRef{Name: name}, envOf)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: error = %v, want it to mention %q and no secret", name, err, want)
		}
	}
}
