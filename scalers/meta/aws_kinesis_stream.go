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
	if err := checkShardCount(m.ShardCount, "open shards"); err != nil {
		return err
	}
	if strings.TrimSpace(m.StreamName) == "" {
		return &ParamError{Param: "streamName", Problem: "is empty", Fix: "name the Kinesis data stream"}
	}
	return m.CheckEndpoint()
}

// checkShardCount refuses a shardCount target below 1 (of what shards, for the fix): KEDA hands
// it to the HPA, which refuses a target below 1 milli.
func checkShardCount(n int64, what string) error {
	if n < 1 {
		return &ParamError{Param: "shardCount", Problem: fmt.Sprintf("is %d", n),
			Fix: "must be at least 1: it is the number of " + what + " per replica the HPA aims at"}
	}
	return nil
}
