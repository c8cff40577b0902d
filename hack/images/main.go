// Command images builds the operator's OCI image for linux/amd64 and linux/arm64 with Go tooling
// only, no Docker: a static binary on an empty base, run as a non-root user, packed as an OCI image
// layout tarball named after the chart's default image (make images).
//
//	go run . -repo-root ../.. -out ../../dist/images
//
// Two runs on the same sources give the same bytes: the timestamps come from SOURCE_DATE_EPOCH or
// the commit time of HEAD.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// platforms the image is built for, in the order of the index.
var platforms = []v1.Platform{
	{OS: "linux", Architecture: "amd64"},
	{OS: "linux", Architecture: "arm64"},
}

type options struct {
	// RepoRoot is the kedactl checkout: the operator's sources and charts/keda.
	RepoRoot string
	// OutDir receives keda-operator-<tag>.oci.tar; default <RepoRoot>/dist/images.
	OutDir string
	// SourceDateEpoch, when set, is the images' creation time in Unix seconds.
	SourceDateEpoch string
}

func (o *options) setDefaults() {
	if o.RepoRoot == "" {
		o.RepoRoot = "."
	}
	if o.OutDir == "" {
		o.OutDir = filepath.Join(o.RepoRoot, "dist", "images")
	}
}

// result is what was built.
type result struct {
	Path string
	Ref  string
	// Index is the digest of the multi-platform image index.
	Index v1.Hash
	// Manifests are the digests of the per-platform images, in the order of platforms.
	Manifests []v1.Hash
}

func main() {
	var opts options
	flag.StringVar(&opts.RepoRoot, "repo-root", "../..", "the kedactl checkout")
	flag.StringVar(&opts.OutDir, "out", "", "directory for keda-operator-<tag>.oci.tar (default <repo-root>/dist/images)")
	flag.Parse()
	opts.SourceDateEpoch = os.Getenv("SOURCE_DATE_EPOCH")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := run(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "images:", err)
		os.Exit(1)
	}
	shown := res.Path
	if rel, err := filepath.Rel(opts.RepoRoot, res.Path); err == nil {
		shown = rel
	}
	fmt.Printf("%s\n  %s\n  index %s\n", res.Ref, shown, res.Index)
	for i, p := range platforms {
		fmt.Printf("  %-12s %s\n", p.String(), res.Manifests[i])
	}
}

func run(ctx context.Context, opts options) (result, error) {
	opts.setDefaults()
	m, err := readMeta(ctx, opts)
	if err != nil {
		return result{}, err
	}
	work, err := os.MkdirTemp("", "kedactl-images-")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(work)
	binaries, err := buildOperator(ctx, opts.RepoRoot, work, m.Tag, platforms)
	if err != nil {
		return result{}, err
	}
	return pack(binaries, m, opts.OutDir)
}

// readMeta reads the image's name from the chart and its labels from the sources.
func readMeta(ctx context.Context, opts options) (imageMeta, error) {
	chart, err := readChartImage(filepath.Join(opts.RepoRoot, "charts", "keda"))
	if err != nil {
		return imageMeta{}, err
	}
	src, err := readSourceInfo(ctx, opts.RepoRoot, opts.SourceDateEpoch)
	if err != nil {
		return imageMeta{}, err
	}
	return imageMeta{chartImage: chart, sourceInfo: src}, nil
}

// pack assembles the image from the binaries built for platforms and writes the tarball to outDir.
func pack(binaries []string, m imageMeta, outDir string) (result, error) {
	idx, err := imageIndex(binaries, platforms, m)
	if err != nil {
		return result{}, err
	}
	res := result{Path: archivePath(outDir, m.Tag), Ref: m.Ref}
	if res.Index, err = idx.Digest(); err != nil {
		return result{}, err
	}
	manifest, err := idx.IndexManifest()
	if err != nil {
		return result{}, err
	}
	for _, d := range manifest.Manifests {
		res.Manifests = append(res.Manifests, d.Digest)
	}
	if err := writeArchive(idx, m, res.Path); err != nil {
		return result{}, err
	}
	return res, nil
}

func archivePath(outDir, tag string) string {
	return filepath.Join(outDir, "keda-operator-"+tag+".oci.tar")
}
