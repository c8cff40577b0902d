package scalers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// The gcp-stackdriver trigger reads the newest point of the first time series a Cloud Monitoring
// filter matches in the project, over the last filterDuration minutes, optionally aligned and
// reduced (gcp.go has the request).

// gcpDefaultFilterMinutes is the range KEDA reads when filterDuration is unset or not above 0.
const gcpDefaultFilterMinutes = 2

// gcpStackdriverScaler runs one timeSeries.list per poll.
type gcpStackdriverScaler struct {
	cfg        *Config
	meta       meta.GCPStackdriverMetadata
	client     *gcpMonitoringClient
	metricName string
	// filter is metadata.filter restricted to the project, as KEDA restricts it.
	filter string
	// now is the clock, for tests.
	now func() time.Time
}

func newGCPStackdriverScaler(_ context.Context, cfg *Config) (Scaler, error) {
	s := &gcpStackdriverScaler{cfg: cfg, now: time.Now}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	s.metricName = MetricName(cfg.TriggerIndex, "gcp-stackdriver-"+s.meta.ProjectID)
	s.filter = gcpProjectFilter(s.meta.Filter, s.meta.ProjectID)
	c, err := newGCPMonitoringClient(cfg, s.meta.Creds,
		"check metadata.filter (it must name a metric.type) and the alignment parameters")
	if err != nil {
		return nil, err
	}
	s.client = c
	return s, nil
}

// gcpProjectFilter is filter limited to the project's own resources, worded as KEDA words it.
func gcpProjectFilter(filter, project string) string {
	return filter + ` AND resource.labels.project_id="` + project + `"`
}

// gcpRange is the interval KEDA asks for: the last minutes (2 when not above 0), in whole
// seconds.
func gcpRange(now time.Time, minutes int64) (start, end time.Time) {
	end = time.Unix(now.Unix(), 0).UTC()
	return end.Add(-time.Duration(gcpMinutes(minutes)) * time.Minute), end
}

// gcpMinutes is filterDuration as KEDA takes it: 2 when not above 0. It is bounded (at about two
// years) so that a huge value cannot overflow the range's duration.
func gcpMinutes(minutes int64) int64 {
	switch {
	case minutes <= 0:
		return gcpDefaultFilterMinutes
	case minutes > 1<<20:
		return 1 << 20
	}
	return minutes
}

func (s *gcpStackdriverScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, s.meta.TargetValue)
}

// GetMetricsAndActivity reads the newest point once; the trigger is active above
// activationTargetValue.
func (s *gcpStackdriverScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	start, end := gcpRange(s.now(), s.meta.FilterDuration)
	v, err := s.client.firstPoint(ctx, &gcpListRequest{project: s.meta.ProjectID, filter: s.filter, start: start, end: end, agg: s.meta.Agg})
	if errors.Is(err, errGCPNoPoint) {
		if s.meta.ValueIfNull == nil {
			return nil, false, fmt.Errorf("%s: no time series of project %s matched metadata.filter %q in the last %d minutes: check the filter, widen metadata.filterDuration, or set metadata.valueIfNull (e.g. \"0\") to read no data as a value",
				triggerWho(s.cfg), s.meta.ProjectID, meta.Clip(s.meta.Filter, 300), gcpMinutes(s.meta.FilterDuration))
		}
		v, err = *s.meta.ValueIfNull, nil
	}
	if err != nil {
		return nil, false, err
	}
	return oneMetricValue(metricName, v), v > s.meta.ActivationTargetValue, nil
}

func (s *gcpStackdriverScaler) Close(context.Context) error {
	s.client.close()
	return nil
}
