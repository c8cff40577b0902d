package meta

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

const (
	gcpPubSubDefaultMode = "SubscriptionSize"
	// GCPPubSubDefaultHorizon and gcpPubSubAggregatedHorizon are KEDA's ranges without and with
	// an aggregation; gcpPubSubAlignment is the period an aggregation aligns to.
	GCPPubSubDefaultHorizon    = 2 * time.Minute
	GCPPubSubAggregatedHorizon = 5 * time.Minute
	GCPPubSubAlignment         = 3 * time.Minute
)

// GCPPubSubMetadata is the gcp-pubsub trigger's metadata, with KEDA's parameter names.
type GCPPubSubMetadata struct {
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

	MetricSource

	// Set by Validate.
	ResourceType string // subscription or topic
	ResourceName string // as written, perhaps projects/{p}/subscriptions/{s}
	ResourceID   string // the bare name
	Project      string // from a full resource name; else the key's
	MetricType   string
	MqlAgg       string
}

var (
	// gcpPubSubFullName is a resource name with its project: projects/{p}/subscriptions/{s}.
	gcpPubSubFullName = regexp.MustCompile(`^projects/([a-z][a-zA-Z0-9-]*[a-zA-Z0-9])/(?:subscriptions|topics)/([a-zA-Z][a-zA-Z0-9\-_~%+.]*)$`)
	// gcpPubSubName is Pub/Sub's rule for a subscription or topic ID.
	gcpPubSubName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$`)
	gcpPubSubMode = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*$`)
)

// Validate checks the parameters together and prepares the query's parts.
func (m *GCPPubSubMetadata) Validate() error {
	switch {
	case m.SubscriptionName == "" && m.TopicName == "":
		return &ParamError{Param: "subscriptionName", Problem: "and metadata.topicName are both unset", Fix: "set one: the subscription (or topic) whose metric to read"}
	case m.SubscriptionName != "" && m.TopicName != "":
		return &ParamError{Param: "subscriptionName", Problem: "and metadata.topicName are both set", Fix: "keep one of them"}
	case m.SubscriptionName != "":
		m.ResourceType, m.ResourceName = "subscription", m.SubscriptionName
	default:
		m.ResourceType, m.ResourceName = "topic", m.TopicName
	}
	param := m.ResourceType + "Name"
	m.ResourceID = m.ResourceName
	if sub := gcpPubSubFullName.FindStringSubmatch(m.ResourceName); sub != nil {
		m.Project, m.ResourceID = sub[1], sub[2]
	}
	if strings.HasPrefix(strings.ToLower(m.ResourceID), "goog") || !gcpPubSubName.MatchString(m.ResourceID) {
		return &ParamError{Param: param, Problem: Quote(m.ResourceName, 80) + " is not a Pub/Sub " + m.ResourceType + " name",
			Fix: "use the " + m.ResourceType + "'s ID (3 to 255 letters, digits and - _ . ~ + %, starting with a letter, not goog), or projects/<project>/" + m.ResourceType + "s/<ID>"}
	}
	if !gcpPubSubMode.MatchString(m.Mode) {
		return &ParamError{Param: "mode", Problem: Quote(m.Mode, 60) + " is not a metric name", Fix: "use SubscriptionSize, or a Pub/Sub metric's name in CamelCase such as OldestUnackedMessageAge"}
	}
	mode := m.Mode
	if mode == gcpPubSubDefaultMode {
		mode = "NumUndeliveredMessages"
	}
	m.MetricType = "pubsub.googleapis.com/" + m.ResourceType + "/" + GCPSnakeCase(mode)
	if m.Aggregation != "" {
		agg, err := gcpMQLAggregation(m.Aggregation)
		if err != nil {
			return err
		}
		m.MqlAgg = agg
	}
	if m.Value < 0 || (m.Value == 0 && !m.AsMetricSource()) {
		return &ParamError{Param: "value", Problem: fmt.Sprintf("is %g", m.Value), Fix: "must be above 0: it is the metric's value per replica the HPA aims at"}
	}
	return nil
}

// GCPSnakeCase turns a CamelCase metric name into Cloud Monitoring's snake_case: a word starts
// at a capital after a lower-case letter or digit, and at the last capital of a run followed by
// a lower-case letter (so an acronym stays one word).
func GCPSnakeCase(s string) string {
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
	return "", &ParamError{Param: "aggregation", Problem: Quote(name, 40) + " is not an aggregation KEDA knows",
		Fix: "use mean, median, variance, stddev, sum, count or percentileN (N from 0 to 100, e.g. percentile99), or unset it"}
}
