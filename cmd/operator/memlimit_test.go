package main

import "testing"

func TestSoftMemoryLimit(t *testing.T) {
	for _, tc := range []struct {
		file    string
		ratio   float64
		want    int64
		wantOK  bool
		wantErr bool
	}{
		{file: "268435456\n", ratio: 0.9, want: 241591910, wantOK: true},
		{file: "1048576000", ratio: 0.5, want: 524288000, wantOK: true},
		{file: "max\n", ratio: 0.9},
		{file: "", ratio: 0.9},
		{file: "9223372036854771712\n", ratio: 0.9}, // cgroup v1 without a limit
		{file: "0", ratio: 0.9},
		{file: "lots", ratio: 0.9, wantErr: true},
	} {
		got, ok, err := softMemoryLimit(tc.file, tc.ratio)
		if (err != nil) != tc.wantErr || ok != tc.wantOK || got != tc.want {
			t.Errorf("softMemoryLimit(%q, %v) = %d, %v, %v; want %d, %v, error %v", tc.file, tc.ratio, got, ok, err, tc.want, tc.wantOK, tc.wantErr)
		}
	}
}
