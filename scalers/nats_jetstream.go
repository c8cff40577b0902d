package scalers

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/url"
	"sort"
	"strings"

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// natsIsAccount reports whether a /jsz account entry is the trigger's account (by ID or by name).
func natsIsAccount(m *meta.NatsJetStreamMetadata, a *jszAccount) bool {
	return (m.AccountID != "" && a.ID == m.AccountID) || (m.Account != "" && a.Name == m.Account)
}

// The parts of the monitoring endpoints' answers the scaler reads.
type jszResponse struct {
	ServerID    string        `json:"server_id"`
	Accounts    []*jszAccount `json:"account_details"`
	MetaCluster struct {
		Leader      string `json:"leader"`
		ClusterSize int    `json:"cluster_size"`
	} `json:"meta_cluster"`
}

type jszAccount struct {
	Name    string       `json:"name"`
	ID      string       `json:"id"`
	Streams []*jszStream `json:"stream_detail"`
}

type jszStream struct {
	Name      string         `json:"name"`
	Consumers []*jszConsumer `json:"consumer_detail"`
	// Config is the stream's configuration (config=true): its subjects are what the push stream
	// listens on (nats_jetstream_push.go).
	Config struct {
		Subjects []string `json:"subjects"`
	} `json:"config"`
}

type jszConsumer struct {
	Name          string `json:"name"`
	NumAckPending int64  `json:"num_ack_pending"`
	NumPending    int64  `json:"num_pending"`
	Cluster       struct {
		Leader string `json:"leader"`
	} `json:"cluster"`
}

// lag is the consumer's lag: the messages it has not delivered yet (num_pending) plus those
// delivered but not acknowledged (num_ack_pending), as KEDA counts it.
func (c *jszConsumer) lag() (int64, error) {
	// A server reports no negative count; a proxy or a broken answer could, and a negative lag
	// would read as scaled to zero.
	if c.NumPending < 0 || c.NumAckPending < 0 {
		return 0, fmt.Errorf("the server reports num_pending %d and num_ack_pending %d, and a count below 0 is not a lag: check that metadata.natsServerMonitoringEndpoint is a NATS server's monitoring port",
			c.NumPending, c.NumAckPending)
	}
	if c.NumPending > math.MaxInt64-c.NumAckPending {
		return math.MaxInt64, nil // as many replicas as the HPA allows
	}
	return c.NumPending + c.NumAckPending, nil
}

type varzResponse struct {
	ServerName string `json:"server_name"`
	// Port, AuthRequired and TLSRequired describe the client listener, for the push stream.
	Port         int      `json:"port"`
	AuthRequired bool     `json:"auth_required"`
	TLSRequired  bool     `json:"tls_required"`
	ConnectURLs  []string `json:"connect_urls"`
	Cluster      struct {
		URLs []string `json:"urls"`
	} `json:"cluster"`
}

// natsJetStreamScaler reads a consumer's lag from the NATS monitoring endpoint. In a cluster the
// consumer's leader has the authoritative counts, so the scaler finds the leader's monitoring
// endpoint and reads from it until the leader changes.
type natsJetStreamScaler struct {
	cfg        *Config
	meta       meta.NatsJetStreamMetadata
	client     *httpClient
	metricName string

	// leader and leaderURL remember the consumer's leader node and its /jsz address. Polls of one
	// scaler never overlap (the engine polls a job once at a time), so they need no lock.
	leader    string
	leaderURL *url.URL
}

func newNATSJetStreamScaler(_ context.Context, cfg *Config) (Scaler, error) {
	s := &natsJetStreamScaler{cfg: cfg}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	// KEDA names it s<index>-nats-jetstream-<stream>, normalized.
	s.metricName = MetricName(cfg.TriggerIndex, "nats-jetstream-"+s.meta.Stream)
	s.client = newHTTPClient(cfg, &meta.HTTPAuthParams{}, &meta.HTTPAuth{}, "natsServerMonitoringEndpoint", s.meta.JSZURL, 0, false)
	return s, nil
}

func (s *natsJetStreamScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, float64(s.meta.LagThreshold))
}

