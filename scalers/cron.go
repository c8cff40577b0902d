package scalers

import (
	"context"
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
}

// outsideWindowValue is the metric outside the window: with the AverageValue target of 1 it asks
// the HPA for one replica, and the inactive trigger lets the operator deactivate after cooldown.
const outsideWindowValue = 1

type cronScaler struct {
	cfg        *Config
	meta       cronMetadata
	location   *time.Location
	start, end cron.Schedule
	metricName string
	now        func() time.Time
}

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

func newCronScaler(_ context.Context, cfg *Config) (Scaler, error) {
	return newCronScalerWithClock(cfg, time.Now)
}

func newCronScalerWithClock(cfg *Config, now func() time.Time) (*cronScaler, error) {
	s := &cronScaler{cfg: cfg, now: now}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	perr := func(param, problem, fix string) error {
		return &ParamError{TriggerIndex: cfg.TriggerIndex, TriggerType: cfg.TriggerType, TriggerName: cfg.TriggerName, Param: param, Problem: problem, Fix: fix}
	}
	loc, err := time.LoadLocation(s.meta.Timezone)
	if err != nil {
		return nil, perr("timezone", fmt.Sprintf("%q is not a known time zone", s.meta.Timezone), "use an IANA name such as Etc/UTC or Europe/Paris")
	}
	s.location = loc
	if s.start, err = cronParser.Parse(s.meta.Start); err != nil {
		return nil, perr("start", fmt.Sprintf("%q is not a valid cron expression (%v)", s.meta.Start, err), "use five fields: minute hour day-of-month month day-of-week")
	}
	if s.end, err = cronParser.Parse(s.meta.End); err != nil {
		return nil, perr("end", fmt.Sprintf("%q is not a valid cron expression (%v)", s.meta.End, err), "use five fields: minute hour day-of-month month day-of-week")
	}
	if s.meta.Start == s.meta.End {
		return nil, perr("end", "is the same as start", "give the window a different end")
	}
	if s.meta.DesiredReplicas < 0 {
		return nil, perr("desiredReplicas", fmt.Sprintf("is %d", s.meta.DesiredReplicas), "must not be negative")
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
	now := s.now().In(s.location)
	return s.end.Next(now).Before(s.start.Next(now))
}

func (s *cronScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	spec, err := ExternalMetricSpec(s.cfg, s.metricName, 1)
	if err != nil {
		return nil
	}
	return []autoscalingv2.MetricSpec{spec}
}

func (s *cronScaler) GetMetricsAndActivity(_ context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	value, active := int64(outsideWindowValue), false
	if s.inWindow() {
		value, active = s.meta.DesiredReplicas, true
	}
	return []external_metrics.ExternalMetricValue{{MetricName: metricName, Value: *resource.NewQuantity(value, resource.DecimalSI)}}, active, nil
}

func (s *cronScaler) Close(context.Context) error { return nil }
