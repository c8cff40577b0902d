package meta

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// KafkaMetadata is the kafka trigger's metadata, with KEDA's parameter names.
type KafkaMetadata struct {
	BootstrapServers                   []string `keda:"name=bootstrapServers, order=resolvedEnv;triggerMetadata"`
	ConsumerGroup                      string   `keda:"name=consumerGroup, order=resolvedEnv;triggerMetadata"`
	Topic                              string   `keda:"name=topic, order=resolvedEnv;triggerMetadata, optional"`
	PartitionLimitation                string   `keda:"name=partitionLimitation, order=triggerMetadata, optional"`
	LagThreshold                       int64    `keda:"name=lagThreshold, order=triggerMetadata, default=10"`
	ActivationLagThreshold             int64    `keda:"name=activationLagThreshold, order=triggerMetadata, default=0"`
	OffsetResetPolicy                  string   `keda:"name=offsetResetPolicy, order=triggerMetadata, default=latest, enum=latest;earliest"`
	AllowIdleConsumers                 bool     `keda:"name=allowIdleConsumers, order=triggerMetadata, default=false"`
	ExcludePersistentLag               bool     `keda:"name=excludePersistentLag, order=triggerMetadata, default=false"`
	ScaleToZeroOnInvalidOffset         bool     `keda:"name=scaleToZeroOnInvalidOffset, order=triggerMetadata, default=false"`
	LimitToPartitionsWithLag           bool     `keda:"name=limitToPartitionsWithLag, order=triggerMetadata, default=false"`
	EnsureEvenDistributionOfPartitions bool     `keda:"name=ensureEvenDistributionOfPartitions, order=triggerMetadata, default=false"`
	// FullMetadata is sarama's "fetch metadata for every topic"; franz-go fetches only the topics
	// a poll reads, so it is accepted and has no effect.
	FullMetadata bool   `keda:"name=fullMetadata, order=triggerMetadata, default=true"`
	Version      string `keda:"name=version, order=triggerMetadata, optional"`
	TLS          string `keda:"name=tls, order=triggerMetadata;authParams, default=disable, enum=enable;disable"`
	UnsafeSsl    bool   `keda:"name=unsafeSsl, order=triggerMetadata, default=false"`
	CA           string `keda:"name=ca, order=authParams, optional, secret"`
	Cert         string `keda:"name=cert, order=authParams, optional, secret"`
	Key          string `keda:"name=key, order=authParams, optional, secret"`
	KeyPassword  string `keda:"name=keyPassword, order=authParams, optional, secret"`

	SASL     string `keda:"name=sasl, order=triggerMetadata;authParams, optional, enum=none;plaintext;scram_sha256;scram_sha512;oauthbearer;gssapi"`
	Username string `keda:"name=username, order=authParams, optional"`
	Password string `keda:"name=password, order=authParams, optional, secret"`

	SASLTokenProvider     string   `keda:"name=saslTokenProvider, order=triggerMetadata;authParams, optional, enum=bearer;aws_msk_iam"`
	Scopes                []string `keda:"name=scopes, order=authParams, optional"`
	OAuthTokenEndpointURI string   `keda:"name=oauthTokenEndpointUri, order=authParams, optional"`
	OAuthExtensions       []string `keda:"name=oauthExtensions, order=authParams, optional, secret"`

	Keytab              string `keda:"name=keytab, order=authParams, optional, secret"`
	CCacheName          string `keda:"name=ccacheName, order=authParams, optional"`
	Realm               string `keda:"name=realm, order=authParams, optional"`
	KerberosConfig      string `keda:"name=kerberosConfig, order=authParams, optional"`
	KerberosServiceName string `keda:"name=kerberosServiceName, order=authParams, optional"`
	KerberosDisableFAST bool   `keda:"name=kerberosDisableFAST, order=authParams, default=false"`

	AWSRegion string `keda:"name=awsRegion, order=triggerMetadata, optional"`

	// Trigger is the validated trigger, set by Validate.
	Trigger *KafkaTrigger
}

func (m *KafkaMetadata) Validate() error {
	if strings.Contains(m.Topic, ",") {
		return &ParamError{Param: "topic", Problem: fmt.Sprintf("is %q, a list", m.Topic),
			Fix: "the kafka trigger reads one topic: give one, or leave it out to read every topic the group commits to (apache-kafka takes a list)"}
	}
	var topics []string
	if m.Topic != "" {
		topics = []string{m.Topic}
	}
	lag := KafkaLagParams{
		Group: m.ConsumerGroup, Topics: topics, PartitionLimitation: m.PartitionLimitation,
		LagThreshold: m.LagThreshold, ActivationLagThreshold: m.ActivationLagThreshold, OffsetResetPolicy: m.OffsetResetPolicy,
		AllowIdleConsumers: m.AllowIdleConsumers, ExcludePersistentLag: m.ExcludePersistentLag, ScaleToZeroOnInvalidOffset: m.ScaleToZeroOnInvalidOffset,
		LimitToPartitionsWithLag: m.LimitToPartitionsWithLag, EnsureEvenDistributionOfPartitions: m.EnsureEvenDistributionOfPartitions,
	}
	conn := KafkaConnParams{
		bootstrapServers: m.BootstrapServers, Version: m.Version,
		tls: m.TLS, unsafeSsl: m.UnsafeSsl, ca: m.CA, cert: m.Cert, key: m.Key, keyPassword: m.KeyPassword,
		Sasl: m.SASL, Username: m.Username, Password: m.Password,
		saslTokenProvider: m.SASLTokenProvider, Scopes: m.Scopes, OauthTokenEndpointURI: m.OAuthTokenEndpointURI, OauthExtensions: m.OAuthExtensions,
		Keytab: m.Keytab, CcacheName: m.CCacheName, Realm: m.Realm, KerberosConfig: m.KerberosConfig,
		KerberosServiceName: m.KerberosServiceName, KerberosDisableFAST: m.KerberosDisableFAST,
		awsRegion: m.AWSRegion,
	}
	t, err := resolveKafkaTrigger(&lag, &conn)
	m.Trigger = t
	return err
}

