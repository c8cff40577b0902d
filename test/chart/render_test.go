package chart

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestLint(t *testing.T) {
	for _, tc := range valueSets {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"lint", "--strict", chartDir()}, tc.args...)
			if out, err := runHelm(t, args...); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
		})
	}
}

// TestGolden compares `helm template keda charts/keda -n keda` for each value set with
// testdata/<name>.golden; `go test ./test/chart -run TestGolden -update` rewrites them.
func TestGolden(t *testing.T) {
	for _, tc := range valueSets {
		t.Run(tc.name, func(t *testing.T) {
			got := render(t, tc.args...)
			path := testdata(tc.name + ".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if d := firstDifference(string(want), got); d != "" {
				t.Errorf("render differs from %s (run with -update if the change is intended):\n%s", path, d)
			}
		})
	}
}

// firstDifference describes the first line where want and got differ, or returns "".
func firstDifference(want, got string) string {
	if want == got {
		return ""
	}
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl
		}
	}
	return "the files differ in trailing blank lines"
}

// TestSchemaRejects: values.schema.json makes helm refuse typos at any depth and wrong types, instead
// of silently ignoring them.
func TestSchemaRejects(t *testing.T) {
	kedaOnly := writeTemp(t, "metricsServer:\n  replicaCount: 2\n")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"typo at the top", []string{"--set", "watchNamespaces=apps"}, "additional properties 'watchNamespaces' not allowed"},
		{"typo one level down", []string{"--set", "operator.replicaCout=2"}, "at '/operator': additional properties 'replicaCout' not allowed"},
		{"typo in a security context", []string{"--set", "securityContext.operator.readOnlyRootFileSystem=true"}, "additional properties 'readOnlyRootFileSystem' not allowed"},
		{"typo in a values file", []string{"-f", kedaOnly}, "additional properties 'metricsServer' not allowed"},
		{"string for an integer", []string{"--set-string", "operator.replicaCount=2"}, "at '/operator/replicaCount': got string, want integer"},
		{"string for a boolean", []string{"--set-string", "prometheus.operator.enabled=true"}, "at '/prometheus/operator/enabled': got string, want boolean"},
		{"scalar for an object", []string{"--set", "resources.operator=big"}, "at '/resources/operator': got string, want object"},
		{"number for a string", []string{"--set", "watchNamespace=5"}, "at '/watchNamespace': got number, want string"},
		{"unknown log level", []string{"--set", "logging.operator.level=verbose"}, "/logging/operator/level"},
		{"a namespace that is not a name", []string{"--set-string", `watchNamespace=a\,B_c`}, "at '/watchNamespace'"},
		{"wildcard scale target group", []string{"--set", "rbac.scaledRefKinds[0].apiGroup=*", "--set", "rbac.scaledRefKinds[0].kind=Foo"}, "/rbac/scaledRefKinds/0/apiGroup"},
		{"pdb with both bounds", []string{"--set", "podDisruptionBudget.operator.minAvailable=1", "--set", "podDisruptionBudget.operator.maxUnavailable=1"}, "/podDisruptionBudget/operator"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"template", release, chartDir(), "-n", namespace}, tc.args...)
			_, err := runHelm(t, args...)
			if err == nil {
				t.Fatalf("helm template %v succeeded; want a schema error", tc.args)
			}
			msg := err.Error()
			if !strings.Contains(msg, "values don't meet the specifications of the schema") || !strings.Contains(msg, tc.want) {
				t.Fatalf("want a schema error mentioning %q, got:\n%s", tc.want, msg)
			}
		})
	}
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "values-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// TestObjectsCarryChartLabels: the uninstall check of the e2e test finds leftovers by these labels,
// so every object must carry them.
func TestObjectsCarryChartLabels(t *testing.T) {
	for _, tc := range valueSets {
		t.Run(tc.name, func(t *testing.T) {
			for _, obj := range renderObjects(t, tc.args...) {
				l := obj.GetLabels()
				if l["app.kubernetes.io/instance"] != release || l["app.kubernetes.io/part-of"] != "keda" || l["app.kubernetes.io/managed-by"] != "Helm" {
					t.Errorf("%s %s lacks the chart's labels: %v", obj.GetKind(), obj.GetName(), l)
				}
			}
		})
	}
}

