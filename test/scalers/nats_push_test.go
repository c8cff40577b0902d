package scalers_test

import (
	"context"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
	natsserver "github.com/kedactl/kedactl/test/servers/nats"
)

// TestNATSJetStreamPushesOnPublish runs the nats-jetstream trigger's push stream against a real
// nats-server: a message published on the stream's subjects pushes, without being consumed (the
// consumer's lag counts it), a burst pushes a handful of times rather than once per message, and
// the stream ends with its context. A trigger of another account than $G does not push.
func TestNATSJetStreamPushesOnPublish(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nats-server")
	}
	srv := natsserver.Start(t)
	q := newJetStreamQueue(t, srv.URL, 1)
	ctx := context.Background()
	build := func(account string) scalers.Scaler {
		meta := map[string]string{"natsServerMonitoringEndpoint": srv.MonitoringAddr, "account": account, "stream": "jobs", "consumer": "workers", "lagThreshold": "2"}
		s, err := scalers.New(ctx, &scalers.Config{TriggerType: "nats-jetstream", TriggerMetadata: meta, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(ctx) })
		return s
	}
	run := func(s scalers.Scaler) (pushes <-chan bool, done <-chan struct{}, cancel func()) {
		ps, ok := s.(scalers.PushScaler)
		if !ok {
			t.Fatal("nats-jetstream is not a PushScaler")
		}
		ch := make(chan bool, 10000)
		runCtx, stop := context.WithCancel(ctx)
		finished := make(chan struct{})
		go func() { ps.Run(runCtx, func(active bool) { ch <- active }); close(finished) }()
		t.Cleanup(func() { stop(); <-finished })
		return ch, finished, stop
	}

	t.Run("another account", func(t *testing.T) {
		_, done, _ := run(build("ACME"))
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Run does not return for an account an anonymous client is not in")
		}
	})

	t.Run("publish", func(t *testing.T) {
		s := build("$G")
		pushes, done, stop := run(s)
		// The subscription is in place once a message is heard: publish until one is.
		published := 0
		deadline := time.Now().Add(30 * time.Second)
	heard:
		for {
			q.publish(t, 1)
			published++
			select {
			case <-pushes:
				break heard
			case <-time.After(200 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatal("no push after publishing on the stream")
			}
		}
		if lag := readLag(t, s); lag != int64(published) {
			t.Errorf("lag %d after %d messages: the push stream consumed some", lag, published)
		}

		for len(pushes) > 0 {
			<-pushes
		}
		start := time.Now()
		q.publish(t, 1000)
		time.Sleep(2 * time.Second)
		// One message a pause is heard, plus a trailing push for what came during the pause; the
		// rest pass by.
		if n, most := len(pushes), 2*(int(time.Since(start)/time.Second)+1); n == 0 || n > most {
			t.Errorf("1000 messages in %s caused %d pushes, want 1 to %d", time.Since(start).Round(time.Millisecond), n, most)
		}
		stop()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return when its context ended")
		}
	})
}

func readLag(t *testing.T, s scalers.Scaler) int64 {
	t.Helper()
	name := s.GetMetricSpecForScaling(context.Background())[0].External.Metric.Name
	vals, _, err := s.GetMetricsAndActivity(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return vals[0].Value.Value()
}
