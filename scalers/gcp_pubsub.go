package scalers

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

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

const (
	gcpPubSubDefaultMode = "SubscriptionSize"
	// gcpPubSubDefaultHorizon and gcpPubSubAggregatedHorizon are KEDA's ranges without and with
	// an aggregation; gcpPubSubAlignment is the period an aggregation aligns to.
	gcpPubSubDefaultHorizon    = 2 * time.Minute
	gcpPubSubAggregatedHorizon = 5 * time.Minute
	gcpPubSubAlignment         = 3 * time.Minute
)

// gcpPubSubMetadata is the gcp-pubsub trigger's metadata, with KEDA's parameter names.
type gcpPubSubMetadata struct {
	// SubscriptionSize is KEDA's removed parameter: still read (and then ignored), as KEDA does.
	SubscriptionSize int           `keda:"name=subscriptionSize, order=triggerMetadata, optional"`
	Mode             string        `keda:"name=mode, order=triggerMetadata, default=SubscriptionSize"`
	Value            float64       `keda:"name=value, order=triggerMetadata, default=10"`
	ActivationValue  float64       `keda:"name=activationValue, order=triggerMetadata, default=0"`
	Aggregation      string        `keda:"name=aggregation, order=triggerMetadata, optional"`
	TimeHorizon      time.Duration `keda:"name=timeHorizon, order=triggerMetadata, optional"`
	ValueIfNull      *float64      `keda:"name=valueIfNull, order=triggerMetadata, optional"`
	SubscriptionName string        `keda:"name=subscriptionName, order=triggerMetadata;resolvedEnv, optional"`
	TopicName        string        `keda:"name=topicName, order=triggerMetadata;resolvedEnv, optional"`
	gcpAuthParams

	metricSource

	// Set by Validate.
	resourceType string // subscription or topic
	resourceName string // as written, perhaps projects/{p}/subscriptions/{s}
	resourceID   string // the bare name
	project      string // from a full resource name; else the key's
	metricType   string
	mqlAgg       string
}

var (
	// gcpPubSubFullName is a resource name with its project: projects/{p}/subscriptions/{s}.
	gcpPubSubFullName = regexp.MustCompile(`^projects/([a-z][a-zA-Z0-9-]*[a-zA-Z0-9])/(?:subscriptions|topics)/([a-zA-Z][a-zA-Z0-9\-_~%+.]*)$`)
	// gcpPubSubName is Pub/Sub's rule for a subscription or topic ID.
	gcpPubSubName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$`)
	gcpPubSubMode = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*$`)
)

// Validate checks the parameters together and prepares the query's parts.
func (m *gcpPubSubMetadata) Validate() error {
	switch {
	case m.SubscriptionName == "" && m.TopicName == "":
		return &ParamError{Param: "subscriptionName", Problem: "and metadata.topicName are both unset", Fix: "set one: the subscription (or topic) whose metric to read"}
	case m.SubscriptionName != "" && m.TopicName != "":
		return &ParamError{Param: "subscriptionName", Problem: "and metadata.topicName are both set", Fix: "keep one of them"}
	case m.SubscriptionName != "":
		m.resourceType, m.resourceName = "subscription", m.SubscriptionName
	default:
		m.resourceType, m.resourceName = "topic", m.TopicName
	}
	param := m.resourceType + "Name"
	m.resourceID = m.resourceName
	if sub := gcpPubSubFullName.FindStringSubmatch(m.resourceName); sub != nil {
		m.project, m.resourceID = sub[1], sub[2]
	}
	if strings.HasPrefix(strings.ToLower(m.resourceID), "goog") || !gcpPubSubName.MatchString(m.resourceID) {
		return &ParamError{Param: param, Problem: strconv.Quote(clip(m.resourceName, 80)) + " is not a Pub/Sub " + m.resourceType + " name",
			Fix: "use the " + m.resourceType + "'s ID (3 to 255 letters, digits and - _ . ~ + %, starting with a letter, not goog), or projects/<project>/" + m.resourceType + "s/<ID>"}
	}
	if !gcpPubSubMode.MatchString(m.Mode) {
		return &ParamError{Param: "mode", Problem: strconv.Quote(clip(m.Mode, 60)) + " is not a metric name", Fix: "use SubscriptionSize, or a Pub/Sub metric's name in CamelCase such as OldestUnackedMessageAge"}
	}
	mode := m.Mode
	if mode == gcpPubSubDefaultMode {
		mode = "NumUndeliveredMessages"
	}
	m.metricType = "pubsub.googleapis.com/" + m.resourceType + "/" + gcpSnakeCase(mode)
	if m.Aggregation != "" {
		agg, err := gcpMQLAggregation(m.Aggregation)
		if err != nil {
			return err
		}
		m.mqlAgg = agg
	}
	if m.Value < 0 || (m.Value == 0 && !m.AsMetricSource()) {
		return &ParamError{Param: "value", Problem: fmt.Sprintf("is %g", m.Value), Fix: "must be above 0: it is the metric's value per replica the HPA aims at"}
	}
	return nil
}

