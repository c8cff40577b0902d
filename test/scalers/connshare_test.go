package scalers_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
	kafkaserver "github.com/kedactl/kedactl/test/servers/kafka"
	rabbitserver "github.com/kedactl/kedactl/test/servers/rabbitmq"
	redisserver "github.com/kedactl/kedactl/test/servers/redis"
)

// sharedTriggers is how many triggers on one source each sharing test builds.
const (
	sharedTriggers    = 50
	sqlSharedTriggers = 30
)

// shareCase builds sharedTriggers triggers on one source (trigger i reads its own list, queue,
// topic or query) with and without a ClientPool, polls each twice, and returns how many
// connections the source then counts, for each.
func shareCase(t *testing.T, triggers int, connections func(t *testing.T) int, trigger func(i int) *scalers.Config) (withoutPool, withPool int) {
	t.Helper()
	ctx := context.Background()
	run := func(pool *scalers.ClientPool) int {
		t.Helper()
		// Connections other tests or the admin handle just closed leave the server's count
		// a little later: start from a count that holds still.
		before := connections(t)
		for range 50 {
			time.Sleep(100 * time.Millisecond)
			now := connections(t)
			if now == before {
				break
			}
			before = now
		}
		var built []scalers.Scaler
		defer func() {
			for _, s := range built {
				_ = s.Close(ctx)
			}
		}()
		for i := range triggers {
			cfg := trigger(i)
			cfg.Clients = pool
			s, err := scalers.New(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			built = append(built, s)
		}
		for round := range 2 {
			for i, s := range built {
				name := s.GetMetricSpecForScaling(ctx)[0].External.Metric.Name
				if _, _, err := s.GetMetricsAndActivity(ctx, name); err != nil {
					t.Fatalf("round %d, trigger %d: %v", round, i, err)
				}
			}
		}
		n := connections(t) - before
		if pool != nil && pool.Len() != 1 {
			t.Errorf("the pool holds %d clients for one source, want 1", pool.Len())
		}
		for _, s := range built {
			_ = s.Close(ctx)
		}
		built = nil
		// Closed connections leave the server's count a little later (PostgreSQL's backends
		// exit on their own time): wait, so the next run starts from the same count, and so
		// closing is shown to close.
		deadline := time.Now().Add(10 * time.Second)
		for connections(t) > before && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if left := connections(t) - before; left > 0 {
			t.Errorf("%d connections still open after every trigger closed", left)
		}
		return n
	}
	withoutPool = run(nil)
	pool := scalers.NewClientPool()
	withPool = run(pool)
	t.Logf("%d triggers on one source, polled twice each: %d connections without a pool, %d with one", triggers, withoutPool, withPool)
	if withPool < 1 || withPool >= withoutPool {
		t.Errorf("with a pool: %d connections, without: %d; want far fewer with it", withPool, withoutPool)
	}
	if pool.Len() != 0 {
		t.Errorf("the pool holds %d clients after every trigger closed, want 0", pool.Len())
	}
	return withoutPool, withPool
}

// establishedTo counts this machine's established TCP connections to 127.0.0.1:port, from the
// client side: a server in this process (kfake) would otherwise count each twice.
func establishedTo(t *testing.T, port int) int {
	t.Helper()
	n := 0
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(file)
		if os.IsNotExist(err) {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			// sl local_address rem_address st ...; 01 is ESTABLISHED.
			if len(fields) < 4 || fields[3] != "01" {
				continue
			}
			_, remPort, ok := strings.Cut(fields[2], ":")
			if p, err := strconv.ParseInt(remPort, 16, 32); ok && err == nil && int(p) == port {
				n++
			}
		}
		f.Close()
	}
	return n
}

