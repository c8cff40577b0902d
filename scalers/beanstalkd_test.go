package scalers

import (
	"bufio"
	"context"
	"errors"
	"io"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

func TestParseBeanstalkdMetadata(t *testing.T) {
	base := func(extra ...string) map[string]string {
		m := map[string]string{"server": "beanstalkd.default.svc:11300", "tube": "jobs", "value": "5"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	tests := []parseCase[meta.BeanstalkdMetadata]{
		{name: "defaults", meta: base(), check: func(t *testing.T, m *meta.BeanstalkdMetadata) {
			// KEDA's default timeout, "30", is a number of milliseconds.
			if m.Value != 5 || m.ActivationValue != 0 || m.IncludeDelayed || m.DialTimeout != 30*time.Millisecond {
				t.Errorf("parsed %+v", m)
			}
		}},
		{name: "everything", meta: base("activationValue", "2.5", "includeDelayed", "true", "timeout", "1000", "tube", "a/b;c.$_(d)+e"),
			check: func(t *testing.T, m *meta.BeanstalkdMetadata) {
				if m.ActivationValue != 2.5 || !m.IncludeDelayed || m.DialTimeout != time.Second || m.Tube != "a/b;c.$_(d)+e" {
					t.Errorf("parsed %+v", m)
				}
			}},
		{name: "timeout as a duration", meta: base("timeout", "5s"), check: func(t *testing.T, m *meta.BeanstalkdMetadata) {
			if m.DialTimeout != 5*time.Second {
				t.Errorf("dial timeout %s", m.DialTimeout)
			}
		}},
		{name: "IPv6 server", meta: base("server", "[::1]:11300"), check: func(t *testing.T, m *meta.BeanstalkdMetadata) {}},
		{name: "tube of 200 bytes", meta: base("tube", strings.Repeat("t", 200)), check: func(t *testing.T, m *meta.BeanstalkdMetadata) {}},

		{name: "missing server", meta: map[string]string{"tube": "jobs", "value": "5"}, wantErr: []string{"trigger 0 (beanstalkd)", "metadata.server", "is required"}},
		{name: "server without port", meta: base("server", "beanstalkd"), wantErr: []string{"metadata.server", "not host:port", "11300"}},
		{name: "server without host", meta: base("server", ":11300"), wantErr: []string{"metadata.server", "has no host"}},
		{name: "server with a bad port", meta: base("server", "beanstalkd:http"), wantErr: []string{"metadata.server", "no valid port"}},
		{name: "server with port 0", meta: base("server", "beanstalkd:0"), wantErr: []string{"metadata.server", "no valid port"}},
		{name: "missing tube", meta: map[string]string{"server": "b:11300", "value": "5"}, wantErr: []string{"metadata.tube", "is required"}},
		{name: "tube with a space", meta: base("tube", "my jobs"), wantErr: []string{"metadata.tube", `' '`, "not starting with -"}},
		{name: "tube with a line break", meta: base("tube", "jobs\r\nput 0 0 1 1"), wantErr: []string{"metadata.tube", `'\r'`}},
		{name: "tube starting with -", meta: base("tube", "-jobs"), wantErr: []string{"metadata.tube", "starts with -"}},
		{name: "tube too long", meta: base("tube", strings.Repeat("t", 201)), wantErr: []string{"metadata.tube", "201 bytes"}},
		{name: "missing value", meta: map[string]string{"server": "b:11300", "tube": "jobs"}, wantErr: []string{"metadata.value", "is required"}},
		{name: "value 0", meta: base("value", "0"), wantErr: []string{"metadata.value", "greater than 0"}},
		{name: "value not a number", meta: base("value", "many"), wantErr: []string{"metadata.value", "finite number"}},
		{name: "value NaN", meta: base("value", "NaN"), wantErr: []string{"metadata.value", "finite number"}},
		{name: "negative activationValue", meta: base("activationValue", "-1"), wantErr: []string{"metadata.activationValue", "not be negative"}},
		{name: "bad includeDelayed", meta: base("includeDelayed", "sometimes"), wantErr: []string{"metadata.includeDelayed", "true or false"}},
		{name: "negative timeout", meta: base("timeout", "-1"), wantErr: []string{"metadata.timeout", "not above 0"}},
		{name: "timeout not a time", meta: base("timeout", "soon"), wantErr: []string{"metadata.timeout", "not a timeout"}},
	}
	runParseCases(t, "beanstalkd", tests)
}

// TestBeanstalkdMetricSpec: KEDA's metric name (the tube query-escaped, then normalized), the
// target from value, Value or AverageValue as the trigger asks; a ScaledJob reads the same spec.
func TestBeanstalkdMetricSpec(t *testing.T) {
	for _, tt := range []struct {
		tube, metricType, wantName string
	}{
		{tube: "jobs", wantName: "s1-beanstalkd-jobs"},
		{tube: "a/b.c", wantName: "s1-beanstalkd-a-2Fb-c"},
		{tube: "x(1)$+;", metricType: "Value", wantName: "s1-beanstalkd-x-281-29-24-2B-3B"},
	} {
		cfg := &Config{TriggerType: "beanstalkd", TriggerIndex: 1, MetricType: autoscalingv2.MetricTargetType(tt.metricType), Timeout: time.Second,
			TriggerMetadata: map[string]string{"server": "127.0.0.1:1", "tube": tt.tube, "value": "2.5"}}
		s, err := New(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		specs := s.GetMetricSpecForScaling(context.Background())
		if len(specs) != 1 || specs[0].External.Metric.Name != tt.wantName {
			t.Fatalf("tube %q: specs %+v, want metric %s", tt.tube, specs, tt.wantName)
		}
		target := specs[0].External.Target
		q := target.AverageValue
		if tt.metricType == "Value" {
			q = target.Value
		}
		if q == nil || q.MilliValue() != 2500 {
			t.Errorf("tube %q: target %+v, want 2.5", tt.tube, target)
		}
		_ = s.Close(context.Background())
	}
}

func TestBeanstalkdJobs(t *testing.T) {
	s := beanstalkdTubeStats{ready: 3, reserved: 2, delayed: 7}
	if s.jobs(false) != 5 || s.jobs(true) != 12 {
		t.Errorf("jobs %d and %d, want 5 and 12", s.jobs(false), s.jobs(true))
	}
	huge := beanstalkdTubeStats{ready: math.MaxInt64, reserved: 1, delayed: 1}
	if huge.jobs(true) != math.MaxInt64 {
		t.Errorf("a sum past int64 must hold at its largest value, got %d", huge.jobs(true))
	}
}

func TestReadBeanstalkdStatsTube(t *testing.T) {
	const body = "---\nname: jobs\ncurrent-jobs-urgent: 0\ncurrent-jobs-ready: 4\ncurrent-jobs-reserved: 2\n" +
		"current-jobs-delayed: 9\ncurrent-jobs-buried: 1\ntotal-jobs: 20\n"
	ok := "OK " + strconv.Itoa(len(body)) + "\r\n" + body + "\r\n"
	for _, tt := range []struct {
		name      string
		reply     string
		want      beanstalkdTubeStats
		notFound  bool
		wantErr   []string
		notServer bool
	}{
		{name: "stats", reply: ok, want: beanstalkdTubeStats{ready: 4, reserved: 2, delayed: 9}},
		{name: "not found", reply: "NOT_FOUND\r\n", notFound: true},
		{name: "server error", reply: "OUT_OF_MEMORY\r\n", wantErr: []string{"beanstalkd answered OUT_OF_MEMORY"}},
		{name: "not beanstalkd", reply: "HTTP/1.1 400 Bad Request\r\n", wantErr: []string{`"HTTP/1.1 400 Bad Request"`}, notServer: true},
		{name: "not found with a space", reply: "NOT_FOUND \r\n", wantErr: []string{`"NOT_FOUND "`}, notServer: true},
		{name: "bare LF", reply: "NOT_FOUND\n", wantErr: []string{"not ended by CR LF"}, notServer: true},
		{name: "negative size", reply: "OK -3\r\n", wantErr: []string{"not a count"}, notServer: true},
		{name: "huge size", reply: "OK 99999999999\r\n", wantErr: []string{"more than the 65536"}, notServer: true},
		{name: "long line", reply: strings.Repeat("A", 1000) + "\r\n", wantErr: []string{"longer than 256 bytes"}, notServer: true},
		{name: "short body", reply: "OK 100\r\nname: jobs\n", wantErr: []string{"100 bytes", "unexpected EOF"}},
		{name: "body without CR LF", reply: "OK 3\r\nabcde", wantErr: []string{"not followed by CR LF"}, notServer: true},
		{name: "cut line", reply: "OK 1", wantErr: []string{"unexpected EOF"}},
		{name: "missing count", reply: "OK 22\r\ncurrent-jobs-ready: 1\n\r\n", wantErr: []string{"without current-jobs-reserved"}, notServer: true},
		{name: "negative count", reply: "OK 72\r\ncurrent-jobs-ready: -1\ncurrent-jobs-reserved: 0\ncurrent-jobs-delayed: 0\n\r\n",
			wantErr: []string{`current-jobs-ready "-1"`}, notServer: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stats, found, err := readBeanstalkdStatsTube(bufio.NewReaderSize(strings.NewReader(tt.reply), beanstalkdMaxLine))
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("want an error mentioning %q, got %+v", tt.wantErr, stats)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				if errors.Is(err, errBeanstalkdNotBeanstalkd) != tt.notServer {
					t.Errorf("error %q: marked as not beanstalkd's is %v, want %v", err, !tt.notServer, tt.notServer)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if found == tt.notFound || stats != tt.want {
				t.Errorf("got %+v (found %v), want %+v (found %v)", stats, found, tt.want, !tt.notFound)
			}
		})
	}
}

// fakeBeanstalkd answers stats-tube commands with replies from answer, counting connections,
// for the connection's behaviour (sharing, redial after a failure, deadlines). An answer of ""
// hangs up; fakeBeanstalkdSilent answers nothing until the test ends.
type fakeBeanstalkd struct {
	lis    net.Listener
	answer func(tube string) string
	done   chan struct{}

	mu    sync.Mutex
	conns int
	tubes []string
}

func startFakeBeanstalkd(t *testing.T, answer func(tube string) string) *fakeBeanstalkd {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeBeanstalkd{lis: lis, answer: answer, done: make(chan struct{})}
	var wg sync.WaitGroup
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conns++
			f.mu.Unlock()
			wg.Go(func() { f.serve(c) })
		}
	}()
	t.Cleanup(func() { lis.Close(); close(f.done); wg.Wait() })
	return f
}

func (f *fakeBeanstalkd) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		tube := strings.TrimSuffix(strings.TrimPrefix(line, "stats-tube "), "\r\n")
		f.mu.Lock()
		f.tubes = append(f.tubes, tube)
		f.mu.Unlock()
		reply := f.answer(tube)
		switch reply {
		case "":
			return
		case fakeBeanstalkdSilent:
			<-f.done
			return
		}
		if _, err := io.WriteString(c, reply); err != nil {
			return
		}
	}
}

