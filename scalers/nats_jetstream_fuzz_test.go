package scalers

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/kedactl/kedactl/scalers/meta"
)

// FuzzNATSJetStreamResponse feeds arbitrary /jsz and /varz answers to the functions that read
// them and, served on 127.0.0.1, to a nats-jetstream trigger's poll (the leader lookup
// included): the lag read is never negative, the poll reports it, and no answer panics.
func FuzzNATSJetStreamResponse(f *testing.F) {
	single := `{"server_id":"NABC","account_details":[{"name":"$G","id":"$G","stream_detail":[{"name":"orders","consumer_detail":[{"name":"worker","num_ack_pending":3,"num_pending":40,"cluster":{"leader":"n1"}}]}]}]}`
	cluster := `{"server_id":"N1","meta_cluster":{"leader":"n1","cluster_size":3},"account_details":[{"name":"$G","id":"$G","stream_detail":[{"name":"orders","consumer_detail":[{"name":"worker","num_ack_pending":1,"num_pending":2,"cluster":{"leader":"n2"}}]}]}]}`
	varz := `{"server_name":"n2","connect_urls":["10.0.0.2:4222","nats-1.nats:4222"],"cluster":{"urls":["nats-2.nats:6222"]}}`
	for _, jsz := range []string{
		single,
		cluster,
		`{"account_details":[null]}`,
		`{"account_details":[{"name":"$G","stream_detail":[null]}]}`,
		`{"account_details":[{"name":"$G","stream_detail":[{"name":"orders","consumer_detail":[null]}]}]}`,
		`{"account_details":[{"name":"$G","stream_detail":[{"name":"orders","consumer_detail":[{"name":"worker","num_pending":-7}]}]}]}`,
		`{"account_details":[{"name":"$G","stream_detail":[{"name":"orders","consumer_detail":[{"name":"worker","num_pending":9223372036854775807,"num_ack_pending":1}]}]}]}`,
		`{"account_details":[{"name":"$G","stream_detail":[{"name":"orders","consumer_detail":[{"name":"worker","num_pending":1e20}]}]}]}`,
		`{"account_details":[{"name":"other","stream_detail":[]},{"name":"$G"}]}`,
		`{"account_details":{}}`,
		`null`,
		``,
		`nats: unknown protocol operation`,
	} {
		f.Add([]byte(jsz), []byte(varz))
	}
	f.Add([]byte(cluster), []byte(`{"server_name":"n1"}`))
	f.Add([]byte(cluster), []byte(`{"server_name":"n2","connect_urls":null}`))
	f.Add([]byte(cluster), []byte(`{"connect_urls":["[::1", "a:b:c", ":0", "%zz:1"]}`))
	f.Add([]byte(cluster), []byte(`[]`))
	srv := newFuzzServer(f)
	meta := meta.NatsJetStreamMetadata{Account: "$G", Stream: "orders", Consumer: "worker", MonitoringEndpoint: strings.TrimPrefix(srv.URL, "http://")}
	f.Fuzz(func(t *testing.T, jsz, varz []byte) {
		var want int64
		var doc jszResponse
		wantErr := decodeMonitoringJSON(jsz, &doc)
		if wantErr == nil {
			var c *jszConsumer
			if c, wantErr = findJSZConsumer(&doc, &meta); wantErr == nil {
				want, wantErr = c.lag()
			}
		}
		if wantErr == nil && want < 0 {
			t.Fatalf("read a lag of %d", want)
		}
		if wantErr != nil {
			checkErr(t, wantErr)
		}

		s, err := New(context.Background(), &Config{TriggerType: "nats-jetstream", TriggerIndex: 4, Timeout: fuzzPollTimeout,
			TriggerMetadata: map[string]string{"natsServerMonitoringEndpoint": meta.MonitoringEndpoint, "account": meta.Account,
				"stream": meta.Stream, "consumer": meta.Consumer, "lagThreshold": "10", "activationLagThreshold": "5"}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close(context.Background())
		// The cluster's nodes, whatever /varz names them, are this server: nothing but 127.0.0.1
		// is dialled.
		transport := s.(*natsJetStreamScaler).client.client.Transport.(observedTransport).next.(*http.Transport)
		transport.Proxy = nil
		transport.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
		}
		srv.serve(http.StatusOK, nil, map[string][]byte{"/jsz": jsz, "/varz": varz})
		vals, active, err := poll(t, s, "s4-nats-jetstream-orders")
		switch {
		case wantErr != nil:
			if err == nil {
				t.Fatalf("reading the answer failed (%v), the poll did not", wantErr)
			}
			checkErr(t, err, "trigger 4 (nats-jetstream)", wantErr.Error())
		case err != nil:
			// Only the leader lookup, which reads /varz, may fail a poll on a good /jsz.
			if doc.MetaCluster.ClusterSize <= 1 {
				t.Fatalf("read a lag of %d, the poll failed: %v", want, err)
			}
			checkErr(t, err, "trigger 4 (nats-jetstream)")
		default:
			checkPoll(t, vals, active, "s4-nats-jetstream-orders", float64(want), 5)
		}
	})
}
