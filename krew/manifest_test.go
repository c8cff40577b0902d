// Package krew holds the krew plugin manifest; its test checks the manifest that `make release`
// writes and that the plugin works when kubectl finds it on PATH.
package krew

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

type manifest struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Version          string `json:"version"`
		Homepage         string `json:"homepage"`
		ShortDescription string `json:"shortDescription"`
		Description      string `json:"description"`
		Platforms        []struct {
			Selector struct {
				MatchLabels map[string]string `json:"matchLabels"`
			} `json:"selector"`
			URI    string `json:"uri"`
			Sha256 string `json:"sha256"`
			Bin    string `json:"bin"`
		} `json:"platforms"`
	} `json:"spec"`
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// TestReleaseManifest fills the manifest for fake archives with the release script's own code and
// validates its structure the way krew does.
func TestReleaseManifest(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64", "windows_amd64", "windows_arm64"} {
		if err := os.WriteFile(filepath.Join(dir, "kubectl-keda_v1.2.3_"+p+".tar.gz"), []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command("bash", "../hack/release.sh", "manifest", "v1.2.3", dir).Output()
	if err != nil {
		t.Fatalf("release.sh manifest: %v", err)
	}
	var m manifest
	if err := yaml.UnmarshalStrict(out, &m); err != nil {
		t.Fatalf("manifest is not valid: %v\n%s", err, out)
	}
	if m.APIVersion != "krew.googlecontainertools.github.com/v1alpha2" || m.Kind != "Plugin" || m.Metadata.Name != "keda" {
		t.Errorf("header = %s %s %s", m.APIVersion, m.Kind, m.Metadata.Name)
	}
	if m.Spec.Version != "v1.2.3" || m.Spec.ShortDescription == "" || m.Spec.Homepage == "" || m.Spec.Description == "" {
		t.Errorf("spec = %+v", m.Spec)
	}
	seen := map[string]bool{}
	for _, p := range m.Spec.Platforms {
		key := p.Selector.MatchLabels["os"] + "/" + p.Selector.MatchLabels["arch"]
		seen[key] = true
		if !sha256Hex.MatchString(p.Sha256) {
			t.Errorf("%s: sha256 %q", key, p.Sha256)
		}
		if !strings.HasSuffix(p.URI, ".tar.gz") || !strings.Contains(p.URI, "/v1.2.3/") {
			t.Errorf("%s: uri %q", key, p.URI)
		}
		wantBin := "kubectl-keda"
		if p.Selector.MatchLabels["os"] == "windows" {
			wantBin += ".exe"
		}
		if p.Bin != wantBin {
			t.Errorf("%s: bin %q, want %q", key, p.Bin, wantBin)
		}
	}
	for _, want := range []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64", "windows/arm64"} {
		if !seen[want] {
			t.Errorf("no platform %s", want)
		}
	}
}

// TestKubectlFindsThePlugin builds kubectl-keda, puts it on PATH and runs `kubectl keda version`
// through the real kubectl.
func TestKubectlFindsThePlugin(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed")
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-ldflags", "-X github.com/kedactl/kedactl/internal/version.version=v9.9.9-test", "-o", filepath.Join(bin, "kubectl-keda"), "../cmd/kubectl-keda")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(kubectl, "keda", "version")
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "kubectl-keda v9.9.9-test" {
		t.Fatalf("kubectl keda version = %q (%v)", out, err)
	}
	list := exec.Command(kubectl, "plugin", "list")
	list.Env = cmd.Env
	if out, _ := list.CombinedOutput(); !strings.Contains(string(out), "kubectl-keda") {
		t.Errorf("kubectl plugin list does not show kubectl-keda:\n%s", out)
	}
}
