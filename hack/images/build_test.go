package main

import (
	"context"
	"testing"
	"time"
)

func TestSourceDateEpoch(t *testing.T) {
	info, err := readSourceInfo(context.Background(), repoRoot, "1700000000")
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Unix(1700000000, 0).UTC(); !info.Created.Equal(want) {
		t.Errorf("created %s, want SOURCE_DATE_EPOCH %s", info.Created, want)
	}
	if _, err := readSourceInfo(context.Background(), repoRoot, "yesterday"); err == nil {
		t.Error("an invalid SOURCE_DATE_EPOCH was accepted")
	}
}

func TestLicenseID(t *testing.T) {
	for text, want := range map[string]string{
		"                                 Apache License\n                           Version 2.0, January 2004": "Apache-2.0",
		"MIT License\n\nPermission is hereby granted, free of charge, to any person":                            "MIT",
		"Mozilla Public License Version 2.0\n==================================":                                "MPL-2.0",
		"All rights reserved.": "",
	} {
		if got := licenseID(text); got != want {
			t.Errorf("licenseID(%.30q) = %q, want %q", text, got, want)
		}
	}
}

func TestLabelsOmitUnknown(t *testing.T) {
	created := time.Unix(1700000000, 0).UTC()
	got := labels(imageMeta{chartImage: chartImage{Ref: "r:1", Tag: "1"}, sourceInfo: sourceInfo{Created: created}})
	want := map[string]string{
		"org.opencontainers.image.title":   "keda-operator",
		"org.opencontainers.image.version": "1",
		"org.opencontainers.image.created": "2023-11-14T22:13:20Z",
	}
	if len(got) != len(want) {
		t.Fatalf("labels %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("label %s = %q, want %q", k, got[k], v)
		}
	}
}
