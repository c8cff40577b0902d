package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	"go.yaml.in/yaml/v3"
)

// chartImage is the operator image the chart deploys by default, and what else the chart says about
// the project that belongs in the image's labels.
type chartImage struct {
	// Ref is the reference exactly as the chart's "keda.image" template renders it.
	Ref string
	// Tag is Ref's tag.
	Tag string
	// Source is the chart's first `sources` entry; empty when it has none.
	Source string
}

// chartValues is the part of values.yaml that names the image.
type chartValues struct {
	Image struct {
		Keda struct {
			Registry   string `yaml:"registry"`
			Repository string `yaml:"repository"`
			Tag        string `yaml:"tag"`
		} `yaml:"keda"`
	} `yaml:"image"`
}

// chartMeta is the part of Chart.yaml the image needs.
type chartMeta struct {
	AppVersion string   `yaml:"appVersion"`
	Sources    []string `yaml:"sources"`
}

// readChartImage reads values.yaml and Chart.yaml of the chart in dir.
func readChartImage(dir string) (chartImage, error) {
	var values chartValues
	if err := readYAML(filepath.Join(dir, "values.yaml"), &values); err != nil {
		return chartImage{}, err
	}
	var meta chartMeta
	if err := readYAML(filepath.Join(dir, "Chart.yaml"), &meta); err != nil {
		return chartImage{}, err
	}
	img := values.Image.Keda
	ref, err := imageRef(img.Registry, img.Repository, img.Tag, meta.AppVersion)
	if err != nil {
		return chartImage{}, fmt.Errorf("failed to name the image from chart %s: %w", dir, err)
	}
	out := chartImage{Ref: ref.String(), Tag: ref.TagStr()}
	if len(meta.Sources) > 0 {
		out.Source = meta.Sources[0]
	}
	return out, nil
}

// imageRef composes the reference the way charts/keda/templates/_helpers.tpl ("keda.image") does:
// registry/repository, or repository alone when registry is empty, and tag, or appVersion when tag
// is empty.
func imageRef(registry, repository, tag, appVersion string) (name.Tag, error) {
	if repository == "" {
		return name.Tag{}, fmt.Errorf("image.keda.repository is empty")
	}
	repo := repository
	if registry != "" {
		repo = registry + "/" + repository
	}
	if tag == "" {
		tag = appVersion
	}
	if tag == "" {
		return name.Tag{}, fmt.Errorf("neither image.keda.tag nor appVersion is set")
	}
	ref, err := name.NewTag(repo+":"+tag, name.StrictValidation)
	if err != nil {
		return name.Tag{}, fmt.Errorf("invalid image reference %q: %w", repo+":"+tag, err)
	}
	return ref, nil
}

func readYAML(path string, into any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("failed to read %s: %w", path, err)
	}
	if err := yaml.Unmarshal(data, into); err != nil {
		return fmt.Errorf("failed to parse %s: %w", path, err)
	}
	return nil
}
