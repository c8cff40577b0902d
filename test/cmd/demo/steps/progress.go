// Package steps is what `make demo` does, kept apart from its main so that the scenario's decisions
// and the plugin tour can be tested: the progress lines, the 0 -> N -> 0 scenario as a pure state
// machine, and the tour of `kubectl keda` commands run as a user runs them.
package steps

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Progress prints one line per step, stamped with the time since the demo started (make demo
// passes the moment it began, so the stamps include building the demo itself).
type Progress struct {
	Out   io.Writer
	Start time.Time
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Stamp formats an elapsed time as the lines' prefix: [ 0:42], [12:05], [100:00].
func Stamp(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int(d / time.Second)
	return fmt.Sprintf("[%2d:%02d]", s/60, s%60)
}

// Step prints one progress line.
func (p *Progress) Step(format string, args ...any) {
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	fmt.Fprintf(p.Out, "%s %s\n", Stamp(now().Sub(p.Start)), fmt.Sprintf(format, args...))
}

// ParseStart reads make demo's start time, given as Unix nanoseconds (date +%s%N); anything else
// gives fallback, so that running the demo binary by hand stamps from its own start.
func ParseStart(s string, fallback time.Time) time.Time {
	ns, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || ns <= 0 {
		return fallback
	}
	return time.Unix(0, ns)
}
