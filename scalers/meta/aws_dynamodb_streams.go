package meta

import "strings"

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
	if err := checkShardCount(m.ShardCount, "stream shards"); err != nil {
		return err
	}
	if strings.TrimSpace(m.TableName) == "" {
		return &ParamError{Param: "tableName", Problem: "is empty", Fix: "name the DynamoDB table whose stream is read"}
	}
	return m.CheckEndpoint()
}
