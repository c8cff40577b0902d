// Package ddbstreams is a contract fake of the two calls the aws-dynamodb-streams scaler makes,
// written from AWS's API references of DynamoDB and DynamoDB Streams. Both speak the AWS JSON 1.0
// protocol, signed with Signature Version 4 for the service "dynamodb" (which the fake verifies),
// and are served on one endpoint, told apart by X-Amz-Target:
//
//	POST /  X-Amz-Target: DynamoDB_20120810.DescribeTable  Content-Type: application/x-amz-json-1.0
//	        {"TableName": "orders"}
//	-> 200  {"Table": {"TableName": "orders", "TableStatus": "ACTIVE", "StreamSpecification": {...},
//	         "LatestStreamLabel": "...", "LatestStreamArn": "arn:aws:dynamodb:<region>:<account>:table/orders/stream/<label>", ...}}
//
//	POST /  X-Amz-Target: DynamoDBStreams_20120810.DescribeStream
//	        {"StreamArn": "...", "Limit": 100, "ExclusiveStartShardId": "..."}
//	-> 200  {"StreamDescription": {"StreamArn": ..., "StreamStatus": "ENABLED", "Shards": [{"ShardId": ...,
//	         "SequenceNumberRange": {...}, "ParentShardId": ...}], "LastEvaluatedShardId": "..."}}
//
// A page holds Limit shards (1 to 100, 100 when unset) in the order of their IDs, after
// ExclusiveStartShardId; LastEvaluatedShardId names the page's last shard when more follow and
// is absent on the last page. DynamoDB's errors answer 400 with
// {"__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", "message": ...} (an
// unknown table or stream), ValidationException (a malformed name, ARN or Limit), and the
// service framework's UnrecognizedClientException, InvalidSignatureException,
// MissingAuthenticationTokenException and IncompleteSignatureException for refused signatures.
//
// No emulator served here implements DynamoDB Streams well enough: kumo v0.33.1 lists exactly one
// shard per stream and ignores Limit and ExclusiveStartShardId, and dynalite 4.0.0 has no
// Streams API at all. Tables, their streams and their shards are set by the test.
package ddbstreams

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kedactl/kedactl/test/servers/internal/sigv4"
)

// Options configures a server.
type Options struct {
	// Region is the region requests must be signed for; us-east-1 when empty.
	Region string
	// AccessKeyID, SecretAccessKey and SessionToken are the credentials the server accepts.
	AccessKeyID, SecretAccessKey, SessionToken string
}

// Request is a request the server answered.
type Request struct {
	Target, AccessKeyID, Region string
	Input                       Input
	Status                      int
}

// Input is a request's body as the fake reads it (DescribeTable's or DescribeStream's fields).
type Input struct {
	TableName             string
	StreamArn             string
	Limit                 *int
	ExclusiveStartShardId string
}

type table struct {
	streamArn, label string // empty: no stream was ever enabled
	streamGone       bool   // the stream expired: DescribeStream does not find it
	shards           int
}

// Server is a running fake.
type Server struct {
	// URL is the endpoint (http://127.0.0.1:port), what awsEndpoint names.
	URL string

	opts Options

	mu       sync.Mutex
	tables   map[string]*table
	requests []Request
}

const account = "123456789012"

// Start starts a server for one test and stops it when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	s := &Server{opts: opts, tables: map[string]*table{}}
	srv := httptest.NewServer(http.HandlerFunc(s.serve)) // httptest listens on 127.0.0.1
	s.URL = srv.URL
	t.Cleanup(srv.Close)
	return s
}

// CreateTable adds a table; with a stream, the stream starts with one shard.
func (s *Server) CreateTable(name string, stream bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tb := &table{}
	if stream {
		tb.label = time.Now().UTC().Format("2006-01-02T15:04:05.000")
		tb.streamArn = fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s/stream/%s", s.opts.Region, account, name, tb.label)
		tb.shards = 1
	}
	s.tables[name] = tb
}

// SetShards makes the table's stream list n shards. DynamoDB Streams lists the shards it still
// retains (closed ones for 24 hours); the test decides how many that is.
func (s *Server) SetShards(tableName string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tables[tableName].shards = n
}

// ExpireStream makes DescribeStream no longer find the table's stream, as after it was disabled
// for more than 24 hours.
func (s *Server) ExpireStream(tableName string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tables[tableName].streamGone = true
}

// StreamArn is the table's LatestStreamArn.
func (s *Server) StreamArn(tableName string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tables[tableName].streamArn
}

// Requests are the requests answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

