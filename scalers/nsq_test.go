package scalers

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

func TestParseNSQMetadata(t *testing.T) {
	base := func(extra ...string) map[string]string {
		m := map[string]string{"nsqLookupdHTTPAddresses": "nsqlookupd-0.nsqlookupd:4161", "topic": "orders", "channel": "billing"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	tests := []parseCase[meta.NSQMetadata]{
		{name: "defaults", meta: base(), check: func(t *testing.T, m *meta.NSQMetadata) {
			if m.DepthThreshold != 10 || m.ActivationDepthThreshold != 0 || m.UseHTTPS || m.UnsafeSSL ||
				len(m.NSQLookupdHTTPAddresses) != 1 || m.NSQLookupdHTTPAddresses[0] != "nsqlookupd-0.nsqlookupd:4161" {
				t.Errorf("parsed %+v", m)
			}
		}},
		{name: "everything", meta: base("nsqLookupdHTTPAddresses", "a:4161, b:4161,,[::1]:4161,c", "depthThreshold", "100",
			"activationDepthThreshold", "5", "useHttps", "true", "unsafeSsl", "true"),
			check: func(t *testing.T, m *meta.NSQMetadata) {
				want := []string{"a:4161", "b:4161", "[::1]:4161", "c"}
				if fmt.Sprint(m.NSQLookupdHTTPAddresses) != fmt.Sprint(want) || m.DepthThreshold != 100 || m.ActivationDepthThreshold != 5 || !m.UseHTTPS || !m.UnsafeSSL {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "from the container's env", meta: map[string]string{"nsqLookupdHTTPAddressesFromEnv": "LOOKUPD", "topicFromEnv": "TOPIC", "channelFromEnv": "CHANNEL"},
			env: map[string]string{"LOOKUPD": "l:4161", "TOPIC": "t", "CHANNEL": "c"}, check: func(t *testing.T, m *meta.NSQMetadata) {
				if m.NSQLookupdHTTPAddresses[0] != "l:4161" || m.Topic != "t" || m.Channel != "c" {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "offline, addresses from the env", offline: true, meta: map[string]string{"nsqLookupdHTTPAddressesFromEnv": "LOOKUPD", "topic": "t", "channel": "c"},
			check: func(t *testing.T, m *meta.NSQMetadata) {}},

		{name: "missing addresses", meta: map[string]string{"topic": "t", "channel": "c"}, wantErr: []string{"trigger 0 (nsq)", "metadata.nsqLookupdHTTPAddresses", "is required"}},
		{name: "only commas", meta: base("nsqLookupdHTTPAddresses", ", ,"), wantErr: []string{"metadata.nsqLookupdHTTPAddresses", "is required", "4161"}},
		{name: "address with a scheme", meta: base("nsqLookupdHTTPAddresses", "http://nsqlookupd:4161"), wantErr: []string{"metadata.nsqLookupdHTTPAddresses", `"http://nsqlookupd:4161"`, "not host:port", "useHttps"}},
		{name: "address with a path", meta: base("nsqLookupdHTTPAddresses", "nsqlookupd:4161/lookup"), wantErr: []string{"not host:port"}},
		{name: "address with a bad port", meta: base("nsqLookupdHTTPAddresses", "a:4161,nsqlookupd:http"), wantErr: []string{`"nsqlookupd:http"`, "between 1 and 65535"}},
		{name: "address with port 0", meta: base("nsqLookupdHTTPAddresses", "nsqlookupd:0"), wantErr: []string{"between 1 and 65535"}},
		{name: "address without host", meta: base("nsqLookupdHTTPAddresses", ":4161"), wantErr: []string{"has no host"}},
		{name: "IPv6 without brackets", meta: base("nsqLookupdHTTPAddresses", "::1:4161"), wantErr: []string{"not host:port"}},
		{name: "missing topic", meta: map[string]string{"nsqLookupdHTTPAddresses": "a:4161", "channel": "c"}, wantErr: []string{"metadata.topic", "is required"}},
		{name: "missing channel", meta: map[string]string{"nsqLookupdHTTPAddresses": "a:4161", "topic": "t"}, wantErr: []string{"metadata.channel", "is required"}},
		{name: "depthThreshold 0", meta: base("depthThreshold", "0"), wantErr: []string{"metadata.depthThreshold", "is 0", "at least 1"}},
		{name: "depthThreshold not a number", meta: base("depthThreshold", "ten"), wantErr: []string{"metadata.depthThreshold", `"ten"`}},
		{name: "negative activationDepthThreshold", meta: base("activationDepthThreshold", "-1"), wantErr: []string{"metadata.activationDepthThreshold", "is -1"}},
		{name: "bad useHttps", meta: base("useHttps", "yes please"), wantErr: []string{"metadata.useHttps"}},
		{name: "env var missing", meta: map[string]string{"nsqLookupdHTTPAddresses": "a:4161", "topicFromEnv": "T", "channel": "c"}, wantErr: []string{"topic", `"T"`, "no such variable"}},
	}
	runParseCases(t, "nsq", tests)
}

// TestNSQMetricSpec: KEDA's metric name (nsq-<topic>-<channel>, normalized), depthThreshold as the
// target, Value or AverageValue as the trigger asks; a metric source of scalingModifiers (and a
// ScaledJob) gets the same spec, as KEDA's nsq scaler makes no exception for them.
func TestNSQMetricSpec(t *testing.T) {
	for _, tt := range []struct {
		topic, channel, metricType string
		asSource                   bool
		wantName                   string
	}{
		{topic: "orders", channel: "billing", wantName: "s2-nsq-orders-billing"},
		{topic: "a.b", channel: "c#ephemeral", metricType: "Value", wantName: "s2-nsq-a-b-c-ephemeral"},
		{topic: "orders", channel: "billing", asSource: true, wantName: "s2-nsq-orders-billing"},
	} {
		cfg := &Config{TriggerType: "nsq", TriggerIndex: 2, MetricType: autoscalingv2.MetricTargetType(tt.metricType), AsMetricSource: tt.asSource, Timeout: time.Second,
			TriggerMetadata: map[string]string{"nsqLookupdHTTPAddresses": "127.0.0.1:1", "topic": tt.topic, "channel": tt.channel, "depthThreshold": "7"}}
		s, err := New(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		specs := s.GetMetricSpecForScaling(context.Background())
		if len(specs) != 1 || specs[0].External.Metric.Name != tt.wantName {
			t.Fatalf("%s/%s: specs %+v, want metric %s", tt.topic, tt.channel, specs, tt.wantName)
		}
		target := specs[0].External.Target
		q := target.AverageValue
		if tt.metricType == "Value" {
			q = target.Value
		}
		if q == nil || q.Value() != 7 {
			t.Errorf("%s/%s: target %+v, want 7", tt.topic, tt.channel, target)
		}
		_ = s.Close(context.Background())
	}
}

func TestNSQStatsDepth(t *testing.T) {
	topic := func(name string, depth int64, channels ...string) string {
		return fmt.Sprintf(`{"topic_name":%q,"depth":%d,"channels":[%s]}`, name, depth, strings.Join(channels, ","))
	}
	channel := func(name string, depth int64, paused bool) string {
		return fmt.Sprintf(`{"channel_name":%q,"depth":%d,"paused":%t,"in_flight_count":3}`, name, depth, paused)
	}
	stats := func(topics ...string) string {
		return `{"version":"1.3.0","health":"OK","start_time":1,"topics":[` + strings.Join(topics, ",") + `],"memory":null,"producers":[]}`
	}
	for _, tt := range []struct {
		name    string
		body    string
		want    int64
		wantErr string
	}{
		{name: "the channel's depth", body: stats(topic("orders", 50, channel("billing", 12, false), channel("audit", 40, false))), want: 12},
		{name: "paused channel counts nothing", body: stats(topic("orders", 50, channel("billing", 12, true))), want: 0},
		{name: "channel not there: the topic's depth", body: stats(topic("orders", 50, channel("audit", 40, false))), want: 50},
		{name: "no channel yet: the topic's depth", body: stats(topic("orders", 9)), want: 9},
		{name: "other topics are not counted", body: stats(topic("other", 100), topic("orders", 1, channel("billing", 2, false))), want: 2},
		{name: "topic not there", body: stats(topic("other", 100)), want: 0},
		{name: "no topics", body: `{"topics":[]}`, want: 0},
		{name: "negative depths count 0", body: stats(topic("orders", -5, channel("billing", -3, false))), want: 0},
		{name: "sum held at int64's largest", body: stats(topic("orders", math.MaxInt64, channel("billing", math.MaxInt64, false), channel("billing", 1, false))), want: math.MaxInt64},
		{name: "not JSON", body: "nsqd v1.3.0 (built w/go1.21)\n", wantErr: "invalid character"},
		{name: "depth too large", body: `{"topics":[{"topic_name":"orders","depth":1e30}]}`, wantErr: "cannot unmarshal"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := nsqStatsDepth([]byte(tt.body), "orders", "billing")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("depth %d (%v), want %d", got, err, tt.want)
			}
		})
	}
}

func TestParseNSQLookup(t *testing.T) {
	for _, tt := range []struct {
		name    string
		body    string
		want    string
		wantErr string
	}{
		{name: "producers", body: `{"channels":["billing"],"producers":[{"remote_address":"10.0.0.1:5000","hostname":"n1","broadcast_address":"nsqd-0.nsqd","tcp_port":4150,"http_port":4151,"version":"1.3.0"},{"broadcast_address":"::1","http_port":14151}]}`,
			want: "[nsqd-0.nsqd:4151 [::1]:14151]"},
		{name: "no producers", body: `{"channels":[],"producers":[]}`, want: "[]"},
		{name: "producer without address", body: `{"producers":[{"broadcast_address":"","http_port":4151}]}`, wantErr: "no usable address"},
		{name: "producer without port", body: `{"producers":[{"broadcast_address":"n"}]}`, wantErr: "http_port 0"},
		{name: "not JSON", body: "<html>", wantErr: "invalid character"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseNSQLookup([]byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || fmt.Sprint(got) != tt.want {
				t.Fatalf("nodes %v (%v), want %s", got, err, tt.want)
			}
		})
	}
}

// nsqFakes is two nsqlookupds and the nsqd nodes they name, for the poll's rules; the real
// servers are in test/scalers.
type nsqFakes struct {
	lookupds [2]*httptest.Server
	nsqds    [2]*httptest.Server
	requests atomic.Int64
}

func newNSQFakes(t *testing.T, lookupStatus [2]int, nsqdStats [2]string) *nsqFakes {
	f := &nsqFakes{}
	for i := range f.nsqds {
		f.nsqds[i] = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			f.requests.Add(1)
			q := r.URL.Query()
			if r.URL.Path != "/stats" || q.Get("format") != "json" || q.Get("topic") != "orders" || q.Has("channel") {
				http.Error(w, "unexpected "+r.URL.String(), http.StatusBadRequest)
				return
			}
			if nsqdStats[i] == "" {
				http.Error(w, `{"message":"INTERNAL_ERROR"}`, http.StatusInternalServerError)
				return
			}
			_, _ = w.Write([]byte(nsqdStats[i]))
		}))
		t.Cleanup(f.nsqds[i].Close)
	}
	for i := range f.lookupds {
		f.lookupds[i] = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			f.requests.Add(1)
			if r.URL.Path != "/lookup" || r.URL.Query().Get("topic") != "orders" {
				http.Error(w, "unexpected "+r.URL.String(), http.StatusBadRequest)
				return
			}
			if lookupStatus[i] != http.StatusOK {
				w.WriteHeader(lookupStatus[i])
				_, _ = w.Write([]byte(`{"message":"TOPIC_NOT_FOUND"}`))
				return
			}
			// Both lookupds know both nodes: each node counts once.
			var producers []string
			for _, n := range f.nsqds {
				host, port, _ := net.SplitHostPort(n.Listener.Addr().String())
				producers = append(producers, fmt.Sprintf(`{"broadcast_address":%q,"http_port":%s}`, host, port))
			}
			_, _ = fmt.Fprintf(w, `{"channels":["billing"],"producers":[%s]}`, strings.Join(producers, ","))
		}))
		t.Cleanup(f.lookupds[i].Close)
	}
	return f
}

