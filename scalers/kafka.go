package scalers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"

	"github.com/kedactl/kedactl/scalers/meta"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// The Kafka triggers. kafka (this file) and apache-kafka (apache_kafka.go) are two spellings of
// one thing in KEDA, with different parameter sets and defaults; here both are parsed into
// kafkaLagParams and kafkaConnParams, validated by the same code, and read by one scaler,
// kafkaScaler, that computes the consumer group's lag with franz-go.

func newKafkaScaler(_ context.Context, cfg *Config) (Scaler, error) {
	var m meta.KafkaMetadata
	if err := parseKafkaMetadata(cfg, &m); err != nil {
		return nil, err
	}
	return newKafkaLagScaler(cfg, m.Trigger)
}

// parseKafkaMetadata parses either trigger's metadata. KEDA refuses tls and sasl set both in
// the trigger and in its TriggerAuthentication, which the tag order alone would not notice.
func parseKafkaMetadata(cfg *Config, target any) error {
	for _, param := range []string{"tls", "sasl"} {
		inMeta, inAuth := strings.TrimSpace(cfg.TriggerMetadata[param]), strings.TrimSpace(cfg.AuthParams[param])
		if inMeta != "" && inAuth != "" && inMeta != inAuth {
			return &ParamError{TriggerIndex: cfg.TriggerIndex, TriggerType: cfg.TriggerType, TriggerName: cfg.TriggerName, Param: param,
				Problem: fmt.Sprintf("is %q in the trigger and %q in the TriggerAuthentication", inMeta, inAuth),
				Fix:     "set " + param + " in one place: metadata." + param + " or the TriggerAuthentication parameter " + param}
		}
	}
	return ParseMetadata(cfg, target)
}

// kafkaScaler reads a consumer group's lag: per partition the end offset minus the committed
// offset, summed over the topic's partitions (or over every topic the group commits to).
type kafkaScaler struct {
	cfg        *Config
	t          *meta.KafkaTrigger
	client     *kgo.Client
	watch      *kafkaWatch
	admin      *kadm.Client
	metricName string
	// release gives the client back to cfg.Clients (or closes it).
	release func()

	// mu guards previous: the committed offset of each partition at the last poll, for
	// excludePersistentLag.
	mu       sync.Mutex
	previous map[string]map[int32]int64
}

func newKafkaLagScaler(cfg *Config, t *meta.KafkaTrigger) (*kafkaScaler, error) {
	settings, err := newKafkaClientSettings(t.Conn)
	if err != nil {
		return nil, identify(cfg, err)
	}
	shared, release, err := kafkaNewClient(t.Conn, settings, cfg.Clients, cfg.Timeout)
	if err != nil {
		return nil, redact(fmt.Errorf("%s: could not set up the Kafka client: %w", redisTrigger(cfg), err), t.Conn.Secrets)
	}
	// KEDA names the metric after the topics, or after the group when it reads all its topics.
	detail := "kafka-" + t.Group + "-topics"
	if len(t.Topics) > 0 {
		detail = "kafka-" + strings.Join(t.Topics, ",")
	}
	return &kafkaScaler{cfg: cfg, t: t, client: shared.client, watch: shared.watch, admin: kadm.NewClient(shared.client), metricName: MetricName(cfg.TriggerIndex, detail), release: release,
		previous: map[string]map[int32]int64{}}, nil
}

func (s *kafkaScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, float64(s.t.LagThreshold))
}

// GetMetricsAndActivity reads the lag once, within the trigger's timeout. The value is the total
// lag, capped as KEDA caps it; the trigger is active when the lag, persistent lag included, is
// above activationLagThreshold.
func (s *kafkaScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	offsets, err := s.read(ctx)
	if err != nil {
		return nil, false, s.failure(ctx, err)
	}
	lag := s.lag(offsets)
	return []external_metrics.ExternalMetricValue{{MetricName: metricName, Value: *resource.NewQuantity(lag.metric, resource.DecimalSI)}},
		lag.withPersistent > s.t.ActivationLagThreshold, nil
}

var _ PushScaler = (*kafkaScaler)(nil)

// Run pushes when a record is appended to one of the trigger's topics, so that the engine polls
// the lag at once. A trigger without topics (every topic the group commits to) does not push:
// the topics are known only at each poll.
func (s *kafkaScaler) Run(ctx context.Context, push func(active bool)) {
	if len(s.t.Topics) == 0 {
		<-ctx.Done()
		return
	}
	unsubscribe := s.watch.subscribe(s.t.Topics, func() { push(true) })
	defer unsubscribe()
	<-ctx.Done()
}

func (s *kafkaScaler) Close(context.Context) error {
	s.release()
	return nil
}

// kafkaPartitionOffsets is what one poll reads of a partition.
type kafkaPartitionOffsets struct {
	topic     string
	partition int32
	// committed is the group's committed offset, -1 when it has none.
	committed int64
	// end is the high watermark: the offset the next record will get.
	end int64
}

