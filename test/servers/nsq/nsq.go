// Package nsq runs real NSQ servers for tests: one nsqlookupd and nsqd nodes that register with
// it, from nsq v1.3.0 (built by hack/tools.sh nsq into the tools cache), each on free 127.0.0.1
// ports (TCP and HTTP) with its own temporary data dir, in its own process group, dying with the
// test binary and stopped by Stop (which Start registers with t.Cleanup). Publishing, creating,
// pausing and emptying channels go through nsqd's HTTP API, as producers and operators do.
package nsq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kedactl/kedactl/test/cluster"
	"github.com/kedactl/kedactl/test/servers/internal/proc"
)

// readyTimeout bounds the wait for a started server to answer /ping.
const readyTimeout = 30 * time.Second

// Cluster is a running nsqlookupd and its nsqd nodes.
type Cluster struct {
	// LookupdHTTPAddr is host:port of nsqlookupd's HTTP listener: what the trigger's
	// nsqLookupdHTTPAddresses names.
	LookupdHTTPAddr string
	// Nodes are the nsqd nodes, registered with the nsqlookupd.
	Nodes []*Node

	lookupd        *server
	lookupdTCPAddr string
}

// Node is one nsqd.
type Node struct {
	// HTTPAddr is host:port of its HTTP listener.
	HTTPAddr string
	// Announced is the HTTP address it registers with nsqlookupd, which the scaler asks.
	Announced string
	// TCPAddr is host:port of its TCP (consumer protocol) listener.
	TCPAddr string

	*server
}

// server is one process and its dir.
type server struct {
	proc *proc.Process
	dir  string
}

func (s *server) stop() {
	if s == nil {
		return
	}
	if s.proc != nil {
		s.proc.Stop(syscall.SIGTERM)
	}
	_ = os.RemoveAll(s.dir)
}

// Start starts an nsqlookupd and nodes nsqd nodes for one test and stops them when it ends.
func Start(t testing.TB, nodes int) *Cluster {
	t.Helper()
	return proc.ForTest(t, "nsq", func(ctx context.Context) (*Cluster, error) { return StartProcesses(ctx, nodes) })
}

// StartProcesses builds the servers if needed and starts them, waiting until each answers /ping.
func StartProcesses(ctx context.Context, nodes int) (*Cluster, error) {
	bin, err := cluster.ToolDir(ctx, os.Stderr, "nsq")
	if err != nil {
		return nil, err
	}
	c := &Cluster{}
	ports, err := proc.FreePorts(2)
	if err != nil {
		return nil, err
	}
	c.lookupdTCPAddr = addr(ports[0])
	c.LookupdHTTPAddr = addr(ports[1])
	c.lookupd, err = startServer(ctx, filepath.Join(bin, "nsqlookupd"), "nsqlookupd", c.LookupdHTTPAddr,
		"--tcp-address="+c.lookupdTCPAddr, "--http-address="+c.LookupdHTTPAddr, "--broadcast-address=127.0.0.1")
	if err != nil {
		return nil, err
	}
	for range nodes {
		if _, err := c.AddNode(ctx, "127.0.0.1"); err != nil {
			c.Stop()
			return nil, err
		}
	}
	return c, nil
}

// AddNode starts another nsqd, registered with the nsqlookupd, that announces broadcastHost as
// its address: 127.0.0.1 for a node the scaler can reach; another loopback address, where
// nothing listens, for a node whose --broadcast-address the scaler cannot reach (a pod's
// hostname outside the cluster's DNS, say).
func (c *Cluster) AddNode(ctx context.Context, broadcastHost string) (*Node, error) {
	bin, err := cluster.ToolDir(ctx, os.Stderr, "nsq")
	if err != nil {
		return nil, err
	}
	ports, err := proc.FreePorts(2)
	if err != nil {
		return nil, err
	}
	n := &Node{TCPAddr: addr(ports[0]), HTTPAddr: addr(ports[1]), Announced: net.JoinHostPort(broadcastHost, strconv.Itoa(ports[1]))}
	// nsqd opens its HTTPS listener (0.0.0.0:4152 by default) only with a certificate, so
	// nodes do not collide there.
	n.server, err = startServer(ctx, filepath.Join(bin, "nsqd"), "nsqd", n.HTTPAddr,
		"--tcp-address="+n.TCPAddr, "--http-address="+n.HTTPAddr, "--broadcast-address="+broadcastHost,
		"--lookupd-tcp-address="+c.lookupdTCPAddr, "--data-path=.")
	if err != nil {
		return nil, err
	}
	c.Nodes = append(c.Nodes, n)
	return n, nil
}

