package scalers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// The gcp-stackdriver trigger reads the newest point of the first time series a Cloud Monitoring
// filter matches in the project, over the last filterDuration minutes, optionally aligned and
// reduced (gcp.go has the request).

// gcpDefaultFilterMinutes is the range KEDA reads when filterDuration is unset or not above 0.
const gcpDefaultFilterMinutes = 2

// gcpStackdriverMetadata is the gcp-stackdriver trigger's metadata, with KEDA's parameter names.
type gcpStackdriverMetadata struct {
	ProjectID              string   `keda:"name=projectId, order=triggerMetadata"`
	Filter                 string   `keda:"name=filter, order=triggerMetadata"`
	TargetValue            float64  `keda:"name=targetValue, order=triggerMetadata, default=5"`
	ActivationTargetValue  float64  `keda:"name=activationTargetValue, order=triggerMetadata, default=0"`
	ValueIfNull            *float64 `keda:"name=valueIfNull, order=triggerMetadata, optional"`
	FilterDuration         int64    `keda:"name=filterDuration, order=triggerMetadata, optional"`
	AlignmentPeriodSeconds int64    `keda:"name=alignmentPeriodSeconds, order=triggerMetadata, optional"`
	AlignmentAligner       string   `keda:"name=alignmentAligner, order=triggerMetadata, optional"`
	AlignmentReducer       string   `keda:"name=alignmentReducer, order=triggerMetadata, optional"`
	gcpAuthParams

	metricSource

	// Set by Validate.
	agg gcpAggregation
}

// Validate checks the parameters together.
func (m *gcpStackdriverMetadata) Validate() error {
	if err := gcpCheckProjectID("projectId", m.ProjectID); err != nil {
		return err
	}
	if strings.TrimSpace(m.Filter) == "" {
		return &ParamError{Param: "filter", Problem: "is empty", Fix: `use a Cloud Monitoring filter naming a metric, such as metric.type="pubsub.googleapis.com/subscription/num_undelivered_messages"`}
	}
	if m.TargetValue < 0 || (m.TargetValue == 0 && !m.AsMetricSource()) {
		// KEDA hands a target of 0 to the HPA, which refuses it; as a metric source of
		// scalingModifiers the HPA never sees it.
		return &ParamError{Param: "targetValue", Problem: fmt.Sprintf("is %g", m.TargetValue), Fix: "must be above 0: it is the metric's value per replica the HPA aims at"}
	}
	if m.AlignmentPeriodSeconds == 0 {
		// As KEDA: without a period there is no aggregation, and aligner and reducer are unused.
		return nil
	}
	if m.AlignmentPeriodSeconds < 60 {
		return &ParamError{Param: "alignmentPeriodSeconds", Problem: fmt.Sprintf("is %d", m.AlignmentPeriodSeconds), Fix: "must be at least 60 (Cloud Monitoring's smallest alignment period), or unset for no aggregation"}
	}
	aligner, err := gcpEnumValue("alignmentAligner", m.AlignmentAligner, gcpAligners, "mean, max, sum, delta or percentile_99")
	if err != nil {
		return err
	}
	reducer, err := gcpEnumValue("alignmentReducer", m.AlignmentReducer, gcpReducers, "sum, mean, max or percentile_95")
	if err != nil {
		return err
	}
	m.agg = gcpAggregation{period: time.Duration(m.AlignmentPeriodSeconds) * time.Second, aligner: aligner, reducer: reducer}
	return nil
}

// gcpCheckProjectID refuses a project ID that would change the request's path or the filter's
// quoting; Cloud Monitoring itself answers for anything else (404 or 403).
func gcpCheckProjectID(param, id string) error {
	if strings.ContainsAny(id, "/\"\\?#% \t\r\n") {
		return &ParamError{Param: param, Problem: strconv.Quote(clip(id, 60)) + " is not a project ID", Fix: "use the project's ID (such as my-project-123), not its name or number path"}
	}
	return nil
}

// gcpStackdriverScaler runs one timeSeries.list per poll.
type gcpStackdriverScaler struct {
	cfg        *Config
	meta       gcpStackdriverMetadata
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
	c, err := newGCPMonitoringClient(cfg, s.meta.creds,
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
	v, err := s.client.firstPoint(ctx, &gcpListRequest{project: s.meta.ProjectID, filter: s.filter, start: start, end: end, agg: s.meta.agg})
	if errors.Is(err, errGCPNoPoint) {
		if s.meta.ValueIfNull == nil {
			return nil, false, fmt.Errorf("%s: no time series of project %s matched metadata.filter %q in the last %d minutes: check the filter, widen metadata.filterDuration, or set metadata.valueIfNull (e.g. \"0\") to read no data as a value",
				triggerWho(s.cfg), s.meta.ProjectID, clip(s.meta.Filter, 300), gcpMinutes(s.meta.FilterDuration))
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
