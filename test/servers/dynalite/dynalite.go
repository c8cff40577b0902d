// Package dynalite runs dynalite, a DynamoDB emulator (npm, installed by hack/tools.sh dynalite),
// on a free loopback port behind a front that verifies SigV4 with the test's credentials and
// records the requests (dynalite accepts any signature), and keeps a given number of items under
// a partition key as producers and workers would.
package dynalite

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/kedactl/kedactl/test/servers/internal/npmserver"
	"github.com/kedactl/kedactl/test/servers/internal/proc"
	"github.com/kedactl/kedactl/test/servers/internal/sigv4"
)

// Options are the credentials the front accepts; empty fields get defaults.
type Options struct {
	Region, AccessKeyID, SecretAccessKey, SessionToken string
}

// Server is a running dynalite and its front.
type Server struct {
	*npmserver.Fronted
	client *dynamodb.Client

	mu   sync.Mutex
	high map[string]int // table/partition -> the items ids 0..high-1 may exist
}

// Request is one request the front saw, refused ones included (Server.Requests lists them).
type Request = npmserver.Request

// Start starts a server for one test and stops it when the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	return proc.ForTest(t, "dynalite", func(ctx context.Context) (*Server, error) { return StartProcess(ctx, o) })
}

// StartProcess starts dynalite (tables change state at once) and its front.
func StartProcess(ctx context.Context, o Options) (*Server, error) {
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.AccessKeyID == "" {
		o.AccessKeyID, o.SecretAccessKey = "AKIDDYNALITE", "dynalite-secret"
	}
	s := &Server{high: map[string]int{}}
	var err error
	s.Fronted, err = npmserver.StartFronted(ctx, "dynalite", "dynalite", map[string]any{"createTableMs": 0, "deleteTableMs": 0, "updateTableMs": 0},
		func(ctx context.Context, url string) error {
			_, err := newClient(url).ListTables(ctx, &dynamodb.ListTablesInput{})
			return err
		},
		sigv4.Credentials{Service: "dynamodb", Region: o.Region, AccessKeyID: o.AccessKeyID, SecretAccessKey: o.SecretAccessKey, SessionToken: o.SessionToken})
	if err != nil {
		return nil, err
	}
	s.client = newClient(s.Emulator)
	return s, nil
}

// newClient talks to the emulator itself, so that the front records the scalers' requests only.
func newClient(url string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDHARNESS", "harness", ""), Retryer: aws.NopRetryer{}})
}

// CreateTable creates table with the string partition key "queue" and the number sort key "id",
// and a global secondary index "by-state" on the string "state" and "id".
func (s *Server) CreateTable(ctx context.Context, table string) error {
	_, err := s.client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("queue"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeN},
			{AttributeName: aws.String("state"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("queue"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("id"), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String("by-state"),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String("state"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("id"), KeyType: types.KeyTypeRange},
			},
			Projection:            &types.Projection{ProjectionType: types.ProjectionTypeAll},
			ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)},
		}},
		ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)},
	})
	if err != nil {
		return fmt.Errorf("failed to create DynamoDB table %s: %w", table, err)
	}
	for range 100 {
		out, err := s.client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err == nil && out.Table.TableStatus == types.TableStatusActive {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("table %s is not ACTIVE after ten seconds", table)
}

// SetItems leaves n items (ids 0..n-1, with state) under the partition key queue of table.
func (s *Server) SetItems(ctx context.Context, table, queue, state string, n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := table + "/" + queue
	for id := range n {
		if _, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
			"queue": &types.AttributeValueMemberS{Value: queue}, "id": &types.AttributeValueMemberN{Value: strconv.Itoa(id)},
			"state": &types.AttributeValueMemberS{Value: state},
		}}); err != nil {
			return fmt.Errorf("failed to put item %s/%d into %s: %w", queue, id, table, err)
		}
	}
	for id := n; id < s.high[key]; id++ {
		if _, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{
			"queue": &types.AttributeValueMemberS{Value: queue}, "id": &types.AttributeValueMemberN{Value: strconv.Itoa(id)},
		}}); err != nil {
			return fmt.Errorf("failed to delete item %s/%d from %s: %w", queue, id, table, err)
		}
	}
	s.high[key] = max(s.high[key], n)
	return nil
}