// read fetches the group's committed offsets, the topics' partitions and their end offsets.
func (s *kafkaScaler) read(ctx context.Context) ([]kafkaPartitionOffsets, error) {
	committed, err := s.admin.FetchOffsets(ctx, s.t.Group)
	if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
		return nil, fmt.Errorf("could not fetch the committed offsets of consumer group %q: %w", s.t.Group, err)
	}
	topics := s.t.Topics
	if len(topics) == 0 {
		for topic := range committed {
			topics = append(topics, topic)
		}
		slices.Sort(topics)
		if len(topics) == 0 {
			// The group commits to nothing yet: there is no lag to read.
			return nil, nil
		}
	}
	details, err := s.admin.ListTopics(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("could not describe topics %s: %w", strings.Join(topics, ","), err)
	}
	ends, err := s.admin.ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("could not list the end offsets of topics %s: %w", strings.Join(topics, ","), err)
	}
	var out []kafkaPartitionOffsets
	for _, topic := range topics {
		d, ok := details[topic]
		switch {
		case !ok || errors.Is(d.Err, kerr.UnknownTopicOrPartition):
			return nil, &kafkaTopicError{topic: topic}
		case d.Err != nil:
			return nil, fmt.Errorf("could not describe topic %q: %w", topic, d.Err)
		}
		parts := d.Partitions.Numbers()
		if s.t.Partitions != nil {
			parts = slices.DeleteFunc(parts, func(p int32) bool {
				_, found := slices.BinarySearch(s.t.Partitions, p)
				return !found
			})
			if len(parts) == 0 {
				return nil, &kafkaTopicError{topic: topic, partitions: s.t.PartitionLimitation}
			}
		}
		slices.Sort(parts)
		for _, p := range parts {
			o := kafkaPartitionOffsets{topic: topic, partition: p, committed: -1}
			if c, ok := committed.Lookup(topic, p); ok {
				if c.Err != nil {
					return nil, fmt.Errorf("could not fetch the committed offset of %s/%d for consumer group %q: %w", topic, p, s.t.Group, c.Err)
				}
				o.committed = c.At
			}
			e, ok := ends.Lookup(topic, p)
			if !ok {
				// KEDA counts a partition missing from the answer as without lag.
				continue
			}
			if e.Err != nil {
				return nil, fmt.Errorf("could not list the end offset of %s/%d: %w", topic, p, e.Err)
			}
			o.end = e.Offset
			out = append(out, o)
		}
	}
	return out, nil
}

// kafkaLag is one poll's result: metric is the value the HPA sees, withPersistent the lag
// persistent lag included, which decides activation.
type kafkaLag struct {
	metric, withPersistent int64
}

// lag applies KEDA's rules to the offsets read: invalid offsets per offsetResetPolicy and
// scaleToZeroOnInvalidOffset, excludePersistentLag, then the cap on replicas.
func (s *kafkaScaler) lag(offsets []kafkaPartitionOffsets) kafkaLag {
	s.mu.Lock()
	defer s.mu.Unlock()
	var total, withPersistent, partitionsWithLag int64
	for _, o := range offsets {
		lag, lagWithPersistent := s.partitionLag(o)
		total = addSat(total, lag)
		withPersistent = addSat(withPersistent, lagWithPersistent)
		if lag > 0 {
			partitionsWithLag++
		}
	}
	return kafkaLag{metric: capKafkaLag(&s.t.KafkaLagParams, total, int64(len(offsets)), partitionsWithLag), withPersistent: withPersistent}
}

// partitionLag is one partition's lag, without and with persistent lag. Callers hold s.mu.
func (s *kafkaScaler) partitionLag(o kafkaPartitionOffsets) (lag, withPersistent int64) {
	if o.committed < 0 {
		// No committed offset yet: a consumer would start at the end (latest: count 1 so that one
		// starts) or at the beginning (earliest: everything is lag), unless told to stay at zero.
		switch {
		case s.t.ScaleToZeroOnInvalidOffset:
			return 0, 0
		case s.t.OffsetResetPolicy == "earliest":
			end := max(o.end, 0) // a broker that knows no end offset says -1
			return end, end
		default:
			return 1, 1
		}
	}
	// A committed offset at or past the end (a topic deleted and created again, or truncated)
	// is no backlog; subtracting would give a negative lag, or wrap around.
	if o.end > o.committed {
		lag = o.end - o.committed
	}
	if s.t.ExcludePersistentLag {
		prev, seen := s.previous[o.topic][o.partition]
		if seen && prev == o.committed {
			// The group has not moved on this partition since the last poll: the consumer may be
			// stuck on a record, and more replicas would not help.
			return 0, lag
		}
		if s.previous[o.topic] == nil {
			s.previous[o.topic] = map[int32]int64{}
		}
		s.previous[o.topic][o.partition] = o.committed
	}
	return lag, lag
}