// GetMetricsAndActivity reads the consumer's lag: the messages it has not delivered yet
// (num_pending) plus those delivered but not acknowledged (num_ack_pending), as KEDA counts it.
// The trigger is active when the lag is above activationLagThreshold.
func (s *natsJetStreamScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	c, err := s.consumer(ctx)
	if err != nil {
		return nil, false, err
	}
	lag, err := c.lag()
	if err != nil {
		return nil, false, fmt.Errorf("%s: consumer %q of stream %q on %s: %w", triggerWho(s.cfg), s.meta.Consumer, s.meta.Stream, s.meta.MonitoringEndpoint, err)
	}
	return oneMetricValue(metricName, float64(lag)), lag > s.meta.ActivationLagThreshold, nil
}

func (s *natsJetStreamScaler) Close(context.Context) error {
	s.client.close()
	return nil
}

// consumer returns the trigger's consumer as the node that leads it reports it.
func (s *natsJetStreamScaler) consumer(ctx context.Context) (*jszConsumer, error) {
	if s.leaderURL != nil {
		// The leader we found last time: keep reading from it while it still leads.
		doc, err := s.jsz(ctx, s.leaderURL)
		if err == nil {
			if c, ferr := s.find(doc); ferr == nil && c.Cluster.Leader == s.leader {
				return c, nil
			}
		}
		s.leader, s.leaderURL = "", nil
	}
	doc, err := s.jsz(ctx, s.meta.JSZURL)
	if err != nil {
		return nil, err
	}
	c, err := s.find(doc)
	if err != nil {
		return nil, err
	}
	if doc.MetaCluster.ClusterSize <= 1 || c.Cluster.Leader == "" {
		return c, nil
	}
	return s.fromLeader(ctx, c.Cluster.Leader)
}

// maxNATSNodes bounds the nodes a poll asks for their name while it looks for a consumer's leader.
const maxNATSNodes = 32

// fromLeader finds the monitoring endpoint of the cluster node named leader among the nodes the
// configured endpoint knows (its /varz connect_urls, else its cluster routes), on the configured
// monitoring port, and reads the consumer from it.
func (s *natsJetStreamScaler) fromLeader(ctx context.Context, leader string) (*jszConsumer, error) {
	entry := *s.meta.JSZURL
	entry.Path, entry.RawQuery = "/varz", ""
	var first varzResponse
	if err := s.getJSON(ctx, &entry, &first); err != nil {
		return nil, err
	}
	_, monitorPort, _ := net.SplitHostPort(s.meta.JSZURL.Host)
	candidates := []string{s.meta.JSZURL.Host}
	for _, u := range append(first.ConnectURLs, first.Cluster.URLs...) {
		host := u
		if h, _, err := net.SplitHostPort(u); err == nil {
			host = h
		}
		candidates = append(candidates, net.JoinHostPort(host, monitorPort))
	}
	seen := map[string]bool{}
	var names []string
	for _, hostPort := range candidates {
		if seen[hostPort] {
			continue
		}
		if len(seen) == maxNATSNodes {
			// Each node costs a request of up to the timeout; a cluster is a handful of nodes,
			// and a poll must end.
			names = append(names, fmt.Sprintf("and up to %d more not tried", len(candidates)-len(seen)))
			break
		}
		seen[hostPort] = true
		varz := *s.meta.JSZURL
		varz.Host, varz.Path, varz.RawQuery = hostPort, "/varz", ""
		var info varzResponse
		if err := s.getJSON(ctx, &varz, &info); err != nil {
			names = append(names, hostPort+" (unreachable)")
			continue
		}
		names = append(names, hostPort+" ("+info.ServerName+")")
		if info.ServerName != leader {
			continue
		}
		jsz := *s.meta.JSZURL
		jsz.Host = hostPort
		doc, err := s.jsz(ctx, &jsz)
		if err != nil {
			return nil, err
		}
		c, err := s.find(doc)
		if err != nil {
			return nil, err
		}
		s.leader, s.leaderURL = leader, &jsz
		return c, nil
	}
	return nil, fmt.Errorf("%s: consumer %q of stream %q is led by cluster node %q, but no node reachable from metadata.natsServerMonitoringEndpoint %s has that name (found %s): check that every node's monitoring port is %s and reachable",
		triggerWho(s.cfg), s.meta.Consumer, s.meta.Stream, meta.Clip(leader, 80), s.meta.MonitoringEndpoint, joinClipped(names), monitorPort)
}

// find locates the trigger's account, stream and consumer in a /jsz answer.
func (s *natsJetStreamScaler) find(doc *jszResponse) (*jszConsumer, error) {
	c, err := findJSZConsumer(doc, &s.meta)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", triggerWho(s.cfg), err)
	}
	return c, nil
}

