package nats

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
)

// TestServerServesJetStreamAndMonitoring: a client stores a message in a stream, and the
// monitoring endpoint reports the stream in the global account.
func TestServerServesJetStreamAndMonitoring(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nats-server")
	}
	s := Start(t)
	nc, err := natsgo.Connect(s.URL, natsgo.Timeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.AddStream(&natsgo.StreamConfig{Name: "probe", Subjects: []string{"probe.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish("probe.one", []byte("x")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	body, err := get(ctx, http.DefaultClient, "http://"+s.MonitoringAddr+"/jsz?acc=$G&consumers=true&config=true")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), `"name": "probe"`) {
		t.Fatalf("/jsz does not list the stream:\n%s", body)
	}
}

// TestClusterElectsLeaders: a three-node cluster on three loopback addresses forms a JetStream
// meta group, and a replicated consumer reports a leader that is one of the nodes.
func TestClusterElectsLeaders(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nats-server")
	}
	c := StartCluster(t, 3)
	nc, err := natsgo.Connect(c.Nodes[0].URL, natsgo.Timeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.AddStream(&natsgo.StreamConfig{Name: "probe", Subjects: []string{"probe.>"}, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	info, err := js.AddConsumer("probe", &natsgo.ConsumerConfig{Durable: "workers", AckPolicy: natsgo.AckExplicitPolicy, Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	if info.Cluster == nil || c.Node(info.Cluster.Leader) == nil {
		t.Fatalf("consumer leader %+v is not a node of the cluster", info.Cluster)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	body, err := get(ctx, http.DefaultClient, "http://"+c.Nodes[1].MonitoringAddr+"/varz")
	if err != nil {
		t.Fatal(err)
	}
	var varz struct {
		ServerName string `json:"server_name"`
	}
	if err := json.Unmarshal(body, &varz); err != nil || varz.ServerName != "nats-1" {
		t.Fatalf("node 1's /varz server_name = %q (%v)", varz.ServerName, err)
	}
}
