package scalers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// cronMetadata is the cron trigger's metadata.
type cronMetadata struct {
	Start           string `keda:"name=start, order=triggerMetadata"`
	End             string `keda:"name=end, order=triggerMetadata"`
	Timezone        string `keda:"name=timezone, order=triggerMetadata"`
	DesiredReplicas int64  `keda:"name=desiredReplicas, order=triggerMetadata"`

	location   *time.Location
	start, end cron.Schedule
}

// Validate parses the time zone and the two cron expressions.
func (m *cronMetadata) Validate() error {
	loc, err := time.LoadLocation(m.Timezone)
	if err != nil {
		return &ParamError{Param: "timezone", Problem: fmt.Sprintf("%q is not a known time zone", m.Timezone), Fix: "use an IANA name such as Etc/UTC or Europe/Paris"}
	}
	m.location = loc
	if m.start, err = parseCron(m.Start); err != nil {
		return &ParamError{Param: "start", Problem: fmt.Sprintf("%q is not a valid cron expression (%v)", m.Start, err), Fix: "use five fields: minute hour day-of-month month day-of-week"}
	}
	if m.end, err = parseCron(m.End); err != nil {
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

// outsideWindowValue is the metric outside the window: with the AverageValue target of 1 it asks
// the HPA for one replica, and the inactive trigger lets the operator deactivate after cooldown.
const outsideWindowValue = 1

type cronScaler struct {
	cfg        *Config
	meta       cronMetadata
	metricName string
	now        func() time.Time
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

func newCronScaler(_ context.Context, cfg *Config) (Scaler, error) {
	return newCronScalerWithClock(cfg, time.Now)
}

func newCronScalerWithClock(cfg *Config, now func() time.Time) (*cronScaler, error) {
	s := &cronScaler{cfg: cfg, now: now}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	s.metricName = MetricName(cfg.TriggerIndex, fmt.Sprintf("cron-%s-%s-%s", s.meta.Timezone, cronNamePart(s.meta.Start), cronNamePart(s.meta.End)))
	return s, nil
}

// cronNamePart writes a cron expression the way KEDA puts it in metric names: no spaces, * as x.
func cronNamePart(expr string) string {
	return strings.ReplaceAll(strings.ReplaceAll(expr, " ", ""), "*", "x")
}

// inWindow reports whether now lies between a start and the end that follows it: the next end
// comes before the next start.
func (s *cronScaler) inWindow() bool {
	now := s.now().In(s.meta.location)
	return s.meta.end.Next(now).Before(s.meta.start.Next(now))
}

func (s *cronScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, 1)
}

func (s *cronScaler) GetMetricsAndActivity(_ context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	value, active := int64(outsideWindowValue), false
	if s.inWindow() {
		value, active = s.meta.DesiredReplicas, true
	}
	return []external_metrics.ExternalMetricValue{{MetricName: metricName, Value: *resource.NewQuantity(value, resource.DecimalSI)}}, active, nil
}

func (s *cronScaler) Close(context.Context) error { return nil }
