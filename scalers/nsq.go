package scalers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// The nsq trigger measures how many messages wait for a channel of a topic, over NSQ's HTTP APIs:
//
//	GET <nsqlookupd>/lookup?topic=T   each nsqlookupd: the nsqd nodes that carry topic T
//	GET <nsqd>/stats?format=json&topic=T   each of those nsqd nodes: the depths of T and its channels
//
// The depth of a node is that of the channel; of the topic when the channel does not exist there
// yet (messages wait in the topic until a consumer creates it, and the first consumer must be
// started); nothing when the channel is paused there (its consumers would get nothing anyway).
// The metric is the sum over the nodes.

// nsqMaxParallel bounds the requests one poll has in flight: a lookup may name many nsqd nodes.
const nsqMaxParallel = 8

// nsqScaler sums a channel's depth over the topic's nsqd nodes on each poll.
type nsqScaler struct {
	cfg        *Config
	meta       meta.NSQMetadata
	client     *httpClient
	scheme     string
	metricName string
}

func newNSQScaler(_ context.Context, cfg *Config) (Scaler, error) {
	s := &nsqScaler{cfg: cfg, scheme: "http"}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	if s.meta.UseHTTPS {
		s.scheme = "https"
	}
	s.metricName = MetricName(cfg.TriggerIndex, "nsq-"+s.meta.Topic+"-"+s.meta.Channel)
	// No credentials: the transport is shared with every HTTP trigger of the same TLS settings.
	s.client = newHTTPClient(cfg, &meta.HTTPAuthParams{}, &meta.HTTPAuth{}, "nsqLookupdHTTPAddresses", &url.URL{}, 0, s.meta.UnsafeSSL)
	return s, nil
}

func (s *nsqScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	spec, err := ExternalMetricSpec(s.cfg, s.metricName, float64(s.meta.DepthThreshold))
	if err != nil {
		return nil
	}
	return []autoscalingv2.MetricSpec{spec}
}

// GetMetricsAndActivity reads the depth once; the trigger is active above
// activationDepthThreshold.
func (s *nsqScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	depth, err := s.depth(ctx)
	if err != nil {
		return nil, false, err
	}
	return []external_metrics.ExternalMetricValue{{MetricName: metricName, Value: *floatQuantity(float64(depth))}},
		depth > s.meta.ActivationDepthThreshold, nil
}

func (s *nsqScaler) Close(context.Context) error {
	s.client.close()
	return nil
}

// depth asks the nsqlookupds for the topic's nodes, then each node for its depth.
func (s *nsqScaler) depth(ctx context.Context) (int64, error) {
	lookups := make([][]string, len(s.meta.NSQLookupdHTTPAddresses))
	err := nsqEach(len(lookups), func(i int) error {
		var err error
		lookups[i], err = s.lookup(ctx, s.meta.NSQLookupdHTTPAddresses[i])
		return err
	})
	if err != nil {
		return 0, err
	}
	var nodes []string
	for _, l := range lookups {
		nodes = append(nodes, l...)
	}
	slices.Sort(nodes)
	nodes = slices.Compact(nodes)
	// No node carries the topic (yet): nothing waits.
	depths := make([]int64, len(nodes))
	err = nsqEach(len(nodes), func(i int) error {
		var err error
		depths[i], err = s.nodeDepth(ctx, nodes[i])
		return err
	})
	if err != nil {
		return 0, err
	}
	var sum int64
	for _, d := range depths {
		sum = addSat(sum, d)
	}
	return sum, nil
}