// KafkaLagParams are the lag parameters both Kafka triggers share.
type KafkaLagParams struct {
	Group                              string
	Topics                             []string
	PartitionLimitation                string
	LagThreshold                       int64
	ActivationLagThreshold             int64
	OffsetResetPolicy                  string
	AllowIdleConsumers                 bool
	ExcludePersistentLag               bool
	ScaleToZeroOnInvalidOffset         bool
	LimitToPartitionsWithLag           bool
	EnsureEvenDistributionOfPartitions bool
}

// KafkaTrigger is a validated Kafka trigger: what to read and how to turn it into a value.
type KafkaTrigger struct {
	KafkaLagParams
	// Partitions limits the partitions read (partitionLimitation); nil means all.
	Partitions []int32
	Conn       *KafkaConnection
}

// resolveKafkaTrigger validates the lag parameters first (offline, a missing connection parameter
// ends validation), then the connection.
func resolveKafkaTrigger(lag *KafkaLagParams, conn *KafkaConnParams) (*KafkaTrigger, error) {
	t := &KafkaTrigger{KafkaLagParams: *lag}
	const needsTopic = "set metadata.topic: without it the trigger reads every topic the group commits to, and this option is defined per topic"
	switch {
	case lag.LagThreshold <= 0:
		return nil, &ParamError{Param: "lagThreshold", Problem: fmt.Sprintf("is %d", lag.LagThreshold), Fix: "must be greater than 0"}
	case lag.ActivationLagThreshold < 0:
		return nil, &ParamError{Param: "activationLagThreshold", Problem: fmt.Sprintf("is %d", lag.ActivationLagThreshold), Fix: "must not be negative"}
	case lag.AllowIdleConsumers && lag.LimitToPartitionsWithLag:
		return nil, &ParamError{Param: "limitToPartitionsWithLag", Problem: "and allowIdleConsumers are both true",
			Fix: "choose one: allowIdleConsumers lifts the cap of one replica per partition, limitToPartitionsWithLag lowers it to the partitions with lag"}
	case lag.LimitToPartitionsWithLag && lag.EnsureEvenDistributionOfPartitions:
		return nil, &ParamError{Param: "ensureEvenDistributionOfPartitions", Problem: "and limitToPartitionsWithLag are both true", Fix: "choose one of them"}
	case lag.LimitToPartitionsWithLag && len(lag.Topics) == 0:
		return nil, &ParamError{Param: "limitToPartitionsWithLag", Problem: "needs a topic", Fix: needsTopic}
	case lag.EnsureEvenDistributionOfPartitions && len(lag.Topics) == 0:
		return nil, &ParamError{Param: "ensureEvenDistributionOfPartitions", Problem: "needs a topic", Fix: needsTopic}
	}
	// As in KEDA, partitionLimitation applies only to the topics named.
	if lag.PartitionLimitation != "" && len(lag.Topics) > 0 {
		parts, err := parsePartitionList(lag.PartitionLimitation)
		if err != nil {
			return nil, &ParamError{Param: "partitionLimitation", Problem: fmt.Sprintf("is %q: %v", lag.PartitionLimitation, err),
				Fix: "list partition numbers and ranges, comma-separated, e.g. 0,1,4-7"}
		}
		t.Partitions = parts
	}
	if lag.Group == "" {
		return nil, &ParamError{Param: "consumerGroup", Problem: "is required", Fix: "set metadata.consumerGroup or consumerGroupFromEnv"}
	}
	c, err := conn.resolve()
	if err != nil {
		return nil, err
	}
	t.Conn = c
	return t, nil
}

// maxPartitionLimitation bounds the partitions partitionLimitation may name, far above what
// one topic has.
const maxPartitionLimitation = 100_000

// parsePartitionList reads "0,2,5-8" into the sorted, distinct partition numbers.
func parsePartitionList(s string) ([]int32, error) {
	var out []int32
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(item, "-")
		first, err := strconv.ParseInt(strings.TrimSpace(lo), 10, 32)
		if err != nil || first < 0 {
			return nil, fmt.Errorf("%q is not a partition number", item)
		}
		last := first
		if isRange {
			if last, err = strconv.ParseInt(strings.TrimSpace(hi), 10, 32); err != nil || last < first {
				return nil, fmt.Errorf("%q is not a range low-high", item)
			}
		}
		// A range is expanded, so its size is bounded: "0-2147483647" would take 8 GiB.
		if last-first >= maxPartitionLimitation || len(out)+int(last-first) >= maxPartitionLimitation {
			return nil, fmt.Errorf("%q and the items before it name more than %d partitions", item, maxPartitionLimitation)
		}
		for p := first; p <= last; p++ {
			out = append(out, int32(p))
		}
	}
	if len(out) == 0 {
		return nil, errors.New("it names no partition")
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