// gcpSnakeCase turns a CamelCase metric name into Cloud Monitoring's snake_case: a word starts
// at a capital after a lower-case letter or digit, and at the last capital of a run followed by
// a lower-case letter (so an acronym stays one word).
func gcpSnakeCase(s string) string {
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		if i > 0 && unicode.IsUpper(c) {
			prev := r[i-1]
			nextLower := i+1 < len(r) && unicode.IsLower(r[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

// gcpMQLAggregation is the MQL aggregation for KEDA's aggregation names.
func gcpMQLAggregation(name string) (string, error) {
	switch name {
	case "mean", "median", "variance", "stddev", "sum", "count":
		return name + "(value)", nil
	}
	if p, ok := strings.CutPrefix(name, "percentile"); ok {
		n, err := strconv.Atoi(p)
		if err == nil && n >= 0 && n <= 100 {
			return fmt.Sprintf("percentile(value, %d)", n), nil
		}
	}
	return "", &ParamError{Param: "aggregation", Problem: strconv.Quote(clip(name, 40)) + " is not an aggregation KEDA knows",
		Fix: "use mean, median, variance, stddev, sum, count or percentileN (N from 0 to 100, e.g. percentile99), or unset it"}
}

// gcpPubSubMQL is the query KEDA builds, in its words.
func gcpPubSubMQL(m *gcpPubSubMetadata, project string) string {
	horizon := m.TimeHorizon
	if horizon <= 0 {
		horizon = gcpPubSubDefaultHorizon
		if m.mqlAgg != "" {
			horizon = gcpPubSubAggregatedHorizon
		}
	}
	q := fmt.Sprintf("fetch pubsub_%s | metric '%s' | filter (resource.project_id == '%s' && resource.%s_id == '%s') | within %s",
		m.resourceType, m.metricType, project, m.resourceType, m.resourceID, horizon)
	if m.mqlAgg != "" {
		q += fmt.Sprintf(" | align delta(%s) | every %s | group_by [], %s", gcpPubSubAlignment, gcpPubSubAlignment, m.mqlAgg)
	}
	return q
}

// gcpPubSubScaler runs one timeSeries.query per poll.
type gcpPubSubScaler struct {
	cfg        *Config
	meta       gcpPubSubMetadata
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
	s.metricName = MetricName(cfg.TriggerIndex, "gcp-ps-"+s.meta.resourceName)
	c, err := newGCPMonitoringClient(cfg, s.meta.creds,
		"check metadata.mode (a Pub/Sub metric's name), metadata.aggregation and metadata.timeHorizon")
	if err != nil {
		return nil, err
	}
	s.project = s.meta.project
	if s.project == "" {
		s.project = c.keyProject
	}
	if s.project == "" || gcpCheckProjectID(s.meta.resourceType+"Name", s.project) != nil {
		c.close()
		return nil, &ParamError{TriggerIndex: cfg.TriggerIndex, TriggerType: cfg.TriggerType, TriggerName: cfg.TriggerName, Param: s.meta.resourceType + "Name",
			Problem: "names no project, and the service account key has no usable project_id", Fix: "use projects/<project>/" + s.meta.resourceType + "s/<ID>"}
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
				triggerWho(s.cfg), s.meta.metricType, s.meta.resourceType, s.meta.resourceID, s.project, s.meta.resourceType)
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
