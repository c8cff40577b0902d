package main

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const repoRoot = "../.."

// testDir holds everything the fixture builds; TestMain removes it.
var testDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kedactl-images-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fixture is the operator cross-built once for every test, packed twice from the same binaries.
type fixture struct {
	meta          imageMeta
	first, second result
	// layout is first's tarball unpacked.
	layout string
}

var buildFixture = sync.OnceValues(func() (*fixture, error) {
	opts := options{RepoRoot: repoRoot, SourceDateEpoch: os.Getenv("SOURCE_DATE_EPOCH")}
	opts.setDefaults()
	m, err := readMeta(context.Background(), opts)
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(testDir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		return nil, err
	}
	binaries, err := buildOperator(context.Background(), repoRoot, bin, m.Tag, platforms)
	if err != nil {
		return nil, err
	}
	f := &fixture{meta: m, layout: filepath.Join(testDir, "layout")}
	if f.first, err = pack(binaries, m, filepath.Join(testDir, "first")); err != nil {
		return nil, err
	}
	if f.second, err = pack(binaries, m, filepath.Join(testDir, "second")); err != nil {
		return nil, err
	}
	if err := untar(f.first.Path, f.layout); err != nil {
		return nil, err
	}
	return f, nil
})

// loadFixture builds the images on first use; a failure fails every test that needs them.
func loadFixture(t *testing.T) *fixture {
	t.Helper()
	if testing.Short() {
		t.Skip("cross-builds the operator twice")
	}
	f, err := buildFixture()
	if err != nil {
		t.Fatalf("failed to build the images: %v", err)
	}
	return f
}

func TestArchiveIsReproducible(t *testing.T) {
	f := loadFixture(t)
	if f.first.Index != f.second.Index {
		t.Errorf("index digests differ: %s and %s", f.first.Index, f.second.Index)
	}
	for i, p := range platforms {
		if f.first.Manifests[i] != f.second.Manifests[i] {
			t.Errorf("%s manifest digests differ: %s and %s", p.String(), f.first.Manifests[i], f.second.Manifests[i])
		}
	}
	if a, b := fileSum(t, f.first.Path), fileSum(t, f.second.Path); a != b {
		t.Errorf("tarballs differ: sha256 %x and %x", a, b)
	}
	if want := archivePath(filepath.Join(testDir, "first"), f.meta.Tag); f.first.Path != want {
		t.Errorf("tarball at %s, want %s", f.first.Path, want)
	}
}

func fileSum(t *testing.T, path string) [sha256.Size]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(data)
}

// untar unpacks the archive at path into dir, refusing entries that leave dir.
func untar(path, dir string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("failed to read %s: %w", path, err)
		}
		target := filepath.Join(dir, filepath.FromSlash(hdr.Name))
		if !strings.HasPrefix(target, filepath.Clean(dir)+string(filepath.Separator)) {
			return fmt.Errorf("%s: entry %q leaves the archive", path, hdr.Name)
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			out, err := os.Create(target)
			if err != nil {
				return err
			}
			_, err = io.Copy(out, tr)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: unexpected entry type %c for %q", path, hdr.Typeflag, hdr.Name)
		}
	}
}
