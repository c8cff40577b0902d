// Package kinesalite runs kinesalite, a Kinesis emulator (npm, installed by hack/tools.sh
// kinesalite), on a free loopback port behind a front that verifies SigV4 with the test's
// credentials and records the requests (kinesalite accepts any signature), and sets streams'
// open shard counts by splitting and merging shards as a producer's operator would.
package kinesalite

import (
	"context"
	"fmt"
	"math/big"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/kedactl/kedactl/test/servers/internal/npmserver"
	"github.com/kedactl/kedactl/test/servers/internal/proc"
	"github.com/kedactl/kedactl/test/servers/internal/sigv4"
)

// Options are the credentials the front accepts; empty fields get defaults.
type Options struct {
	Region, AccessKeyID, SecretAccessKey, SessionToken string
}

// Server is a running kinesalite and its front.
type Server struct {
	*npmserver.Fronted
	client *kinesis.Client
}

// Request is one request the front saw, refused ones included (Server.Requests lists them).
type Request = npmserver.Request

// Start starts a server for one test and stops it when the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	return proc.ForTest(t, "kinesalite", func(ctx context.Context) (*Server, error) { return StartProcess(ctx, o) })
}

// StartProcess starts kinesalite (streams change state at once) and its front.
func StartProcess(ctx context.Context, o Options) (*Server, error) {
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.AccessKeyID == "" {
		o.AccessKeyID, o.SecretAccessKey = "AKIDKINESALITE", "kinesalite-secret"
	}
	s := &Server{}
	var err error
	s.Fronted, err = npmserver.StartFronted(ctx, "kinesalite", "kinesalite", map[string]any{"createStreamMs": 0, "deleteStreamMs": 0, "updateStreamMs": 0, "shardLimit": 100},
		func(ctx context.Context, url string) error {
			_, err := newClient(url).ListStreams(ctx, &kinesis.ListStreamsInput{})
			return err
		},
		sigv4.Credentials{Service: "kinesis", Region: o.Region, AccessKeyID: o.AccessKeyID, SecretAccessKey: o.SecretAccessKey, SessionToken: o.SessionToken})
	if err != nil {
		return nil, err
	}
	s.client = newClient(s.Emulator)
	return s, nil
}

// newClient talks to the emulator itself, so that the front records the scalers' requests only.
func newClient(url string) *kinesis.Client {
	return kinesis.New(kinesis.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDHARNESS", "harness", ""), Retryer: aws.NopRetryer{}})
}

// CreateStream creates a stream of shards open shards.
func (s *Server) CreateStream(ctx context.Context, name string, shards int) error {
	if _, err := s.client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(int32(shards))}); err != nil {
		return fmt.Errorf("failed to create Kinesis stream %s: %w", name, err)
	}
	return s.waitActive(ctx, name)
}

// SetOpenShards splits the widest open shard, or merges the two adjacent open shards of the
// narrowest joint range, until name has n open shards (at least 1).
func (s *Server) SetOpenShards(ctx context.Context, name string, n int) error {
	for range 200 {
		open, err := s.openShards(ctx, name)
		if err != nil {
			return err
		}
		switch {
		case len(open) == n:
			return nil
		case len(open) < n:
			w := open[0]
			for _, sh := range open {
				if sh.width().Cmp(w.width()) > 0 {
					w = sh
				}
			}
			mid := new(big.Int).Add(w.start, new(big.Int).Rsh(w.width(), 1))
			if _, err := s.client.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(name), ShardToSplit: aws.String(w.id),
				NewStartingHashKey: aws.String(mid.String())}); err != nil {
				return fmt.Errorf("failed to split shard %s of %s: %w", w.id, name, err)
			}
		default:
			best := -1
			for i := 0; i+1 < len(open); i++ {
				if best < 0 || new(big.Int).Add(open[i].width(), open[i+1].width()).Cmp(new(big.Int).Add(open[best].width(), open[best+1].width())) < 0 {
					best = i
				}
			}
			if _, err := s.client.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String(name), ShardToMerge: aws.String(open[best].id),
				AdjacentShardToMerge: aws.String(open[best+1].id)}); err != nil {
				return fmt.Errorf("failed to merge shards %s and %s of %s: %w", open[best].id, open[best+1].id, name, err)
			}
		}
		if err := s.waitActive(ctx, name); err != nil {
			return err
		}
	}
	return fmt.Errorf("stream %s: no %d open shards after 200 splits and merges", name, n)
}

type shard struct {
	id         string
	start, end *big.Int
}

func (s shard) width() *big.Int { return new(big.Int).Sub(s.end, s.start) }

// openShards are the stream's open shards in hash key order.
func (s *Server) openShards(ctx context.Context, name string) ([]shard, error) {
	out, err := s.client.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name), Limit: aws.Int32(10000)})
	if err != nil {
		return nil, fmt.Errorf("failed to describe Kinesis stream %s: %w", name, err)
	}
	var open []shard
	for _, sh := range out.StreamDescription.Shards {
		if sh.SequenceNumberRange.EndingSequenceNumber != nil {
			continue
		}
		start, ok1 := new(big.Int).SetString(aws.ToString(sh.HashKeyRange.StartingHashKey), 10)
		end, ok2 := new(big.Int).SetString(aws.ToString(sh.HashKeyRange.EndingHashKey), 10)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("stream %s: shard %s has hash keys %v", name, aws.ToString(sh.ShardId), sh.HashKeyRange)
		}
		open = append(open, shard{id: aws.ToString(sh.ShardId), start: start, end: end})
	}
	sort.Slice(open, func(i, j int) bool { return open[i].start.Cmp(open[j].start) < 0 })
	return open, nil
}

// waitActive waits (up to ten seconds) for the stream to be ACTIVE again after a change.
func (s *Server) waitActive(ctx context.Context, name string) error {
	for range 100 {
		out, err := s.client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err == nil && out.StreamDescriptionSummary.StreamStatus == "ACTIVE" {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("stream %s is not ACTIVE after ten seconds", name)
}
