package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	// entrypoint is where the binary lives in the container; the layer names it without the "/".
	entrypoint = "/keda-operator"
	// nonRoot is the uid and gid the operator runs as and owns its binary as (distroless's nonroot).
	nonRoot = 65532
	// title is the image's org.opencontainers.image.title.
	title = "keda-operator"

	// The index.json annotations that let skopeo and crane (ref.name) and containerd and docker
	// load (image.name) find the image by name.
	annotationRefName       = "org.opencontainers.image.ref.name"
	annotationContainerName = "io.containerd.image.name"
)

// imageMeta is everything the images say about themselves.
type imageMeta struct {
	chartImage
	sourceInfo
}

// labels are the image config's labels and the index's annotations: the OCI pre-defined keys,
// each omitted when its value is unknown.
func labels(m imageMeta) map[string]string {
	out := map[string]string{
		"org.opencontainers.image.title":   title,
		"org.opencontainers.image.version": m.Tag,
		"org.opencontainers.image.created": m.Created.UTC().Format(time.RFC3339),
	}
	for key, value := range map[string]string{
		"org.opencontainers.image.source":   m.Source,
		"org.opencontainers.image.revision": m.Revision,
		"org.opencontainers.image.licenses": m.Licenses,
	} {
		if value != "" {
			out[key] = value
		}
	}
	return out
}

// imageIndex is the multi-platform image: one image per platform, binaries[i] being the operator
// built for platforms[i].
func imageIndex(binaries []string, platforms []v1.Platform, m imageMeta) (v1.ImageIndex, error) {
	if len(binaries) != len(platforms) {
		return nil, fmt.Errorf("%d binaries for %d platforms", len(binaries), len(platforms))
	}
	adds := make([]mutate.IndexAddendum, 0, len(platforms))
	for i, p := range platforms {
		img, err := platformImage(binaries[i], p, m)
		if err != nil {
			return nil, err
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	idx := mutate.AppendManifests(empty.Index, adds...)
	return mutate.Annotations(idx, labels(m)).(v1.ImageIndex), nil
}

// platformImage is an empty base plus one layer holding the binary, run as nonRoot.
func platformImage(binary string, p v1.Platform, m imageMeta) (v1.Image, error) {
	layer, err := binaryLayer(binary, m.Created)
	if err != nil {
		return nil, err
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	created := v1.Time{Time: m.Created}
	base, err = mutate.ConfigFile(base, &v1.ConfigFile{
		Architecture: p.Architecture,
		OS:           p.OS,
		Variant:      p.Variant,
		Created:      created,
		Config: v1.Config{
			Entrypoint: []string{entrypoint},
			User:       fmt.Sprintf("%d:%d", nonRoot, nonRoot),
			WorkingDir: "/",
			Labels:     labels(m),
		},
		RootFS: v1.RootFS{Type: "layers"},
	})
	if err != nil {
		return nil, fmt.Errorf("failed to set the %s image config: %w", p.String(), err)
	}
	img, err := mutate.Append(base, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   created,
			CreatedBy: "go build -trimpath -tags timetzdata " + operatorPkg,
			Comment:   "hack/images",
		},
	})
	if err != nil {
		return nil, fmt.Errorf("failed to add the %s operator layer: %w", p.String(), err)
	}
	return img, nil
}

// binaryLayer is a gzipped tar holding only the binary at entrypoint, with fixed owner, mode and
// mtime so that the same binary always gives the same digest.
func binaryLayer(binary string, mtime time.Time) (v1.Layer, error) {
	f, err := os.Open(binary)
	if err != nil {
		return nil, fmt.Errorf("failed to open %s: %w", binary, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("failed to stat %s: %w", binary, err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     entrypoint[1:],
		Size:     st.Size(),
		Mode:     0o755,
		Uid:      nonRoot,
		Gid:      nonRoot,
		ModTime:  mtime,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, fmt.Errorf("failed to write the layer of %s: %w", binary, err)
	}
	if _, err := io.Copy(tw, f); err != nil {
		return nil, fmt.Errorf("failed to write the layer of %s: %w", binary, err)
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("failed to write the layer of %s: %w", binary, err)
	}
	data := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
	if err != nil {
		return nil, fmt.Errorf("failed to make the layer of %s: %w", binary, err)
	}
	return layer, nil
}