// findJSZConsumer locates meta's account, stream and consumer in a /jsz answer, with an error
// that lists what is there when one is missing.
func findJSZConsumer(doc *jszResponse, md *meta.NatsJetStreamMetadata) (*jszConsumer, error) {
	var acct *jszAccount
	var accounts []string
	// A JSON null in a list decodes as a nil entry, which names nothing: skipped.
	for _, a := range doc.Accounts {
		if a == nil {
			continue
		}
		if natsIsAccount(md, a) {
			acct = a
			break
		}
		accounts = append(accounts, a.Name)
	}
	if acct == nil {
		return nil, fmt.Errorf("the NATS server at %s has no JetStream account %q (it reports %s): check metadata.account (\"$G\" when the server has no accounts) or accountID",
			md.MonitoringEndpoint, md.AccountQuery(), listOrNone(accounts))
	}
	var stream *jszStream
	var streams []string
	for _, st := range acct.Streams {
		if st == nil {
			continue
		}
		if st.Name == md.Stream {
			stream = st
			break
		}
		streams = append(streams, st.Name)
	}
	if stream == nil {
		return nil, fmt.Errorf("account %q has no stream %q (it has %s): check metadata.stream",
			meta.Clip(acct.Name, 80), md.Stream, listOrNone(streams))
	}
	var consumers []string
	for _, c := range stream.Consumers {
		if c == nil {
			continue
		}
		if c.Name == md.Consumer {
			return c, nil
		}
		consumers = append(consumers, c.Name)
	}
	return nil, fmt.Errorf("stream %q has no consumer %q (it has %s): check metadata.consumer, the consumer's durable name",
		md.Stream, md.Consumer, listOrNone(consumers))
}

// jsz GETs and decodes a /jsz answer.
func (s *natsJetStreamScaler) jsz(ctx context.Context, u *url.URL) (*jszResponse, error) {
	var doc jszResponse
	if err := s.getJSON(ctx, u, &doc); err != nil {
		return nil, err
	}
	return &doc, nil
}

func (s *natsJetStreamScaler) getJSON(ctx context.Context, u *url.URL, into any) error {
	body, err := s.client.get(ctx, u, nil)
	if err != nil {
		return err
	}
	if err := decodeMonitoringJSON(body, into); err != nil {
		return fmt.Errorf("%s: GET %s: %w", triggerWho(s.cfg), u.Redacted(), err)
	}
	return nil
}

// decodeMonitoringJSON decodes an answer of a NATS monitoring endpoint (/jsz, /varz) into into.
func decodeMonitoringJSON(body []byte, into any) error {
	if err := json.Unmarshal(body, into); err != nil {
		start := strings.TrimSpace(string(body))
		if len(start) > 60 {
			start = start[:60] + "..."
		}
		return fmt.Errorf("the answer is not the NATS monitoring JSON (%v; it starts with %q): check that metadata.natsServerMonitoringEndpoint is the server's monitoring port (http_port, 8222 by default), not its client port",
			err, start)
	}
	return nil
}

// listOrNone quotes names for an error, sorted, or says none. The server's answer decides how
// many names and how long, and the error ends up in a condition: the list is cut short.
func listOrNone(names []string) string {
	const maxNames, maxLen = 20, 80
	if len(names) == 0 {
		return "none"
	}
	names = append([]string(nil), names...)
	sort.Strings(names)
	quoted := make([]string, 0, min(len(names), maxNames)+1)
	for _, n := range names[:min(len(names), maxNames)] {
		quoted = append(quoted, meta.Quote(n, maxLen))
	}
	if len(names) > maxNames {
		quoted = append(quoted, fmt.Sprintf("and %d more", len(names)-maxNames))
	}
	return strings.Join(quoted, ", ")
}

// joinClipped joins the nodes found for an error, cut short as listOrNone cuts names.
func joinClipped(nodes []string) string {
	const maxNodes = 20
	out := make([]string, 0, min(len(nodes), maxNodes)+1)
	for _, n := range nodes[:min(len(nodes), maxNodes)] {
		out = append(out, meta.Clip(n, 200))
	}
	if len(nodes) > maxNodes {
		out = append(out, fmt.Sprintf("and %d more", len(nodes)-maxNodes))
	}
	return strings.Join(out, ", ")
}
