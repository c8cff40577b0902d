package meta

// ApacheKafkaMetadata is the apache-kafka trigger's metadata, with KEDA's parameter names and
// defaults, which differ from the kafka trigger's: topic is a list, the boolean options have no
// default, sasl defaults to none and includes aws_msk_iam, and there is no version, unsafeSsl,
// OAuth or Kerberos parameter. The lag and the connection are the kafka trigger's (kafka.go).
type ApacheKafkaMetadata struct {
	BootstrapServers                   []string `keda:"name=bootstrapServers, order=resolvedEnv;triggerMetadata"`
	ConsumerGroup                      string   `keda:"name=consumerGroup, order=resolvedEnv;triggerMetadata"`
	Topic                              []string `keda:"name=topic, order=resolvedEnv;triggerMetadata, optional"`
	PartitionLimitation                string   `keda:"name=partitionLimitation, order=triggerMetadata, optional"`
	LagThreshold                       int64    `keda:"name=lagThreshold, order=triggerMetadata, default=10"`
	ActivationLagThreshold             int64    `keda:"name=activationLagThreshold, order=triggerMetadata, default=0"`
	OffsetResetPolicy                  string   `keda:"name=offsetResetPolicy, order=triggerMetadata, default=latest, enum=earliest;latest"`
	AllowIdleConsumers                 bool     `keda:"name=allowIdleConsumers, order=triggerMetadata, optional"`
	ExcludePersistentLag               bool     `keda:"name=excludePersistentLag, order=triggerMetadata, optional"`
	ScaleToZeroOnInvalidOffset         bool     `keda:"name=scaleToZeroOnInvalidOffset, order=triggerMetadata, optional"`
	LimitToPartitionsWithLag           bool     `keda:"name=limitToPartitionsWithLag, order=triggerMetadata, optional"`
	EnsureEvenDistributionOfPartitions bool     `keda:"name=ensureEvenDistributionOfPartitions, order=triggerMetadata, optional"`

	SASL      string `keda:"name=sasl, order=triggerMetadata;authParams, default=none, enum=none;plaintext;scram_sha256;scram_sha512;gssapi;aws_msk_iam"`
	Username  string `keda:"name=username, order=authParams, optional"`
	Password  string `keda:"name=password, order=authParams, optional, secret"`
	AWSRegion string `keda:"name=awsRegion, order=triggerMetadata, optional"`

	TLS         string `keda:"name=tls, order=triggerMetadata;authParams, default=disable, enum=enable;disable"`
	Cert        string `keda:"name=cert, order=authParams, optional, secret"`
	Key         string `keda:"name=key, order=authParams, optional, secret"`
	KeyPassword string `keda:"name=keyPassword, order=authParams, optional, secret"`
	CA          string `keda:"name=ca, order=authParams, optional, secret"`

	// Trigger is the validated trigger, set by Validate.
	Trigger *KafkaTrigger
}

func (m *ApacheKafkaMetadata) Validate() error {
	if m.SASL == KafkaSASLGSSAPI {
		// KEDA lists gssapi for apache-kafka but gives it no Kerberos parameters.
		return &ParamError{Param: "sasl", Problem: "is gssapi, whose Kerberos parameters (realm, kerberosConfig, keytab) only the kafka trigger has",
			Fix: "use type: kafka for SASL/GSSAPI"}
	}
	lag := KafkaLagParams{
		Group: m.ConsumerGroup, Topics: m.Topic, PartitionLimitation: m.PartitionLimitation,
		LagThreshold: m.LagThreshold, ActivationLagThreshold: m.ActivationLagThreshold, OffsetResetPolicy: m.OffsetResetPolicy,
		AllowIdleConsumers: m.AllowIdleConsumers, ExcludePersistentLag: m.ExcludePersistentLag, ScaleToZeroOnInvalidOffset: m.ScaleToZeroOnInvalidOffset,
		LimitToPartitionsWithLag: m.LimitToPartitionsWithLag, EnsureEvenDistributionOfPartitions: m.EnsureEvenDistributionOfPartitions,
	}
	conn := KafkaConnParams{
		bootstrapServers: m.BootstrapServers,
		tls:              m.TLS, ca: m.CA, cert: m.Cert, key: m.Key, keyPassword: m.KeyPassword,
		Sasl: m.SASL, Username: m.Username, Password: m.Password,
		awsRegion: m.AWSRegion,
	}
	t, err := resolveKafkaTrigger(&lag, &conn)
	m.Trigger = t
	return err
}