func addr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

func startServer(ctx context.Context, bin, name, httpAddr string, args ...string) (*server, error) {
	dir, err := os.MkdirTemp("", "kedactl-"+name+"-")
	if err != nil {
		return nil, fmt.Errorf("failed to create the %s dir: %w", name, err)
	}
	s := &server{dir: dir}
	if s.proc, err = proc.Start(bin, args, dir, name, nil); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	err = s.proc.WaitUntil(ctx, readyTimeout, name+" answering /ping on "+httpAddr, func(ctx context.Context) error {
		_, err := call(ctx, http.MethodGet, httpAddr, "/ping", nil, nil)
		return err
	})
	if err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// Stop stops every server and removes their dirs.
func (c *Cluster) Stop() {
	for _, n := range c.Nodes {
		n.stop()
	}
	c.lookupd.stop()
}

// call makes one request to an NSQ server's HTTP API and returns the body of a 200 answer.
func call(ctx context.Context, method, hostPort, path string, query url.Values, body []byte) ([]byte, error) {
	u := url.URL{Scheme: "http", Host: hostPort, Path: path, RawQuery: query.Encode()}
	var r io.Reader
	if body != nil {
		r = strings.NewReader(string(body))
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), r)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %d %s", method, u.String(), resp.StatusCode, strings.TrimSpace(string(answer)))
	}
	return answer, nil
}

// Publish publishes n messages to topic on this node (creating the topic, and registering it
// with nsqlookupd).
func (n *Node) Publish(ctx context.Context, topic string, count int) error {
	if count == 0 {
		return nil
	}
	msgs := make([]string, count)
	for i := range msgs {
		msgs[i] = "message-" + strconv.Itoa(i)
	}
	_, err := call(ctx, http.MethodPost, n.HTTPAddr, "/mpub", url.Values{"topic": {topic}}, []byte(strings.Join(msgs, "\n")))
	return err
}

// CreateChannel creates topic's channel on this node (and the topic, when it is not there yet),
// as a consumer's first subscription does.
func (n *Node) CreateChannel(ctx context.Context, topic, channel string) error {
	if _, err := call(ctx, http.MethodPost, n.HTTPAddr, "/topic/create", url.Values{"topic": {topic}}, nil); err != nil {
		return err
	}
	_, err := call(ctx, http.MethodPost, n.HTTPAddr, "/channel/create", url.Values{"topic": {topic}, "channel": {channel}}, nil)
	return err
}

// PauseChannel pauses (or with pause false resumes) topic's channel on this node.
func (n *Node) PauseChannel(ctx context.Context, topic, channel string, pause bool) error {
	path := "/channel/unpause"
	if pause {
		path = "/channel/pause"
	}
	_, err := call(ctx, http.MethodPost, n.HTTPAddr, path, url.Values{"topic": {topic}, "channel": {channel}}, nil)
	return err
}

// EmptyChannel drops the messages waiting in topic's channel on this node, as if consumers had
// taken them all.
func (n *Node) EmptyChannel(ctx context.Context, topic, channel string) error {
	_, err := call(ctx, http.MethodPost, n.HTTPAddr, "/channel/empty", url.Values{"topic": {topic}, "channel": {channel}}, nil)
	return err
}

// WaitRegistered waits until nsqlookupd lists nodes producers of topic: nsqd registers a topic
// with nsqlookupd a moment after creating it.
func (c *Cluster) WaitRegistered(ctx context.Context, topic string, nodes int) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for {
		body, err := call(ctx, http.MethodGet, c.LookupdHTTPAddr, "/lookup", url.Values{"topic": {topic}}, nil)
		if err == nil {
			var a struct {
				Producers []json.RawMessage `json:"producers"`
			}
			if err = json.Unmarshal(body, &a); err == nil && len(a.Producers) >= nodes {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return errors.Join(fmt.Errorf("nsqlookupd at %s does not list %d producers of topic %q", c.LookupdHTTPAddr, nodes, topic), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
