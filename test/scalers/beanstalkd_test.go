package scalers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
	beanstalkdserver "github.com/kedactl/kedactl/test/servers/beanstalkd"
)

// TestBeanstalkdScalerAgainstRealServer follows a tube through a worker's day on Debian's
// beanstalkd: a tube nobody has used yet reads 0 (beanstalkd answers NOT_FOUND), ready and
// reserved jobs count, delayed ones only with includeDelayed, buried and deleted ones never; two
// triggers of the server share one connection; and a stopped server fails the poll naming the
// tube and the server.
func TestBeanstalkdScalerAgainstRealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts beanstalkd")
	}
	srv := beanstalkdserver.Start(t)
	pool := scalers.NewClientPool()
	defer pool.Close()
	build := func(extra ...string) scalers.Scaler {
		meta := map[string]string{"server": srv.Addr, "tube": "emails", "value": "2", "activationValue": "1"}
		for i := 0; i+1 < len(extra); i += 2 {
			meta[extra[i]] = extra[i+1]
		}
		s, err := scalers.New(context.Background(), &scalers.Config{TriggerType: "beanstalkd", TriggerMetadata: meta, Clients: pool, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(context.Background()) })
		return s
	}
	plain, withDelayed := build(), build("includeDelayed", "true")
	if pool.Len() != 1 {
		t.Errorf("two triggers of one server hold %d connections, want 1", pool.Len())
	}
	if specs := plain.GetMetricSpecForScaling(context.Background()); specs[0].External.Metric.Name != "s0-beanstalkd-emails" {
		t.Errorf("metric %s, want s0-beanstalkd-emails", specs[0].External.Metric.Name)
	}
	check := func(step string, s scalers.Scaler, want int64, wantActive bool) {
		t.Helper()
		m, active, err := s.GetMetricsAndActivity(context.Background(), "s0-beanstalkd-emails")
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if got := m[0].Value.Value(); got != want || active != wantActive {
			t.Errorf("%s: %d jobs (active %v), want %d (active %v)", step, got, active, want, wantActive)
		}
	}

	check("a tube nobody used", plain, 0, false)

	producer := srv.Dial(t)
	if err := producer.Put("emails", 1, 0); err != nil {
		t.Fatal(err)
	}
	check("one ready job, not above activationValue 1", plain, 1, false)
	if err := producer.Put("emails", 4, 0); err != nil {
		t.Fatal(err)
	}
	if err := producer.Put("emails", 3, time.Hour); err != nil {
		t.Fatal(err)
	}
	check("five ready, three delayed", plain, 5, true)
	check("five ready, three delayed, includeDelayed", withDelayed, 8, true)

	worker := srv.Dial(t)
	ids, err := worker.Reserve("emails", 3)
	if err != nil {
		t.Fatal(err)
	}
	check("two ready, three reserved", plain, 5, true)
	if err := worker.Bury(ids[0]); err != nil {
		t.Fatal(err)
	}
	if err := worker.Delete(ids[1]); err != nil {
		t.Fatal(err)
	}
	check("two ready, one reserved, one buried", plain, 3, true)
	check("two ready, one reserved, one buried, three delayed, includeDelayed", withDelayed, 6, true)

	// Another tube's jobs never count.
	if err := producer.Put("sms", 10, 0); err != nil {
		t.Fatal(err)
	}
	check("jobs in another tube", plain, 3, true)

	// Stopped, the server fails the poll, naming the tube and the server.
	srv.Stop()
	_, _, err = plain.GetMetricsAndActivity(context.Background(), "s0-beanstalkd-emails")
	if err == nil || !strings.Contains(err.Error(), `tube "emails" from beanstalkd at `+srv.Addr) {
		t.Fatalf("poll of a stopped server: %v, want an error naming the tube and the server", err)
	}
	_, _, err = plain.GetMetricsAndActivity(context.Background(), "s0-beanstalkd-emails")
	if err == nil || !strings.Contains(err.Error(), "nothing listens there: check metadata.server") {
		t.Fatalf("second poll of a stopped server: %v, want a refused connection and its fix", err)
	}
}

// TestBeanstalkdTubeGoneReadsZero: once a tube's last job is deleted and no client uses or
// watches it, beanstalkd forgets the tube and answers NOT_FOUND, which reads 0 as in KEDA, on the
// connection the trigger keeps.
func TestBeanstalkdTubeGoneReadsZero(t *testing.T) {
	if testing.Short() {
		t.Skip("starts beanstalkd")
	}
	srv := beanstalkdserver.Start(t)
	s, err := scalers.New(context.Background(), &scalers.Config{TriggerType: "beanstalkd", Timeout: 5 * time.Second,
		TriggerMetadata: map[string]string{"server": srv.Addr, "tube": "reports", "value": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	c := srv.Dial(t)
	if err := c.Put("reports", 1, 0); err != nil {
		t.Fatal(err)
	}
	ids, err := c.Reserve("reports", 1)
	if err != nil {
		t.Fatal(err)
	}
	if m, active, err := s.GetMetricsAndActivity(context.Background(), "m"); err != nil || m[0].Value.Value() != 1 || !active {
		t.Fatalf("one reserved job: %v (active %v), %v", m, active, err)
	}
	if err := c.Delete(ids[0]); err != nil {
		t.Fatal(err)
	}
	c.Close() // nobody uses or watches the tube any more
	stats := srv.Dial(t)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := stats.Stats("reports"); err != nil && strings.Contains(err.Error(), "NOT_FOUND") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("beanstalkd still knows the tube")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for range 2 { // twice: the connection stays usable after NOT_FOUND
		m, active, err := s.GetMetricsAndActivity(context.Background(), "m")
		if err != nil || m[0].Value.Value() != 0 || active {
			t.Fatalf("a tube beanstalkd forgot: %v (active %v), %v; want 0, inactive", m, active, err)
		}
	}
}