func (f *nsqFakes) trigger(extra ...string) map[string]string {
	m := map[string]string{"topic": "orders", "channel": "billing", "depthThreshold": "5",
		"nsqLookupdHTTPAddresses": f.lookupds[0].Listener.Addr().String() + "," + f.lookupds[1].Listener.Addr().String()}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return m
}

func nsqTestStats(topicDepth, channelDepth int64, paused bool) string {
	return fmt.Sprintf(`{"topics":[{"topic_name":"orders","depth":%d,"channels":[{"channel_name":"billing","depth":%d,"paused":%t}]}]}`, topicDepth, channelDepth, paused)
}

func TestNSQPoll(t *testing.T) {
	for _, tt := range []struct {
		name       string
		lookup     [2]int
		stats      [2]string
		extra      []string
		want       int64
		wantActive bool
		wantErr    []string
	}{
		{name: "the channel summed over the nodes", lookup: [2]int{200, 200}, stats: [2]string{nsqTestStats(100, 3, false), nsqTestStats(100, 4, false)}, want: 7, wantActive: true},
		{name: "one lookupd does not know the topic", lookup: [2]int{404, 200}, stats: [2]string{nsqTestStats(0, 3, false), nsqTestStats(0, 4, false)}, want: 7, wantActive: true},
		{name: "no lookupd knows the topic", lookup: [2]int{404, 404}, want: 0},
		{name: "paused on one node", lookup: [2]int{200, 200}, stats: [2]string{nsqTestStats(0, 3, true), nsqTestStats(0, 4, false)}, want: 4, wantActive: true},
		{name: "at the activation threshold", lookup: [2]int{200, 200}, stats: [2]string{nsqTestStats(0, 3, false), nsqTestStats(0, 4, false)}, extra: []string{"activationDepthThreshold", "7"}, want: 7},
		{name: "a lookupd fails", lookup: [2]int{200, 500}, wantErr: []string{"trigger 0 (nsq)", "GET http://", "/lookup?topic=orders", "500", "nsqlookupd's HTTP port"}},
		{name: "a node fails", lookup: [2]int{200, 200}, stats: [2]string{nsqTestStats(0, 3, false), ""}, wantErr: []string{"trigger 0 (nsq)", "/stats?", "500", "announced to nsqlookupd"}},
		{name: "a node answers something else", lookup: [2]int{200, 200}, stats: [2]string{"OK", nsqTestStats(0, 4, false)}, wantErr: []string{"not nsqd's stats", "announced to nsqlookupd"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newNSQFakes(t, tt.lookup, tt.stats)
			cfg := &Config{TriggerType: "nsq", Timeout: 5 * time.Second, TriggerMetadata: f.trigger(tt.extra...)}
			s, err := New(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close(context.Background())
			values, active, err := s.GetMetricsAndActivity(context.Background(), "s0-nsq-orders-billing")
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("want an error mentioning %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(values) != 1 || values[0].Value.Value() != tt.want || values[0].MetricName != "s0-nsq-orders-billing" || active != tt.wantActive {
				t.Fatalf("values %+v active %v, want %d active %v", values, active, tt.want, tt.wantActive)
			}
		})
	}
}

// TestNSQUnreachable: a lookupd that does not answer names the parameter to check.
func TestNSQUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg := &Config{TriggerType: "nsq", Timeout: time.Second, TriggerMetadata: map[string]string{"nsqLookupdHTTPAddresses": addr, "topic": "orders", "channel": "billing"}}
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	_, _, err = s.GetMetricsAndActivity(context.Background(), "m")
	if err == nil || !strings.Contains(err.Error(), "metadata.nsqLookupdHTTPAddresses") || !strings.Contains(err.Error(), addr) {
		t.Fatalf("error %v, want one naming %s and metadata.nsqLookupdHTTPAddresses", err, addr)
	}
}

// TestNSQSharesTransport: triggers with the same TLS settings share one transport; unsafeSsl
// makes another.
func TestNSQSharesTransport(t *testing.T) {
	f := newNSQFakes(t, [2]int{200, 200}, [2]string{nsqTestStats(0, 1, false), nsqTestStats(0, 1, false)})
	pool := NewClientPool()
	defer pool.Close()
	var scalers []Scaler
	for i, extra := range [][]string{nil, {"channel", "other"}, {"unsafeSsl", "true"}} {
		cfg := &Config{TriggerType: "nsq", TriggerIndex: i, Timeout: 5 * time.Second, Clients: pool, TriggerMetadata: f.trigger(extra...)}
		s, err := New(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.GetMetricsAndActivity(context.Background(), "m"); err != nil {
			t.Fatal(err)
		}
		scalers = append(scalers, s)
	}
	if pool.Len() != 2 {
		t.Errorf("%d shared transports, want 2 (one per TLS setting)", pool.Len())
	}
	for _, s := range scalers {
		_ = s.Close(context.Background())
	}
	if pool.Len() != 0 {
		t.Errorf("%d shared transports after every trigger closed, want 0", pool.Len())
	}
}