const fakeBeanstalkdSilent = "(silent)"

func (f *fakeBeanstalkd) connections() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conns
}

func beanstalkdStatsReply(ready, reserved, delayed int) string {
	body := "---\nname: t\ncurrent-jobs-ready: " + strconv.Itoa(ready) + "\ncurrent-jobs-reserved: " + strconv.Itoa(reserved) +
		"\ncurrent-jobs-delayed: " + strconv.Itoa(delayed) + "\n"
	return "OK " + strconv.Itoa(len(body)) + "\r\n" + body + "\r\n"
}

// TestBeanstalkdScalerOnFake: counts and activation, a missing tube reads 0 and keeps the
// connection, triggers of one server share it, a broken reply drops it and the next poll dials
// again.
func TestBeanstalkdScalerOnFake(t *testing.T) {
	var mu sync.Mutex
	replies := map[string]string{"jobs": beanstalkdStatsReply(3, 1, 5)}
	f := startFakeBeanstalkd(t, func(tube string) string {
		mu.Lock()
		defer mu.Unlock()
		if r, ok := replies[tube]; ok {
			return r
		}
		return "NOT_FOUND\r\n"
	})
	pool := NewClientPool()
	build := func(tube string, extra ...string) Scaler {
		meta := map[string]string{"server": f.lis.Addr().String(), "tube": tube, "value": "2", "activationValue": "3"}
		for i := 0; i+1 < len(extra); i += 2 {
			meta[extra[i]] = extra[i+1]
		}
		s, err := New(context.Background(), &Config{TriggerType: "beanstalkd", TriggerMetadata: meta, Clients: pool, Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(context.Background()) })
		return s
	}
	read := func(s Scaler) (int64, bool, error) {
		m, active, err := s.GetMetricsAndActivity(context.Background(), "m")
		if err != nil {
			return 0, false, err
		}
		return m[0].Value.Value(), active, nil
	}
	plain, delayed, missing := build("jobs"), build("jobs", "includeDelayed", "true"), build("gone")
	if pool.Len() != 1 {
		t.Errorf("three triggers of one server hold %d connections, want 1", pool.Len())
	}
	for _, tt := range []struct {
		name   string
		s      Scaler
		want   int64
		active bool
	}{
		{"ready and reserved, above activationValue 3", plain, 4, true},
		{"with delayed", delayed, 9, true},
		{"missing tube", missing, 0, false},
	} {
		n, active, err := read(tt.s)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if n != tt.want || active != tt.active {
			t.Errorf("%s: %d (active %v), want %d (active %v)", tt.name, n, active, tt.want, tt.active)
		}
	}
	if f.connections() != 1 {
		t.Errorf("%d connections to the server, want 1 kept between polls and triggers", f.connections())
	}

	mu.Lock()
	replies["jobs"] = "OK 2\r\nabcd"
	mu.Unlock()
	// A body not ended as announced leaves the stream out of step: the connection is dropped.
	_, _, err := read(plain)
	if err == nil || !strings.Contains(err.Error(), `tube "jobs" from beanstalkd at `+f.lis.Addr().String()) {
		t.Fatalf("error %v, want one naming the tube and the server", err)
	}
	mu.Lock()
	replies["jobs"] = beanstalkdStatsReply(0, 0, 0)
	mu.Unlock()
	if n, active, err := read(plain); err != nil || n != 0 || active {
		t.Fatalf("after a broken reply: %d (active %v), %v; want 0 on a new connection", n, active, err)
	}
	if f.connections() != 2 {
		t.Errorf("%d connections, want a second one after the broken reply", f.connections())
	}
}

