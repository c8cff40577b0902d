package resolve

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

func fakeReader(t *testing.T, objs ...client.Object) client.Reader {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := kedav1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	return fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
}

func cta(name string, spec kedav1alpha1.TriggerAuthenticationSpec) *kedav1alpha1.ClusterTriggerAuthentication {
	return &kedav1alpha1.ClusterTriggerAuthentication{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
}

func noEnv(string) (map[string]string, error) { return map[string]string{}, nil }

const fileSecret = "file-s3cret-value"

// TestFilePath: a ClusterTriggerAuthentication's filePath reads a JSON file under the root
// directory, re-read on every resolve; paths that leave the root, a missing root and bad files
// are refused with an error that names the file but never shows its content.
func TestFilePath(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{filepath.Join(root, "team-a"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path, content string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "team-a", "redis.json"), `{"password": "`+fileSecret+`", "port": 6379, "tls": true}`)
	write(filepath.Join(root, "broken.json"), `{"password": "`+fileSecret+`"`)
	write(filepath.Join(root, "nested.json"), `{"password": {"value": "`+fileSecret+`"}}`)
	write(filepath.Join(outside, "stolen.json"), `{"password": "`+fileSecret+`"}`)
	if err := os.Symlink(filepath.Join(outside, "stolen.json"), filepath.Join(root, "link.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("team-a/redis.json", filepath.Join(root, "inside-link.json")); err != nil {
		t.Fatal(err)
	}
	objs := []client.Object{
		&kedav1alpha1.TriggerAuthentication{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "namespaced"},
			Spec: kedav1alpha1.TriggerAuthenticationSpec{FilePath: "team-a/redis.json"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "keda", Name: "override"}, Data: map[string][]byte{"port": []byte("6380")}},
		cta("override", kedav1alpha1.TriggerAuthenticationSpec{FilePath: "team-a/redis.json",
			SecretTargetRef: []kedav1alpha1.AuthSecretTargetRef{{Parameter: "port", Name: "override", Key: "port"}}}),
	}
	for name, path := range map[string]string{"good": "team-a/redis.json", "dotted": "team-a/../team-a/redis.json", "inside-link": "inside-link.json",
		"traversal": "../outside/stolen.json", "absolute": filepath.Join(outside, "stolen.json"), "link": "link.json",
		"missing": "team-a/none.json", "broken": "broken.json", "nested": "nested.json", "dir": "team-a"} {
		objs = append(objs, cta(name, kedav1alpha1.TriggerAuthenticationSpec{FilePath: path}))
	}
	r := &Resolver{Reader: fakeReader(t, objs...), ClusterObjectNamespace: "keda", FilePathRoot: root}
	ctx := context.Background()
	clusterRef := func(name string) *kedav1alpha1.AuthenticationRef {
		return &kedav1alpha1.AuthenticationRef{Name: name, Kind: "ClusterTriggerAuthentication"}
	}

	for _, tc := range []struct {
		name    string
		ref     *kedav1alpha1.AuthenticationRef
		root    string
		want    map[string]string
		wantErr string
	}{
		{name: "good", ref: clusterRef("good"), want: map[string]string{"password": fileSecret, "port": "6379", "tls": "true"}},
		{name: "a .. that stays inside is cleaned", ref: clusterRef("dotted"), want: map[string]string{"password": fileSecret, "port": "6379", "tls": "true"}},
		{name: "a link inside the root", ref: clusterRef("inside-link"), want: map[string]string{"password": fileSecret, "port": "6379", "tls": "true"}},
		{name: "an explicit source overrides the file", ref: clusterRef("override"), want: map[string]string{"password": fileSecret, "port": "6380", "tls": "true"}},
		{name: "traversal", ref: clusterRef("traversal"), wantErr: "spec.filePath"},
		{name: "absolute", ref: clusterRef("absolute"), wantErr: "relative to the operator's --filepath-auth-root-path"},
		{name: "symlink out of the root", ref: clusterRef("link"), wantErr: "path escapes from parent"},
		{name: "missing file", ref: clusterRef("missing"), wantErr: `failed to read spec.filePath "team-a/none.json"`},
		{name: "a directory", ref: clusterRef("dir"), wantErr: `spec.filePath "team-a"`},
		{name: "not JSON", ref: clusterRef("broken"), wantErr: "is not a JSON object of parameter names to values"},
		{name: "not a plain value", ref: clusterRef("nested"), wantErr: `parameter "password" is not a string, number or boolean`},
		{name: "no root configured", ref: clusterRef("good"), root: "-", wantErr: "--filepath-auth-root-path"},
		{name: "namespaced TriggerAuthentication", ref: &kedav1alpha1.AuthenticationRef{Name: "namespaced"}, wantErr: "only a ClusterTriggerAuthentication may read a file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := *r
			if tc.root == "-" {
				r.FilePathRoot = ""
			}
			got, err := r.AuthParams(ctx, "app", tc.ref, noEnv)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want it to mention %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), fileSecret) {
					t.Fatalf("error shows the file's secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("params = %v, want %v", keys(got), keys(tc.want))
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("param %s differs from the file", k)
				}
			}
		})
	}

	t.Run("a changed file takes effect at the next resolve", func(t *testing.T) {
		write(filepath.Join(root, "team-a", "redis.json"), `{"password": "rotated"}`)
		got, err := r.AuthParams(ctx, "app", clusterRef("good"), noEnv)
		if err != nil {
			t.Fatal(err)
		}
		if got["password"] != "rotated" || len(got) != 1 {
			t.Errorf("after the rotation the parameters are %v, want only the rotated password", keys(got))
		}
	})
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
