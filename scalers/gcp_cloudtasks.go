package scalers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// The gcp-cloudtasks trigger reads a Cloud Tasks queue's depth as Cloud Monitoring records it
// (cloudtasks.googleapis.com/queue/depth), through the same timeSeries.list as gcp-stackdriver.

// gcpCloudTasksDepthMetric is the metric KEDA reads.
const gcpCloudTasksDepthMetric = "cloudtasks.googleapis.com/queue/depth"

// gcpFilterValue quotes s for a filter's double-quoted string, as KEDA escapes a queue name.
func gcpFilterValue(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// gcpCloudTasksScaler runs one timeSeries.list per poll.
type gcpCloudTasksScaler struct {
	cfg        *Config
	meta       meta.GCPCloudTasksMetadata
	client     *gcpMonitoringClient
	metricName string
	filter     string
	now        func() time.Time
}

func newGCPCloudTasksScaler(_ context.Context, cfg *Config) (Scaler, error) {
	s := &gcpCloudTasksScaler{cfg: cfg, now: time.Now}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	s.metricName = MetricName(cfg.TriggerIndex, "gcp-ct-"+s.meta.QueueName)
	s.filter = gcpProjectFilter(`metric.type="`+gcpCloudTasksDepthMetric+`" AND resource.labels.queue_id="`+gcpFilterValue(s.meta.QueueName)+`"`, s.meta.ProjectID)
	c, err := newGCPMonitoringClient(cfg, s.meta.Creds, "check metadata.queueName")
	if err != nil {
		return nil, err
	}
	s.client = c
	return s, nil
}

func (s *gcpCloudTasksScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, s.meta.Value)
}

// GetMetricsAndActivity reads the queue's newest depth once; the trigger is active above
// activationValue. As in KEDA, no data is an error: Cloud Tasks records a queue's depth while
// the queue exists, so none means the queue (or the project) is not the one meant.
func (s *gcpCloudTasksScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	start, end := gcpRange(s.now(), s.meta.FilterDuration)
	v, err := s.client.firstPoint(ctx, &gcpListRequest{project: s.meta.ProjectID, filter: s.filter, start: start, end: end})
	if errors.Is(err, errGCPNoPoint) {
		return nil, false, fmt.Errorf("%s: Cloud Monitoring has no depth of queue %q in project %s in the last %d minutes: check metadata.queueName and metadata.projectID, or widen metadata.filterDuration",
			triggerWho(s.cfg), meta.Clip(s.meta.QueueName, 100), s.meta.ProjectID, gcpMinutes(s.meta.FilterDuration))
	}
	if err != nil {
		return nil, false, err
	}
	return oneMetricValue(metricName, v), v > s.meta.ActivationValue, nil
}

func (s *gcpCloudTasksScaler) Close(context.Context) error {
	s.client.close()
	return nil
}