func TestBeanstalkdScalerFailures(t *testing.T) {
	silent := startFakeBeanstalkd(t, func(string) string { return fakeBeanstalkdSilent })
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusing := closed.Addr().String()
	closed.Close()
	notBeanstalkd := startFakeBeanstalkd(t, func(string) string { return "-ERR unknown command 'stats-tube'\r\n" })
	for _, tt := range []struct {
		name, server string
		wantErr      []string
	}{
		{"nothing listens", refusing, []string{"trigger 0 (beanstalkd)", "could not connect", "nothing listens there: check metadata.server"}},
		{"no answer", silent.lis.Addr().String(), []string{"no answer within the trigger's timeout of 300ms"}},
		{"not beanstalkd", notBeanstalkd.lis.Addr().String(), []string{`answered "-ERR unknown command 'stats-tube'"`, "check that metadata.server is beanstalkd's address"}},
		{"host does not resolve", "beanstalkd.invalid:11300", []string{"could not connect", "check metadata.server"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(context.Background(), &Config{TriggerType: "beanstalkd", Timeout: 300 * time.Millisecond,
				TriggerMetadata: map[string]string{"server": tt.server, "tube": "jobs", "value": "1", "timeout": "1s"}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close(context.Background())
			_, _, err = s.GetMetricsAndActivity(context.Background(), "m")
			if err == nil {
				t.Fatal("want an error")
			}
			t.Log(err)
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestBeanstalkdCancelEndsRequest: a request ends when its context is cancelled, before any
// deadline.
func TestBeanstalkdCancelEndsRequest(t *testing.T) {
	f := startFakeBeanstalkd(t, func(string) string { return fakeBeanstalkdSilent })
	c := newBeanstalkdConn(f.lis.Addr().String())
	defer c.close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, _, err := c.statsTube(ctx, "jobs", time.Second)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the request took %s after its context was cancelled", d)
	}
}
