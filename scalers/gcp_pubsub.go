package scalers

import (
	"context"
	"errors"
	"fmt"

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// The gcp-pubsub trigger reads a Pub/Sub subscription's or topic's metric (by default the
// subscription's undelivered messages) as Cloud Monitoring records it, with the Monitoring Query
// Language query KEDA builds:
//
//	fetch pubsub_subscription | metric 'pubsub.googleapis.com/subscription/num_undelivered_messages'
//	| filter (resource.project_id == 'p' && resource.subscription_id == 's') | within 2m0s
//	[| align delta(3m0s) | every 3m0s | group_by [], sum(value)]
//
// sent to timeSeries.query. KEDA 2.21 reads nothing through the Pub/Sub API itself.

// gcpPubSubMQL is the query KEDA builds, in its words.
func gcpPubSubMQL(m *meta.GCPPubSubMetadata, project string) string {
	horizon := m.TimeHorizon
	if horizon <= 0 {
		horizon = meta.GCPPubSubDefaultHorizon
		if m.MqlAgg != "" {
			horizon = meta.GCPPubSubAggregatedHorizon
		}
	}
	q := fmt.Sprintf("fetch pubsub_%s | metric '%s' | filter (resource.project_id == '%s' && resource.%s_id == '%s') | within %s",
		m.ResourceType, m.MetricType, project, m.ResourceType, m.ResourceID, horizon)
	if m.MqlAgg != "" {
		q += fmt.Sprintf(" | align delta(%s) | every %s | group_by [], %s", meta.GCPPubSubAlignment, meta.GCPPubSubAlignment, m.MqlAgg)
	}
	return q
}

// gcpPubSubScaler runs one timeSeries.query per poll.
type gcpPubSubScaler struct {
	cfg        *Config
	meta       meta.GCPPubSubMetadata
	client     *gcpMonitoringClient
	metricName string
	project    string
	query      string
}

func newGCPPubSubScaler(_ context.Context, cfg *Config) (Scaler, error) {
	s := &gcpPubSubScaler{cfg: cfg}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	s.metricName = MetricName(cfg.TriggerIndex, "gcp-ps-"+s.meta.ResourceName)
	c, err := newGCPMonitoringClient(cfg, s.meta.Creds,
		"check metadata.mode (a Pub/Sub metric's name), metadata.aggregation and metadata.timeHorizon")
	if err != nil {
		return nil, err
	}
	s.project = s.meta.Project
	if s.project == "" {
		s.project = c.keyProject
	}
	if s.project == "" || meta.GCPCheckProjectID(s.meta.ResourceType+"Name", s.project) != nil {
		c.close()
		return nil, &ParamError{TriggerIndex: cfg.TriggerIndex, TriggerType: cfg.TriggerType, TriggerName: cfg.TriggerName, Param: s.meta.ResourceType + "Name",
			Problem: "names no project, and the service account key has no usable project_id", Fix: "use projects/<project>/" + s.meta.ResourceType + "s/<ID>"}
	}
	s.query = gcpPubSubMQL(&s.meta, s.project)
	s.client = c
	return s, nil
}

func (s *gcpPubSubScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, s.meta.Value)
}

// GetMetricsAndActivity runs the query once; the trigger is active above activationValue.
func (s *gcpPubSubScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	v, err := s.client.queryFirstPoint(ctx, s.project, s.query)
	if errors.Is(err, errGCPNoPoint) {
		if s.meta.ValueIfNull == nil {
			return nil, false, fmt.Errorf("%s: Cloud Monitoring has no %s of %s %s in project %s: check metadata.%sName and metadata.mode, or set metadata.valueIfNull (e.g. \"0\") to read no data as a value",
				triggerWho(s.cfg), s.meta.MetricType, s.meta.ResourceType, s.meta.ResourceID, s.project, s.meta.ResourceType)
		}
		v, err = *s.meta.ValueIfNull, nil
	}
	if err != nil {
		return nil, false, err
	}
	return oneMetricValue(metricName, v), v > s.meta.ActivationValue, nil
}

func (s *gcpPubSubScaler) Close(context.Context) error {
	s.client.close()
	return nil
}