// TestRestrictedPodSecurity: the operator pod meets the restricted Pod Security Standard (the e2e
// test also installs into a namespace that enforces it).
func TestRestrictedPodSecurity(t *testing.T) {
	for _, tc := range valueSets {
		t.Run(tc.name, func(t *testing.T) {
			d := deployment(t, renderObjects(t, tc.args...))
			pod := d.Spec.Template.Spec
			if len(pod.Containers) != 1 {
				t.Fatalf("want one container, got %d", len(pod.Containers))
			}
			c := pod.Containers[0]
			psc, sc := pod.SecurityContext, c.SecurityContext
			if psc == nil || sc == nil {
				t.Fatalf("pod or container security context missing: %+v %+v", psc, sc)
			}
			checks := map[string]bool{
				"runAsNonRoot":                    (psc.RunAsNonRoot != nil && *psc.RunAsNonRoot) || (sc.RunAsNonRoot != nil && *sc.RunAsNonRoot),
				"allowPrivilegeEscalation: false": sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation,
				"readOnlyRootFilesystem":          sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem,
				"capabilities drop ALL":           sc.Capabilities != nil && slices.Contains(sc.Capabilities.Drop, corev1.Capability("ALL")) && len(sc.Capabilities.Add) == 0,
				"seccompProfile RuntimeDefault":   sc.SeccompProfile != nil && sc.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault,
				"not privileged":                  sc.Privileged == nil || !*sc.Privileged,
				"no host namespaces":              !pod.HostNetwork && !pod.HostPID && !pod.HostIPC,
				"liveness probe":                  c.LivenessProbe != nil && c.LivenessProbe.HTTPGet != nil && c.LivenessProbe.HTTPGet.Path == "/healthz",
				"readiness probe":                 c.ReadinessProbe != nil && c.ReadinessProbe.HTTPGet != nil && c.ReadinessProbe.HTTPGet.Path == "/readyz",
				"resources":                       len(c.Resources.Requests) > 0 && len(c.Resources.Limits) > 0,
			}
			for what, ok := range checks {
				if !ok {
					t.Errorf("operator pod: %s not met", what)
				}
			}
			for _, v := range pod.Volumes {
				if v.HostPath != nil {
					t.Errorf("volume %s is a hostPath", v.Name)
				}
			}
		})
	}
}

// TestOperatorArgs checks that values reach the operator's flags.
func TestOperatorArgs(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want []string
		env  map[string]string
	}{
		{"default", nil, []string{"--zap-log-level=info", "--leader-elect=true", "--leader-election-namespace=keda", "--cluster-object-namespace=keda", "--health-probe-bind-address=:8081", "--metrics-bind-address=0", "--secure-port=6443", "--cert-dir=/certs", "--cert-secret-name=kedaorg-certs", "--cert-dns-names=keda-operator.keda.svc,keda-operator.keda.svc.cluster.local", "--scaler-timeout=3000ms", "--webhook-port=9443"}, map[string]string{"WATCH_NAMESPACE": ""}},
		{"keda-values", []string{"-f", testdata("keda-values.yaml")}, []string{"--zap-log-level=debug", "--zap-encoder=json", "--zap-time-encoding=iso8601", "--metrics-bind-address=:8080", "--scaler-timeout=5000ms", "--poll-workers=32"}, map[string]string{"TZ": "UTC"}},
		{"watch-namespace", []string{"--set", "watchNamespace=apps"}, nil, map[string]string{"WATCH_NAMESPACE": "apps"}},
		{"cert-manager", []string{"--set", "certificates.certManager.enabled=true"}, []string{"--tls-cert-file=/certs/tls.crt", "--tls-private-key-file=/certs/tls.key"}, nil},
		{"own certificate", []string{"--set", "certificates.autoGenerated=false", "--set", "certificates.caBundle=Q0E="}, []string{"--tls-cert-file=/certs/tls.crt"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := deployment(t, renderObjects(t, tc.args...)).Spec.Template.Spec.Containers[0]
			for _, a := range tc.want {
				if !slices.Contains(c.Args, a) {
					t.Errorf("args %v lack %s", c.Args, a)
				}
			}
			for name, value := range tc.env {
				i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == name })
				if i < 0 || c.Env[i].Value != value {
					t.Errorf("env %v: want %s=%q", c.Env, name, value)
				}
			}
		})
	}
}

