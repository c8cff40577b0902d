package meta

import (
	"fmt"
	"strings"
)

// AWSDynamoDBStreamsMetadata is the aws-dynamodb-streams trigger's metadata, with KEDA's
// parameter names: the value is the number of shards of the table's latest stream, and the HPA
// aims at shardCount of them per replica.
type AWSDynamoDBStreamsMetadata struct {
	ShardCount           int64  `keda:"name=shardCount, order=triggerMetadata, default=2"`
	ActivationShardCount int64  `keda:"name=activationShardCount, order=triggerMetadata, default=0"`
	TableName            string `keda:"name=tableName, order=triggerMetadata"`
	AWSAuth
}

// Validate checks what the metadata alone decides.
func (m *AWSDynamoDBStreamsMetadata) Validate() error {
	if m.ShardCount < 1 {
		// KEDA hands it to the HPA, which refuses a target below 1 milli.
		return &ParamError{Param: "shardCount", Problem: fmt.Sprintf("is %d", m.ShardCount),
			Fix: "must be at least 1: it is the number of stream shards per replica the HPA aims at"}
	}
	if strings.TrimSpace(m.TableName) == "" {
		return &ParamError{Param: "tableName", Problem: "is empty", Fix: "name the DynamoDB table whose stream is read"}
	}
	return m.CheckEndpoint()
}
