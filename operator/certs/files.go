package certs

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// file is one file of CertDir and its content.
type file struct {
	name string
	data []byte
	perm fs.FileMode
}

// writeFiles brings dir up to date with files: each file whose content differs is written to a
// temp file in dir and renamed over the old one, so that a reader sees the old or the new content,
// never a part. It reports whether it wrote anything.
func writeFiles(dir string, files []file) (bool, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("failed to create the certificate dir %s: %w", dir, err)
	}
	wrote := false
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		old, err := os.ReadFile(path)
		if err == nil && bytes.Equal(old, f.data) {
			continue
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return wrote, fmt.Errorf("failed to read %s: %w", path, err)
		}
		if err := writeAtomic(path, f.data, f.perm); err != nil {
			return wrote, err
		}
		wrote = true
	}
	return wrote, nil
}

func writeAtomic(path string, data []byte, perm fs.FileMode) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("failed to create a temp file for %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(perm); err != nil {
		return fmt.Errorf("failed to set the mode of %s: %w", tmp.Name(), err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("failed to write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("failed to sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("failed to close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("failed to rename %s to %s: %w", tmp.Name(), path, err)
	}
	return nil
}
