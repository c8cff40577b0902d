package scalers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// outsideWindowValue is the metric outside the window: with the AverageValue target of 1 it asks
// the HPA for one replica, and the inactive trigger lets the operator deactivate after cooldown.
const outsideWindowValue = 1

type cronScaler struct {
	cfg        *Config
	meta       meta.CronMetadata
	metricName string
	now        func() time.Time
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
	now := s.now().In(s.meta.Location)
	return s.meta.EndSchedule.Next(now).Before(s.meta.StartSchedule.Next(now))
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
