package scalers

import (
	"bytes"
	"context"
	"math"
	"net"
	"strings"
	"sync"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/grpc"
)

// fuzzEtcdKV is an etcd KV service on 127.0.0.1 that answers every Range with the current fuzz
// input: kvs copies of the key holding value (an etcd server sends one at most, but a proxy or
// another server might not).
type fuzzEtcdKV struct {
	pb.UnimplementedKVServer
	addr string

	mu    sync.Mutex
	value []byte
	kvs   int
}

func newFuzzEtcdKV(tb testing.TB) *fuzzEtcdKV {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	kv := &fuzzEtcdKV{addr: lis.Addr().String()}
	srv := grpc.NewServer()
	pb.RegisterKVServer(srv, kv)
	go func() { _ = srv.Serve(lis) }()
	tb.Cleanup(srv.Stop)
	return kv
}

func (kv *fuzzEtcdKV) set(value []byte, kvs int) {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	kv.value, kv.kvs = value, kvs
}

func (kv *fuzzEtcdKV) Range(_ context.Context, req *pb.RangeRequest) (*pb.RangeResponse, error) {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	resp := &pb.RangeResponse{Header: &pb.ResponseHeader{Revision: 1}, Count: int64(kv.kvs)}
	for range kv.kvs {
		resp.Kvs = append(resp.Kvs, &mvccpb.KeyValue{Key: req.Key, Value: kv.value, Version: 1, CreateRevision: 1, ModRevision: 1})
	}
	return resp, nil
}

// FuzzEtcdValue feeds arbitrary values of the watched key to parseEtcdValue and, served by a
// KV service on 127.0.0.1, to an etcd trigger's poll: a value that reads as a number is finite
// and is what the poll reports (in thousandths), activity is the value above activationValue,
// and nothing panics or writes an error longer than maxFuzzErrLen.
func FuzzEtcdValue(f *testing.F) {
	for _, seed := range []struct {
		value string
		kvs   uint8
	}{
		{"12", 1}, {"0", 1}, {"2.5", 1}, {"-4", 1}, {"7\n", 1}, {"1e3", 1}, {"", 1}, {"twelve", 1}, {"NaN", 1}, {"-Inf", 1},
		{"1e308", 1}, {"9223372036854775807", 1}, {"0x1p-2", 1}, {"1_000", 1}, {"12", 0}, {"12", 3}, {"\xff\xfe", 1},
	} {
		f.Add([]byte(seed.value), seed.kvs)
	}
	kv := newFuzzEtcdKV(f)
	s, err := New(context.Background(), &Config{TriggerType: "etcd", Timeout: fuzzPollTimeout,
		TriggerMetadata: map[string]string{"endpoints": kv.addr, "watchKey": "/queue", "value": "5", "activationValue": "2"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close(context.Background()) })
	f.Fuzz(func(t *testing.T, value []byte, kvs uint8) {
		want, wantErr := parseEtcdValue(value)
		if wantErr != nil {
			checkErr(t, wantErr)
		} else if math.IsNaN(want) || math.IsInf(want, 0) {
			t.Fatalf("parseEtcdValue(%q) = %v", value, want)
		}

		kv.set(bytes.Clone(value), int(kvs%4))
		vals, active, err := poll(t, s, "s0-etcd--queue")
		switch {
		case kvs%4 == 0:
			if err == nil {
				t.Fatalf("no error for a missing key, value %v", vals)
			}
			checkErr(t, err, "does not exist", "watchKey")
		case wantErr != nil:
			if err == nil {
				t.Fatalf("value %q: no error, value %v", value, vals)
			}
			checkErr(t, err, "not a finite number", "/queue")
		default:
			if err != nil {
				t.Fatalf("value %q: %v", value, err)
			}
			if len(vals) != 1 || vals[0].Value.MilliValue() != floatQuantity(want).MilliValue() || active != (want > 2) {
				t.Fatalf("value %q (%v): polled %v, active %v", value, want, vals, active)
			}
		}
	})
}

// TestEtcdBoundsTheAnswer: an answer beyond etcdMaxResponse is refused by the client instead of
// read whole.
func TestEtcdBoundsTheAnswer(t *testing.T) {
	kv := newFuzzEtcdKV(t)
	kv.set([]byte(strings.Repeat("9", 2*etcdMaxResponse)), 1)
	s, err := New(context.Background(), &Config{TriggerType: "etcd", Timeout: fuzzPollTimeout,
		TriggerMetadata: map[string]string{"endpoints": kv.addr, "watchKey": "/queue", "value": "5"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	_, _, err = poll(t, s, "s0-etcd--queue")
	if err == nil || !strings.Contains(err.Error(), "larger than max") {
		t.Fatalf("a 2 MiB answer: %v, want the client to refuse it", err)
	}
	checkErr(t, err, "/queue")
}