// capKafkaLag caps the total so that the HPA never asks for more replicas than partitions (or
// partitions with lag), unless allowIdleConsumers; ensureEvenDistributionOfPartitions rounds the
// replica count up to a divisor of the partition count.
func capKafkaLag(p *meta.KafkaLagParams, total, partitions, partitionsWithLag int64) int64 {
	if p.AllowIdleConsumers && !p.LimitToPartitionsWithLag && !p.EnsureEvenDistributionOfPartitions {
		return total
	}
	upper := partitions
	if p.EnsureEvenDistributionOfPartitions {
		total = mulSat(nextPartitionDivisor(total, partitions, p.LagThreshold), p.LagThreshold)
	}
	if p.LimitToPartitionsWithLag {
		upper = partitionsWithLag
	}
	if total/p.LagThreshold > upper {
		total = mulSat(upper, p.LagThreshold)
	}
	return total
}

// nextPartitionDivisor is the smallest divisor of partitions whose replicas cover total at
// threshold each (partitions when none does).
func nextPartitionDivisor(total, partitions, threshold int64) int64 {
	// The replicas needed, rounded up; d*threshold >= total could overflow.
	needed := total / threshold
	if total%threshold != 0 {
		needed++
	}
	for d := int64(1); d <= partitions; d++ {
		if partitions%d == 0 && d >= needed {
			return d
		}
	}
	return partitions
}

// kafkaTopicError is a topic that is not there, or has none of the partitions asked for.
type kafkaTopicError struct {
	topic, partitions string
}

func (e *kafkaTopicError) Error() string {
	if e.partitions != "" {
		return fmt.Sprintf("topic %q has none of the partitions %s", e.topic, e.partitions)
	}
	return fmt.Sprintf("topic %q does not exist", e.topic)
}

// failure words a failed poll: the trigger, the brokers, the cause and, when the cause is
// recognised, the parameters to check. Credentials are removed from the text.
func (s *kafkaScaler) failure(ctx context.Context, err error) error {
	fix := s.fix(ctx, err)
	if fix != "" {
		fix = ": " + fix
	}
	return redact(fmt.Errorf("%s: could not read the lag of consumer group %q from %s: %w%s", redisTrigger(s.cfg), s.t.Group, s.t.Conn, err, fix), s.t.Conn.Secrets)
}

func (s *kafkaScaler) fix(ctx context.Context, err error) string {
	msg := err.Error()
	var netErr net.Error
	var topicErr *kafkaTopicError
	switch {
	case errors.As(err, &topicErr) && topicErr.partitions != "":
		return "check partitionLimitation against the topic's partitions"
	case errors.As(err, &topicErr):
		return "check topic (and that the brokers are the cluster that holds it)"
	case errors.Is(err, kerr.SaslAuthenticationFailed) || errors.Is(err, kerr.IllegalSaslState) || strings.Contains(msg, "SASL_AUTHENTICATION_FAILED"):
		return "the brokers refused the credentials: check sasl, username and password in the TriggerAuthentication"
	case errors.Is(err, kerr.UnsupportedSaslMechanism):
		return "the brokers do not offer this SASL mechanism: check sasl"
	case errors.Is(err, kerr.GroupAuthorizationFailed) || errors.Is(err, kerr.TopicAuthorizationFailed) || errors.Is(err, kerr.ClusterAuthorizationFailed):
		return "the user may not describe the group or the topic: grant it Describe on both (ACLs)"
	case strings.Contains(msg, "x509:") || strings.Contains(msg, "tls:"):
		return `TLS failed: put the CA that signed the brokers' certificates in the TriggerAuthentication parameter ca (or set unsafeSsl: "true" to skip verification), a client certificate in cert and key if the brokers ask for one, and check that they serve TLS`
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		return fmt.Sprintf("no answer within the trigger's timeout of %s: check bootstrapServers, and that tls matches the brokers", s.cfg.Timeout)
	case strings.Contains(msg, "connection refused"):
		return "nothing listens there: check bootstrapServers"
	case strings.Contains(msg, "no such host"):
		return "the host name does not resolve: check bootstrapServers"
	case errors.Is(err, io.EOF) || strings.Contains(msg, "connection reset") || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(msg, "broker closed the connection"):
		if s.t.Conn.Sasl != meta.KafkaSASLNone {
			// Some brokers close the connection on refused credentials instead of answering
			// SASL_AUTHENTICATION_FAILED.
			return `the broker closed the connection, as brokers do when they refuse the credentials or expect TLS: check username and password (and sasl) in the TriggerAuthentication, and set tls: "enable" if the brokers serve TLS`
		}
		return `the broker closed the connection: if the brokers require SASL set sasl, username and password; if they serve TLS set tls: "enable"`
	}
	return ""
}
