package meta

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// CronMetadata is the cron trigger's metadata.
type CronMetadata struct {
	Start           string `keda:"name=start, order=triggerMetadata"`
	End             string `keda:"name=end, order=triggerMetadata"`
	Timezone        string `keda:"name=timezone, order=triggerMetadata"`
	DesiredReplicas int64  `keda:"name=desiredReplicas, order=triggerMetadata"`

	Location                   *time.Location
	StartSchedule, EndSchedule cron.Schedule
}

// Validate parses the time zone and the two cron expressions.
func (m *CronMetadata) Validate() error {
	loc, err := time.LoadLocation(m.Timezone)
	if err != nil {
		return &ParamError{Param: "timezone", Problem: fmt.Sprintf("%q is not a known time zone", m.Timezone), Fix: "use an IANA name such as Etc/UTC or Europe/Paris"}
	}
	m.Location = loc
	if m.StartSchedule, err = parseCron(m.Start); err != nil {
		return &ParamError{Param: "start", Problem: fmt.Sprintf("%q is not a valid cron expression (%v)", m.Start, err), Fix: "use five fields: minute hour day-of-month month day-of-week"}
	}
	if m.EndSchedule, err = parseCron(m.End); err != nil {
		return &ParamError{Param: "end", Problem: fmt.Sprintf("%q is not a valid cron expression (%v)", m.End, err), Fix: "use five fields: minute hour day-of-month month day-of-week"}
	}
	if m.Start == m.End {
		return &ParamError{Param: "end", Problem: "is the same as start", Fix: "give the window a different end"}
	}
	if m.DesiredReplicas < 0 {
		return &ParamError{Param: "desiredReplicas", Problem: fmt.Sprintf("is %d", m.DesiredReplicas), Fix: "must not be negative"}
	}
	return nil
}

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// parseCron parses a five-field cron expression. The cron library cuts a TZ= or CRON_TZ= prefix
// off at the first space and panics when there is none ("TZ=UTC" alone, or a tab after it), so
// that case is refused first.
func parseCron(expr string) (cron.Schedule, error) {
	if (strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ=")) && !strings.Contains(expr, " ") {
		return nil, errors.New("a TZ= prefix must be followed by a space and the five fields")
	}
	return cronParser.Parse(expr)
}
