package main

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// openIndex opens the unpacked tarball as an OCI layout and returns its one image index, after
// checking that index.json names it by the chart's reference.
func openIndex(t *testing.T, f *fixture) v1.ImageIndex {
	t.Helper()
	lp, err := layout.FromPath(f.layout)
	if err != nil {
		t.Fatalf("not an OCI layout: %v", err)
	}
	root, err := lp.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	rm, err := root.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(rm.Manifests) != 1 {
		t.Fatalf("index.json has %d entries, want 1", len(rm.Manifests))
	}
	entry := rm.Manifests[0]
	if entry.MediaType != types.OCIImageIndex {
		t.Fatalf("index.json entry is a %s, want an image index", entry.MediaType)
	}
	if got := entry.Annotations[annotationRefName]; got != f.meta.Tag {
		t.Errorf("%s = %q, want %q", annotationRefName, got, f.meta.Tag)
	}
	if got := entry.Annotations[annotationContainerName]; got != f.meta.Ref {
		t.Errorf("%s = %q, want %q", annotationContainerName, got, f.meta.Ref)
	}
	if entry.Digest != f.first.Index {
		t.Errorf("index.json names %s, the build reported %s", entry.Digest, f.first.Index)
	}
	idx, err := root.ImageIndex(entry.Digest)
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

func TestIndexHasBothPlatforms(t *testing.T) {
	f := loadFixture(t)
	im, err := openIndex(t, f).IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range im.Manifests {
		if d.MediaType != types.OCIManifestSchema1 {
			t.Errorf("manifest %s is a %s, want an OCI image manifest", d.Digest, d.MediaType)
		}
		if d.Platform == nil {
			t.Fatalf("manifest %s has no platform", d.Digest)
		}
		got = append(got, d.Platform.String())
	}
	if want := []string{"linux/amd64", "linux/arm64"}; !slices.Equal(got, want) {
		t.Errorf("platforms %v, want %v", got, want)
	}
}

func TestImageConfig(t *testing.T) {
	f := loadFixture(t)
	forEachImage(t, openIndex(t, f), func(t *testing.T, p v1.Platform, img v1.Image) {
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.OS != p.OS || cf.Architecture != p.Architecture {
			t.Errorf("config is for %s/%s", cf.OS, cf.Architecture)
		}
		c := cf.Config
		if !slices.Equal(c.Entrypoint, []string{"/keda-operator"}) || len(c.Cmd) != 0 {
			t.Errorf("entrypoint %q cmd %q, want [/keda-operator] and none", c.Entrypoint, c.Cmd)
		}
		if c.User != "65532:65532" {
			t.Errorf("user %q, want 65532:65532", c.User)
		}
		if c.WorkingDir != "/" {
			t.Errorf("working dir %q, want /", c.WorkingDir)
		}
		if len(c.Env) != 0 {
			t.Errorf("env %q, want none", c.Env)
		}
		if !cf.Created.Time.Equal(f.meta.Created) {
			t.Errorf("created %s, want %s", cf.Created.Time, f.meta.Created)
		}
		want := map[string]string{
			"org.opencontainers.image.title":    "keda-operator",
			"org.opencontainers.image.source":   "https://github.com/kedactl/kedactl",
			"org.opencontainers.image.version":  f.meta.Tag,
			"org.opencontainers.image.revision": f.meta.Revision,
			"org.opencontainers.image.created":  f.meta.Created.Format(time.RFC3339),
		}
		if _, err := os.Stat(filepath.Join(repoRoot, "LICENSE")); err == nil {
			want["org.opencontainers.image.licenses"] = f.meta.Licenses
		}
		for k, v := range want {
			if v == "" {
				delete(want, k)
			}
		}
		if len(c.Labels) != len(want) {
			t.Errorf("labels %v, want %v", c.Labels, want)
		}
		for k, v := range want {
			if c.Labels[k] != v {
				t.Errorf("label %s = %q, want %q", k, c.Labels[k], v)
			}
		}
	})
	if _, err := os.Stat(filepath.Join(repoRoot, ".git")); err == nil {
		if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(f.meta.Revision) {
			t.Errorf("revision %q in a git checkout, want a commit id", f.meta.Revision)
		}
	}
}

func TestImageLayerIsTheStaticBinary(t *testing.T) {
	f := loadFixture(t)
	machines := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	forEachImage(t, openIndex(t, f), func(t *testing.T, p v1.Platform, img v1.Image) {
		layers, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		if len(layers) != 1 {
			t.Fatalf("%d layers, want 1", len(layers))
		}
		if mt, _ := layers[0].MediaType(); mt != types.OCILayer {
			t.Errorf("layer media type %s, want %s", mt, types.OCILayer)
		}
		rc, err := layers[0].Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		tr := tar.NewReader(rc)
		var binary []byte
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if name := path.Join("/", hdr.Name); name != "/keda-operator" || binary != nil {
				t.Fatalf("layer holds %s, want only /keda-operator", name)
			}
			if hdr.Typeflag != tar.TypeReg || hdr.Mode != 0o755 || hdr.Uid != 65532 || hdr.Gid != 65532 {
				t.Errorf("/keda-operator: type %c mode %o owner %d:%d, want a 0755 file owned by 65532:65532",
					hdr.Typeflag, hdr.Mode, hdr.Uid, hdr.Gid)
			}
			if !hdr.ModTime.Equal(f.meta.Created) {
				t.Errorf("/keda-operator mtime %s, want %s", hdr.ModTime, f.meta.Created)
			}
			if binary, err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
		}
		if binary == nil {
			t.Fatal("layer is empty")
		}
		bin, err := elf.NewFile(bytes.NewReader(binary))
		if err != nil {
			t.Fatalf("/keda-operator is not an ELF: %v", err)
		}
		if want := machines[p.Architecture]; bin.Machine != want {
			t.Errorf("/keda-operator is for %s, want %s", bin.Machine, want)
		}
		for _, prog := range bin.Progs {
			if prog.Type == elf.PT_INTERP {
				t.Errorf("/keda-operator has an interpreter: it is dynamically linked")
			}
		}
	})
}

// forEachImage runs check as a subtest on every platform's image of idx.
func forEachImage(t *testing.T, idx v1.ImageIndex, check func(t *testing.T, p v1.Platform, img v1.Image)) {
	t.Helper()
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range im.Manifests {
		t.Run(d.Platform.String(), func(t *testing.T) {
			img, err := idx.Image(d.Digest)
			if err != nil {
				t.Fatal(err)
			}
			check(t, *d.Platform, img)
		})
	}
}