// nsqEach runs f for 0..n-1, at most nsqMaxParallel at a time, and returns the error of the
// lowest index that failed, so that a poll's error does not depend on timing.
func nsqEach(n int, f func(i int) error) error {
	errs := make([]error, n)
	sem := make(chan struct{}, nsqMaxParallel)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = f(i)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// lookup asks one nsqlookupd for the HTTP addresses of the nsqd nodes that carry the topic. A
// nsqlookupd that does not know the topic answers 404: another one may.
func (s *nsqScaler) lookup(ctx context.Context, addr string) ([]string, error) {
	u := &url.URL{Scheme: s.scheme, Host: addr, Path: "/lookup", RawQuery: url.Values{"topic": {s.meta.Topic}}.Encode()}
	status, body, err := s.client.send(ctx, http.MethodGet, u, http.Header{"Accept": {"application/json"}}, nil)
	if err != nil {
		return nil, err
	}
	if status == http.StatusNotFound {
		return nil, nil
	}
	if status < 200 || status > 299 {
		return nil, s.client.fail(u, fmt.Errorf("%w: check that metadata.nsqLookupdHTTPAddresses names nsqlookupd's HTTP port (4161 by default), not nsqd's",
			s.client.statusError(&httpStatusError{code: status, body: body})))
	}
	nodes, err := parseNSQLookup(body)
	if err != nil {
		return nil, s.client.fail(u, fmt.Errorf("the answer is not nsqlookupd's: %w: check that metadata.nsqLookupdHTTPAddresses names nsqlookupd's HTTP port", err))
	}
	return nodes, nil
}

// nodeDepth asks one nsqd for the topic's stats and returns the depth the trigger counts there.
func (s *nsqScaler) nodeDepth(ctx context.Context, node string) (int64, error) {
	// The channel is not a filter of the request: nsqd would then leave out a topic without it,
	// whose depth counts.
	q := url.Values{"format": {"json"}, "topic": {s.meta.Topic}, "include_clients": {"false"}, "include_mem": {"false"}}
	u := &url.URL{Scheme: s.scheme, Host: node, Path: "/stats", RawQuery: q.Encode()}
	// The node's address is what it registered with nsqlookupd, not a parameter: a failure says
	// where it came from.
	hint := "nsqd " + node + " is the address it announced to nsqlookupd (its --broadcast-address and --http-address port): it must be reachable from the operator"
	status, body, err := s.client.send(ctx, http.MethodGet, u, nil, nil)
	var unreachable *url.Error
	if errors.As(err, &unreachable) {
		// The shared wording points at the trigger's address parameter, which did not name this
		// node: say where its address came from instead.
		return 0, fmt.Errorf("%s: GET %s: could not reach nsqd at %s, the address it announced to nsqlookupd: check nsqd's --broadcast-address and --http-address, which must be reachable from the operator: %w",
			triggerWho(s.cfg), u.Redacted(), node, unreachable.Err)
	}
	if err != nil {
		return 0, fmt.Errorf("%w (%s)", err, hint)
	}
	if status < 200 || status > 299 {
		return 0, s.client.fail(u, fmt.Errorf("%w (%s)", s.client.statusError(&httpStatusError{code: status, body: body}), hint))
	}
	d, err := nsqStatsDepth(body, s.meta.Topic, s.meta.Channel)
	if err != nil {
		return 0, s.client.fail(u, fmt.Errorf("the answer is not nsqd's stats: %w (%s)", err, hint))
	}
	return d, nil
}

// nsqLookupAnswer is the part of nsqlookupd's /lookup answer the trigger reads.
type nsqLookupAnswer struct {
	Producers []struct {
		BroadcastAddress string `json:"broadcast_address"`
		HTTPPort         int    `json:"http_port"`
	} `json:"producers"`
}

// parseNSQLookup returns the host:port of each producer's HTTP listener in a /lookup answer.
func parseNSQLookup(body []byte) ([]string, error) {
	var a nsqLookupAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, errors.New(meta.Clip(err.Error(), 200))
	}
	nodes := make([]string, 0, len(a.Producers))
	for _, p := range a.Producers {
		if p.BroadcastAddress == "" || p.HTTPPort < 1 || p.HTTPPort > 65535 {
			return nil, fmt.Errorf("a producer has no usable address (broadcast_address %s, http_port %d)", meta.Quote(p.BroadcastAddress, 80), p.HTTPPort)
		}
		node := net.JoinHostPort(p.BroadcastAddress, strconv.Itoa(p.HTTPPort))
		// An address with brackets of its own ("[") joins into no host:port at all.
		if host, _, err := net.SplitHostPort(node); err != nil || host == "" {
			return nil, fmt.Errorf("a producer has no usable address (broadcast_address %s, http_port %d)", meta.Quote(p.BroadcastAddress, 80), p.HTTPPort)
		}
		nodes = append(nodes, node)
	}
	return nodes, nil
}

// nsqStatsAnswer is the part of nsqd's /stats?format=json answer the trigger reads.
type nsqStatsAnswer struct {
	Topics []struct {
		TopicName string `json:"topic_name"`
		Depth     int64  `json:"depth"`
		Channels  []struct {
			ChannelName string `json:"channel_name"`
			Depth       int64  `json:"depth"`
			Paused      bool   `json:"paused"`
		} `json:"channels"`
	} `json:"topics"`
}

// nsqStatsDepth is the depth one nsqd's stats give for channel of topic: the channel's depth;
// nothing when the channel is paused; the topic's depth when the topic has not that channel.
// Negative depths (not nsqd's) count as 0.
func nsqStatsDepth(body []byte, topic, channel string) (int64, error) {
	var a nsqStatsAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return 0, errors.New(meta.Clip(err.Error(), 200))
	}
	var depth int64
	for _, t := range a.Topics {
		if t.TopicName != topic {
			continue
		}
		found := false
		for _, c := range t.Channels {
			if c.ChannelName != channel {
				continue
			}
			found = true
			if !c.Paused {
				depth = addSat(depth, max(c.Depth, 0))
			}
		}
		if !found {
			depth = addSat(depth, max(t.Depth, 0))
		}
	}
	return depth, nil
}