type apiError struct {
	typ, message string
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rec := Request{Target: r.Header.Get("X-Amz-Target")}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var status int
	if err != nil {
		status = fail(w, 400, apiError{"com.amazon.coral.service#SerializationException", "could not read the body"})
	} else {
		status = s.handle(w, r, body, &rec)
	}
	rec.Status = status
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request, body []byte, rec *Request) int {
	keyID, region, e := sigv4.Verify(r, body, sigv4.Credentials{Service: "dynamodb", Region: s.opts.Region,
		AccessKeyID: s.opts.AccessKeyID, SecretAccessKey: s.opts.SecretAccessKey, SessionToken: s.opts.SessionToken})
	rec.AccessKeyID, rec.Region = keyID, region
	if e != nil {
		// DynamoDB answers refused signatures 400, under the service framework's namespace.
		code := map[sigv4.Kind]string{sigv4.Missing: "MissingAuthenticationTokenException", sigv4.Incomplete: "IncompleteSignatureException",
			sigv4.UnknownCredentials: "UnrecognizedClientException", sigv4.BadSignature: "InvalidSignatureException"}[e.Kind]
		return fail(w, 400, apiError{"com.amazon.coral.service#" + code, e.Message})
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-amz-json-1.0" {
		return fail(w, 400, apiError{"com.amazon.coral.service#UnknownOperationException", "the fake speaks AWS JSON 1.0 only"})
	}
	if err := json.Unmarshal(body, &rec.Input); err != nil {
		return fail(w, 400, apiError{"com.amazon.coral.service#SerializationException", err.Error()})
	}
	var out any
	var apiErr *apiError
	switch rec.Target {
	case "DynamoDB_20120810.DescribeTable":
		out, apiErr = s.describeTable(rec.Input)
	case "DynamoDBStreams_20120810.DescribeStream":
		out, apiErr = s.describeStream(rec.Input)
	default:
		return fail(w, 400, apiError{"com.amazon.coral.service#UnknownOperationException", "the fake answers DescribeTable and DescribeStream only, not " + rec.Target})
	}
	if apiErr != nil {
		return fail(w, 400, *apiErr)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000")
	_ = json.NewEncoder(w).Encode(out)
	return http.StatusOK
}

// tableName is DynamoDB's documented form of a table name.
var tableName = regexp.MustCompile(`^[a-zA-Z0-9_.-]{3,255}$`)

func validation(msg string) *apiError {
	return &apiError{"com.amazon.coral.validate#ValidationException", msg}
}

func notFound(msg string) *apiError {
	return &apiError{"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", msg}
}

func (s *Server) describeTable(in Input) (any, *apiError) {
	if !tableName.MatchString(in.TableName) {
		return nil, validation(fmt.Sprintf("1 validation error detected: Value '%s' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+", in.TableName))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tb, ok := s.tables[in.TableName]
	if !ok {
		return nil, notFound("Requested resource not found: Table: " + in.TableName + " not found")
	}
	desc := map[string]any{
		"TableName": in.TableName, "TableStatus": "ACTIVE",
		"TableArn":  fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", s.opts.Region, account, in.TableName),
		"KeySchema": []map[string]string{{"AttributeName": "id", "KeyType": "HASH"}},
	}
	if tb.streamArn != "" {
		desc["StreamSpecification"] = map[string]any{"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"}
		desc["LatestStreamLabel"], desc["LatestStreamArn"] = tb.label, tb.streamArn
	}
	return map[string]any{"Table": desc}, nil
}

type shard struct {
	ShardId             string
	ParentShardId       string `json:",omitempty"`
	SequenceNumberRange map[string]string
}

// shardID is the n-th shard's ID, in DynamoDB Streams' form; IDs sort in creation order.
func shardID(n int) string {
	return fmt.Sprintf("shardId-%020d-%08x", 1_700_000_000_000+n, n)
}

func (s *Server) describeStream(in Input) (any, *apiError) {
	if len(in.StreamArn) < 37 || len(in.StreamArn) > 1024 {
		return nil, validation("1 validation error detected: Value at 'streamArn' failed to satisfy constraint: Member must have length between 37 and 1024")
	}
	limit := 100
	if in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > 100 {
			return nil, validation(fmt.Sprintf("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100", *in.Limit))
		}
		limit = *in.Limit
	}
	if in.ExclusiveStartShardId != "" && (len(in.ExclusiveStartShardId) < 28 || len(in.ExclusiveStartShardId) > 65) {
		return nil, validation("1 validation error detected: Value at 'exclusiveStartShardId' failed to satisfy constraint: Member must have length between 28 and 65")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var tb *table
	var name string
	for n, t := range s.tables {
		if t.streamArn == in.StreamArn && !t.streamGone {
			tb, name = t, n
		}
	}
	if tb == nil {
		return nil, notFound("Requested resource not found: Stream: " + in.StreamArn + " not found")
	}
	shards := []shard{}
	more := false
	for i := range tb.shards {
		id := shardID(i)
		if in.ExclusiveStartShardId != "" && strings.Compare(id, in.ExclusiveStartShardId) <= 0 {
			continue
		}
		if len(shards) == limit {
			more = true
			break
		}
		sh := shard{ShardId: id, SequenceNumberRange: map[string]string{"StartingSequenceNumber": fmt.Sprintf("%d00000000000000000000", i+1)}}
		if i > 0 {
			sh.ParentShardId = shardID(i - 1)
		}
		if i < tb.shards-1 {
			// Every shard but the newest is closed: it has an ending sequence number.
			sh.SequenceNumberRange["EndingSequenceNumber"] = fmt.Sprintf("%d00000000000000000009", i+1)
		}
		shards = append(shards, sh)
	}
	desc := map[string]any{
		"StreamArn": tb.streamArn, "StreamLabel": tb.label, "StreamStatus": "ENABLED", "StreamViewType": "NEW_AND_OLD_IMAGES",
		"TableName": name, "KeySchema": []map[string]string{{"AttributeName": "id", "KeyType": "HASH"}},
		"CreationRequestDateTime": 1.7e9, "Shards": shards,
	}
	if more {
		desc["LastEvaluatedShardId"] = shards[len(shards)-1].ShardId
	}
	return map[string]any{"StreamDescription": desc}, nil
}

func fail(w http.ResponseWriter, status int, e apiError) int {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.typ, "message": e.message})
	return status
}
