package meta

import (
	"fmt"
	"strings"
)

// AWSKinesisStreamMetadata is the aws-kinesis-stream trigger's metadata, with KEDA's parameter
// names: the HPA aims at shardCount open shards per replica.
type AWSKinesisStreamMetadata struct {
	ShardCount           int64  `keda:"name=shardCount, order=triggerMetadata, default=2"`
	ActivationShardCount int64  `keda:"name=activationShardCount, order=triggerMetadata, default=0"`
	StreamName           string `keda:"name=streamName, order=triggerMetadata"`
	AWSAuth
}

// Validate checks what the metadata alone decides.
func (m *AWSKinesisStreamMetadata) Validate() error {
	if m.ShardCount < 1 {
		// KEDA hands it to the HPA, which refuses a target below 1 milli.
		return &ParamError{Param: "shardCount", Problem: fmt.Sprintf("is %d", m.ShardCount),
			Fix: "must be at least 1: it is the number of open shards per replica the HPA aims at"}
	}
	if strings.TrimSpace(m.StreamName) == "" {
		return &ParamError{Param: "streamName", Problem: "is empty", Fix: "name the Kinesis data stream"}
	}
	return m.CheckEndpoint()
}
