package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// The files a container's memory limit is read from: cgroup v2 first, then v1.
var cgroupMemoryLimitFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// cgroupV1Unlimited: cgroup v1 writes "no limit" as the largest page-aligned int64; anything this
// large is no limit.
const cgroupV1Unlimited = int64(1) << 62

// softMemoryLimit returns the Go runtime's soft memory limit for a container whose memory limit
// file reads limitFile: ratio of the limit. Without it the collector lets the heap grow to twice
// what is live before collecting, so an operator holding 150 MB of objects would be killed by a
// 256 MiB limit it could live within; with it, the collector works harder as the heap nears the
// limit instead. ok is false when there is no limit ("max", empty, or cgroup v1's unlimited).
func softMemoryLimit(limitFile string, ratio float64) (limit int64, ok bool, err error) {
	raw := strings.TrimSpace(limitFile)
	if raw == "" || raw == "max" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("reading the container's memory limit %q: %w", raw, err)
	}
	if n <= 0 || n >= cgroupV1Unlimited {
		return 0, false, nil
	}
	return int64(float64(n) * ratio), true, nil
}

// containerMemoryLimit reads the first cgroup memory limit file that exists; "" when none does.
func containerMemoryLimit() string {
	for _, f := range cgroupMemoryLimitFiles {
		if b, err := os.ReadFile(f); err == nil {
			return string(b)
		}
	}
	return ""
}
