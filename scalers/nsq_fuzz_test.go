package scalers

import (
	"net"
	"strings"
	"testing"
)

// FuzzNSQResponse reads arbitrary bytes as an nsqlookupd /lookup answer and as an nsqd /stats
// answer: nothing panics, every node is a host:port with a port that can be dialled, depths
// are never negative, and errors stay short.
func FuzzNSQResponse(f *testing.F) {
	for _, seed := range []string{
		`{"channels":["billing"],"producers":[{"broadcast_address":"nsqd-0.nsqd","tcp_port":4150,"http_port":4151,"version":"1.3.0"}]}`,
		`{"topics":[{"topic_name":"orders","depth":5,"channels":[{"channel_name":"billing","depth":3,"paused":false}]}]}`,
		`{"topics":[{"topic_name":"orders","depth":9223372036854775807,"channels":[{"channel_name":"billing","depth":9223372036854775807},{"channel_name":"billing","depth":1}]}]}`,
		`{"topics":[{"topic_name":"orders","depth":-4,"channels":[]}]}`,
		`{"producers":[{"broadcast_address":"::1","http_port":65536}]}`,
		`{"message":"TOPIC_NOT_FOUND"}`,
		`null`,
		strings.Repeat(`{"topics":[`, 50),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		nodes, err := parseNSQLookup(body)
		if err != nil {
			if len(err.Error()) > 300 {
				t.Fatalf("lookup error of %d bytes: %.80q...", len(err.Error()), err)
			}
		}
		for _, n := range nodes {
			host, port, err := net.SplitHostPort(n)
			if err != nil || host == "" || port == "0" || port == "" {
				t.Fatalf("node %q is not host:port", n)
			}
		}
		depth, err := nsqStatsDepth(body, "orders", "billing")
		if err != nil {
			if len(err.Error()) > 300 {
				t.Fatalf("stats error of %d bytes: %.80q...", len(err.Error()), err)
			}
			return
		}
		if depth < 0 {
			t.Fatalf("negative depth %d", depth)
		}
	})
}