// TestOptionalObjects checks which objects each setting adds or removes.
func TestOptionalObjects(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		present []string
		absent  []string
	}{
		{"default", nil, []string{"APIService/v1beta1.external.metrics.k8s.io", "ValidatingWebhookConfiguration/keda-admission"}, []string{"PodDisruptionBudget/keda-operator", "ServiceMonitor/keda-operator", "Certificate/keda-operator-tls"}},
		{"two replicas", []string{"--set", "operator.replicaCount=2"}, []string{"PodDisruptionBudget/keda-operator"}, nil},
		{"pdb without replicas", []string{"--set", "podDisruptionBudget.operator.minAvailable=1"}, []string{"PodDisruptionBudget/keda-operator"}, nil},
		{"service monitor", []string{"--set", "prometheus.operator.enabled=true", "--set", "prometheus.operator.serviceMonitor.enabled=true"}, []string{"ServiceMonitor/keda-operator"}, nil},
		{"cert-manager", []string{"--set", "certificates.certManager.enabled=true"}, []string{"Issuer/keda-operator-selfsigned", "Certificate/keda-operator-ca", "Issuer/keda-operator-ca", "Certificate/keda-operator-tls"}, nil},
		{"cert-manager with own CA", []string{"--set", "certificates.certManager.enabled=true", "--set", "certificates.certManager.generateCA=false"}, []string{"Issuer/keda-operator-ca", "Certificate/keda-operator-tls"}, []string{"Issuer/keda-operator-selfsigned", "Certificate/keda-operator-ca"}},
		{"no webhooks", []string{"--set", "webhooks.enabled=false"}, nil, []string{"ValidatingWebhookConfiguration/keda-admission"}},
		{"no APIService", []string{"--set", "apiService.create=false"}, nil, []string{"APIService/v1beta1.external.metrics.k8s.io"}},
		{"no RBAC", []string{"--set", "rbac.create=false", "--set", "serviceAccount.operator.create=false"}, nil, []string{"ClusterRole/keda-operator", "Role/keda-operator", "ServiceAccount/keda-operator"}},
		{"watch namespace", []string{"--set", "watchNamespace=apps"}, []string{"Role/keda-operator-watched", "RoleBinding/keda-operator-watched"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			have := map[string]bool{}
			for _, obj := range renderObjects(t, tc.args...) {
				have[obj.GetKind()+"/"+obj.GetName()] = true
			}
			for _, k := range tc.present {
				if !have[k] {
					t.Errorf("%s not rendered", k)
				}
			}
			for _, k := range tc.absent {
				if have[k] {
					t.Errorf("%s rendered", k)
				}
			}
		})
	}
}

