package kafka

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// TestServer: each kind of cluster starts on 127.0.0.1, takes topics, records, a consumer group's
// commits, and closes its ports when stopped.
func TestServer(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{name: "plain"},
		{name: "sasl scram", opts: Options{Users: []User{{Mechanism: ScramSHA256, Name: "admin", Password: "s3cret"}}}},
		{name: "sasl plain over mutual tls", opts: Options{Brokers: 2, TLS: true, ClientCerts: true, Users: []User{{Mechanism: Plain, Name: "admin", Password: "s3cret"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			s, err := StartCluster(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if want := max(tc.opts.Brokers, 1); len(s.Addrs) != want || !strings.HasPrefix(s.Bootstrap, "127.0.0.1:") {
				t.Fatalf("addrs %v, want %d on 127.0.0.1", s.Addrs, want)
			}
			if err := s.CreateTopic(ctx, "jobs", 3); err != nil {
				t.Fatal(err)
			}
			for p := range int32(3) {
				if err := s.Produce(ctx, "jobs", p, 2); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Consume(ctx, "workers", 4, "jobs"); err != nil {
				t.Fatal(err)
			}
			if err := s.Commit(ctx, "tool", "jobs", map[int32]int64{1: 1}); err != nil {
				t.Fatal(err)
			}
			cl, err := s.Client()
			if err != nil {
				t.Fatal(err)
			}
			adm := kadm.NewClient(cl)
			var committed int64
			offsets, err := adm.FetchOffsets(ctx, "workers")
			if err != nil {
				t.Fatal(err)
			}
			offsets.Each(func(o kadm.OffsetResponse) { committed += o.At })
			if committed < 4 {
				t.Errorf("group workers committed %d records in all, want at least 4", committed)
			}
			tool, err := adm.FetchOffsets(ctx, "tool")
			if o, ok := tool.Lookup("jobs", 1); err != nil || !ok || o.At != 1 {
				t.Errorf("group tool: %+v %v, want offset 1 on partition 1", tool, err)
			}
			cl.Close()

			s.Stop()
			for _, a := range s.Addrs {
				if c, err := net.DialTimeout("tcp", a, time.Second); err == nil {
					c.Close()
					t.Errorf("%s still accepts connections after Stop", a)
				}
			}
		})
	}
}
