package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

const (
	operatorPkg = "./cmd/operator"
	versionVar  = "github.com/kedactl/kedactl/internal/version.version"
)

// buildOperator cross-builds a static operator binary for every platform into dir, all at once, and
// returns their paths in the order of platforms. The tag becomes the binary's version.
func buildOperator(ctx context.Context, repoRoot, dir, tag string, platforms []v1.Platform) ([]string, error) {
	paths := make([]string, len(platforms))
	errs := make([]error, len(platforms))
	var wg sync.WaitGroup
	for i, p := range platforms {
		paths[i] = filepath.Join(dir, "keda-operator-"+p.OS+"-"+p.Architecture)
		wg.Go(func() { errs[i] = goBuild(ctx, repoRoot, paths[i], tag, p) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return paths, nil
}

func goBuild(ctx context.Context, repoRoot, out, tag string, p v1.Platform) error {
	// timetzdata: the base image has no /usr/share/zoneinfo and the cron trigger loads time zones.
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-tags", "timetzdata",
		"-ldflags", "-s -w -X "+versionVar+"="+tag, "-o", out, operatorPkg)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Architecture)
	// The baseline instruction set, so that the image runs on every machine of its platform.
	switch p.Architecture {
	case "amd64":
		cmd.Env = append(cmd.Env, "GOAMD64=v1")
	case "arm64":
		cmd.Env = append(cmd.Env, "GOARM64=v8.0")
	}
	if output, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("failed to build %s for %s: %w\n%s", operatorPkg, p.String(), err, output)
	}
	return nil
}

// sourceInfo is what the image's labels say about the sources it was built from.
type sourceInfo struct {
	// Created is SOURCE_DATE_EPOCH, else the commit time of HEAD; never the clock, so that two
	// builds of the same sources are identical.
	Created time.Time
	// Revision is HEAD's commit; empty outside a git checkout.
	Revision string
	// Licenses is the SPDX identifier of the repository's LICENSE; empty when there is none or it
	// is not recognised.
	Licenses string
}

func readSourceInfo(ctx context.Context, repoRoot, sourceDateEpoch string) (sourceInfo, error) {
	var info sourceInfo
	if rev, err := git(ctx, repoRoot, "rev-parse", "HEAD"); err == nil {
		info.Revision = rev
	}
	epoch := sourceDateEpoch
	if epoch == "" {
		ct, err := git(ctx, repoRoot, "log", "-1", "--format=%ct", "HEAD")
		if err != nil {
			return sourceInfo{}, fmt.Errorf("set SOURCE_DATE_EPOCH or build from a git checkout: %w", err)
		}
		epoch = ct
	}
	secs, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil {
		return sourceInfo{}, fmt.Errorf("invalid source date epoch %q: %w", epoch, err)
	}
	info.Created = time.Unix(secs, 0).UTC()

	text, err := os.ReadFile(filepath.Join(repoRoot, "LICENSE"))
	switch {
	case err == nil:
		info.Licenses = licenseID(string(text))
	case !os.IsNotExist(err):
		return sourceInfo{}, fmt.Errorf("failed to read LICENSE: %w", err)
	}
	return info, nil
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// licenseID recognises the common licence texts by a phrase each contains; "" for anything else,
// so that the label is omitted rather than wrong.
func licenseID(text string) string {
	text = strings.Join(strings.Fields(text), " ")
	for _, l := range []struct{ id, phrase string }{
		{"Apache-2.0", "Apache License Version 2.0"},
		{"MPL-2.0", "Mozilla Public License Version 2.0"},
		{"BSD-3-Clause", "Neither the name of"},
		{"MIT", "Permission is hereby granted, free of charge"},
	} {
		if strings.Contains(text, l.phrase) {
			return l.id
		}
	}
	return ""
}