// TestSeveralWatchedNamespaces: a comma-separated watchNamespace, as KEDA's WATCH_NAMESPACE, gets
// the watched Role and its binding in each namespace, and reaches the operator as written.
func TestSeveralWatchedNamespaces(t *testing.T) {
	roles := map[string]bool{}
	env := ""
	for _, obj := range renderObjects(t, "--set-string", `watchNamespace=apps\, jobs`) {
		switch {
		case obj.GetName() == "keda-operator-watched":
			roles[obj.GetKind()+" in "+obj.GetNamespace()] = true
		case obj.GetKind() == "Deployment":
			containers, _, _ := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "containers")
			for _, c := range containers {
				vars, _, _ := unstructured.NestedSlice(c.(map[string]any), "env")
				for _, v := range vars {
					if m := v.(map[string]any); m["name"] == "WATCH_NAMESPACE" {
						env, _ = m["value"].(string)
					}
				}
			}
		}
	}
	for _, want := range []string{"Role in apps", "RoleBinding in apps", "Role in jobs", "RoleBinding in jobs"} {
		if !roles[want] {
			t.Errorf("no %s; rendered %v", want, roles)
		}
	}
	if len(roles) != 4 {
		t.Errorf("rendered %v, want a Role and a RoleBinding in apps and in jobs only", roles)
	}
	if env != "apps, jobs" {
		t.Errorf("WATCH_NAMESPACE is %q", env)
	}
}

// TestAPIServiceTLS: the apiserver always verifies the operator: through the CA cert-manager injects,
// the CA the operator injects (self-managed certificates), or the caBundle you give.
func TestAPIServiceTLS(t *testing.T) {
	cases := []struct {
		name     string
		args     []string
		insecure bool
		inject   bool
	}{
		{"self-managed", nil, false, false},
		{"cert-manager", []string{"--set", "certificates.certManager.enabled=true"}, false, true},
		{"own certificate", []string{"--set", "certificates.autoGenerated=false", "--set", "certificates.caBundle=Q0E="}, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, obj := range renderObjects(t, tc.args...) {
				if obj.GetKind() != "APIService" {
					continue
				}
				insecure, _, _ := unstructured.NestedBool(obj.Object, "spec", "insecureSkipTLSVerify")
				if insecure != tc.insecure {
					t.Errorf("insecureSkipTLSVerify = %v, want %v", insecure, tc.insecure)
				}
				_, injected := obj.GetAnnotations()["cert-manager.io/inject-ca-from"]
				if injected != tc.inject {
					t.Errorf("cert-manager.io/inject-ca-from present = %v, want %v", injected, tc.inject)
				}
				return
			}
			t.Fatal("no APIService rendered")
		})
	}
	if _, err := runHelm(t, "template", release, chartDir(), "-n", namespace, "--set", "certificates.autoGenerated=false"); err == nil || !strings.Contains(err.Error(), "certificates.caBundle is required") {
		t.Errorf("own certificate without caBundle: want an error asking for certificates.caBundle, got %v", err)
	}
}

func deployment(t *testing.T, objs []*unstructured.Unstructured) *appsv1.Deployment {
	t.Helper()
	for _, obj := range objs {
		if obj.GetKind() == "Deployment" {
			d := &appsv1.Deployment{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, d); err != nil {
				t.Fatal(err)
			}
			return d
		}
	}
	t.Fatal("no Deployment rendered")
	return nil
}

// TestOperatorAcceptsChartArgs runs the operator binary with the flags each value set renders (then
// --help, so that it stops after parsing them): a flag the chart passes but the operator does not know,
// or a value it cannot parse, fails here instead of in a crash-looping pod.
func TestOperatorAcceptsChartArgs(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "keda-operator")
	build := exec.Command("go", "build", "-o", bin, "./cmd/operator")
	build.Dir = repoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("failed to build the operator: %v\n%s", err, out)
	}
	for _, tc := range valueSets {
		t.Run(tc.name, func(t *testing.T) {
			c := deployment(t, renderObjects(t, tc.args...)).Spec.Template.Spec.Containers[0]
			out, _ := exec.Command(bin, append(slices.Clone(c.Args), "--help")...).CombinedOutput()
			if !strings.Contains(string(out), "help requested") {
				t.Fatalf("the operator rejects the chart's args %v:\n%s", c.Args, lastLines(string(out), 5))
			}
		})
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
