package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestReferenceMatchesChart checks the image's default name against what helm renders for the
// chart's defaults (the chart test's golden file), so that values.yaml, Chart.yaml and make images
// cannot drift apart.
func TestReferenceMatchesChart(t *testing.T) {
	chart, err := readChartImage(filepath.Join(repoRoot, "charts", "keda"))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join(repoRoot, "test", "chart", "testdata", "default.golden")
	data, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	var rendered []string
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "image: "); ok {
			if u, err := strconv.Unquote(v); err == nil {
				v = u
			}
			rendered = append(rendered, v)
		}
	}
	if len(rendered) != 1 {
		t.Fatalf("%s renders %d images %v, want 1", golden, len(rendered), rendered)
	}
	if chart.Ref != rendered[0] {
		t.Errorf("make images names the image %s, the chart deploys %s", chart.Ref, rendered[0])
	}
	if !strings.HasSuffix(chart.Ref, ":"+chart.Tag) {
		t.Errorf("tag %q is not the tag of %s", chart.Tag, chart.Ref)
	}
	if chart.Source != "https://github.com/kedactl/kedactl" {
		t.Errorf("source %q, want the chart's first source", chart.Source)
	}
}

func TestImageRef(t *testing.T) {
	for _, tc := range []struct {
		name                                  string
		registry, repository, tag, appVersion string
		want                                  string
		wantErr                               bool
	}{
		{name: "defaults", registry: "ghcr.io", repository: "kedactl/keda-operator", appVersion: "0.1.0",
			want: "ghcr.io/kedactl/keda-operator:0.1.0"},
		{name: "tag wins over appVersion", registry: "ghcr.io", repository: "kedactl/keda-operator", tag: "v2",
			appVersion: "0.1.0", want: "ghcr.io/kedactl/keda-operator:v2"},
		{name: "no registry", repository: "registry.example.com/mirror/keda-operator", appVersion: "0.1.0-rc.1",
			want: "registry.example.com/mirror/keda-operator:0.1.0-rc.1"},
		{name: "no repository", registry: "ghcr.io", appVersion: "0.1.0", wantErr: true},
		{name: "no tag", registry: "ghcr.io", repository: "kedactl/keda-operator", wantErr: true},
		{name: "invalid tag", registry: "ghcr.io", repository: "kedactl/keda-operator", tag: "a+b", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref, err := imageRef(tc.registry, tc.repository, tc.tag, tc.appVersion)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("got %s, want an error", ref)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ref.String() != tc.want {
				t.Errorf("got %s, want %s", ref, tc.want)
			}
		})
	}
}