// TestRedisTriggersShareOneClient: redis-streams triggers on different streams of one server
// hold one connection between them with a pool (CLIENT LIST), one each without.
func TestRedisTriggersShareOneClient(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server")
	}
	srv := redisserver.Start(t, redisserver.Options{Password: redisTestPassword})
	admin := srv.Client()
	t.Cleanup(func() { _ = admin.Close() })
	clients := func(t *testing.T) int {
		list, err := admin.ClientList(context.Background()).Result()
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(strings.TrimSpace(list), "\n") + 1
	}
	without, with := shareCase(t, sharedTriggers, clients, func(i int) *scalers.Config {
		return &scalers.Config{TriggerType: "redis-streams", Timeout: 5 * time.Second,
			TriggerMetadata: map[string]string{"address": srv.Addr, "stream": fmt.Sprintf("stream-%d", i), "streamLength": "5"},
			AuthParams:      map[string]string{"password": redisTestPassword}}
	})
	if with != 1 || without != sharedTriggers {
		t.Errorf("CLIENT LIST: %d connections without a pool, %d with; want %d and 1", without, with, sharedTriggers)
	}
}

// TestSQLTriggersShareOneDB: postgresql triggers with different queries on one database hold
// one connection between them with a pool (pg_stat_activity), one each without; the same for
// mysql triggers on MariaDB (PROCESSLIST).
func TestSQLTriggersShareOneDB(t *testing.T) {
	if testing.Short() {
		t.Skip("starts postgres and mariadbd")
	}
	for _, backend := range []struct {
		name  string
		start func(*testing.T) *sqlBackend
		count string
	}{
		{"postgresql", startPostgres, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"},
		{"mysql", startMariaDB, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID()"},
	} {
		t.Run(backend.name, func(t *testing.T) {
			b := backend.start(t)
			// One admin connection, which the count leaves out.
			b.admin.SetMaxOpenConns(1)
			sessions := func(t *testing.T) int {
				var n int
				if err := b.admin.QueryRow(backend.count).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			// The test servers take 40 sessions or so; without a pool, 50 triggers would be
			// refused ("too many clients"), which is the point of the pool but not of this test.
			without, with := shareCase(t, sqlSharedTriggers, sessions, func(i int) *scalers.Config {
				meta := map[string]string{"query": fmt.Sprintf("SELECT %d", i), b.target: "1"}
				for k, v := range b.parts {
					meta[k] = v
				}
				return &scalers.Config{TriggerType: b.typ, Timeout: 5 * time.Second, TriggerMetadata: meta,
					AuthParams: map[string]string{"password": b.password}}
			})
			if with != 1 || without != sqlSharedTriggers {
				t.Errorf("server sessions: %d without a pool, %d with; want %d and 1", without, with, sqlSharedTriggers)
			}
		})
	}
}

// TestRabbitMQTriggersShareOneConnection: AMQP triggers on different queues of one vhost hold
// one connection between them with a pool, one each without.
func TestRabbitMQTriggersShareOneConnection(t *testing.T) {
	if testing.Short() {
		t.Skip("starts rabbitmq-server")
	}
	srv := rabbitserver.Start(t, rabbitserver.Options{Password: rabbitTestPassword})
	for i := range sharedTriggers {
		if err := srv.DeclareQueue(srv.Vhost, fmt.Sprintf("queue-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	without, with := shareCase(t, sharedTriggers, func(t *testing.T) int { return establishedTo(t, srv.AMQPPort) }, func(i int) *scalers.Config {
		return &scalers.Config{TriggerType: "rabbitmq", Timeout: 5 * time.Second,
			TriggerMetadata: map[string]string{"queueName": fmt.Sprintf("queue-%d", i), "mode": "QueueLength", "value": "5"},
			AuthParams:      map[string]string{"host": srv.AMQPURL(srv.Vhost)}}
	})
	if with != 1 || without != sharedTriggers {
		t.Errorf("AMQP connections: %d without a pool, %d with; want %d and 1", without, with, sharedTriggers)
	}
}

// TestKafkaTriggersShareOneClient: kafka triggers of different consumer groups and topics on
// one cluster hold one client (one connection per broker) between them with a pool, one
// each without.
func TestKafkaTriggersShareOneClient(t *testing.T) {
	srv := kafkaserver.Start(t, kafkaserver.Options{})
	ctx := context.Background()
	for i := range 5 {
		if err := srv.CreateTopic(ctx, fmt.Sprintf("topic-%d", i), 2); err != nil {
			t.Fatal(err)
		}
	}
	port, err := strconv.Atoi(srv.Addrs[0][strings.LastIndex(srv.Addrs[0], ":")+1:])
	if err != nil {
		t.Fatal(err)
	}
	without, with := shareCase(t, sharedTriggers, func(t *testing.T) int { return establishedTo(t, port) }, func(i int) *scalers.Config {
		return &scalers.Config{TriggerType: "kafka", Timeout: 5 * time.Second,
			TriggerMetadata: map[string]string{"bootstrapServers": srv.Bootstrap, "consumerGroup": fmt.Sprintf("group-%d", i),
				"topic": fmt.Sprintf("topic-%d", i%5), "lagThreshold": "10"}}
	})
	// franz-go keeps a connection for metadata and admin requests apart from the one for
	// fetches, so a client may hold two to one broker.
	if with > 2 || without < sharedTriggers {
		t.Errorf("Kafka connections: %d without a pool, %d with; want at least %d and at most 2", without, with, sharedTriggers)
	}
}

// TestKafkaPushOnProducedMessage: a kafka trigger pushes as soon as a record is appended to its
// topic, well within the long poll's wait (5s), and only the triggers of that topic push; the
// triggers of one pool watch through one client.
func TestKafkaPushOnProducedMessage(t *testing.T) {
	srv := kafkaserver.Start(t, kafkaserver.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, topic := range []string{"pushed", "quiet"} {
		if err := srv.CreateTopic(ctx, topic, 3); err != nil {
			t.Fatal(err)
		}
	}
	pool := scalers.NewClientPool()
	const perTopic = 10
	pushes := map[string]chan struct{}{"pushed": make(chan struct{}, 100), "quiet": make(chan struct{}, 100)}
	for i := range 2 * perTopic {
		topic := []string{"pushed", "quiet"}[i%2]
		s, err := scalers.New(ctx, &scalers.Config{TriggerType: "kafka", Timeout: 5 * time.Second, Clients: pool,
			TriggerMetadata: map[string]string{"bootstrapServers": srv.Bootstrap, "consumerGroup": fmt.Sprintf("group-%d", i), "topic": topic, "lagThreshold": "10"}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close(context.Background())
		ps, ok := s.(scalers.PushScaler)
		if !ok {
			t.Fatal("the kafka scaler does not push")
		}
		go ps.Run(ctx, func(bool) { pushes[topic] <- struct{}{} })
	}
	// Let the watch read the end offsets before producing.
	time.Sleep(time.Second)
	start := time.Now()
	if err := srv.Produce(ctx, "pushed", 1, 1); err != nil {
		t.Fatal(err)
	}
	for i := range perTopic {
		select {
		case <-pushes["pushed"]:
		case <-time.After(4 * time.Second):
			t.Fatalf("%d of %d triggers of the topic pushed within 4s of the record", i, perTopic)
		}
	}
	t.Logf("%d triggers pushed %s after the record was produced", perTopic, time.Since(start).Round(time.Millisecond))
	select {
	case <-pushes["quiet"]:
		t.Error("a trigger of another topic pushed")
	case <-time.After(500 * time.Millisecond):
	}
	if pool.Len() != 1 {
		t.Errorf("%d clients for one cluster, want 1", pool.Len())
	}

	// A busy topic pushes at most once a second, not once a record.
	busy := time.Now()
	for time.Since(busy) < 2*time.Second {
		if err := srv.Produce(ctx, "pushed", int32(time.Now().UnixNano()%3), 1); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	n := len(pushes["pushed"])
	t.Logf("a record every 20ms for 2s: %d pushes for %d triggers", n, perTopic)
	if n > 3*perTopic {
		t.Errorf("%d pushes for %d triggers in 2s, want at most 3 each", n, perTopic)
	}
}
