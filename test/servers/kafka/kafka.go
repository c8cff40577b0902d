// Package kafka runs franz-go's in-process Kafka broker (kfake) on free 127.0.0.1 ports for tests,
// optionally with SASL users and TLS, and gives tests the producer, consumer group and commit
// operations they drive a Kafka trigger with. No Kafka installation is needed: kfake speaks the
// Kafka protocol (metadata, produce, fetch, list offsets, consumer groups, offset commit and
// fetch, SASL PLAIN and SCRAM) from inside the test process.
package kafka

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/kedactl/kedactl/test/servers/internal/testca"
)

// SASL mechanisms kfake authenticates, as Kafka names them.
const (
	Plain       = "PLAIN"
	ScramSHA256 = "SCRAM-SHA-256"
	ScramSHA512 = "SCRAM-SHA-512"
)

// User is a SASL user of the cluster. Users are superusers: kfake enforces no ACLs on them.
type User struct {
	Mechanism string
	Name      string
	Password  string
}

// Options configures a cluster. The zero value is one broker without SASL or TLS.
type Options struct {
	// Brokers is the number of brokers, each on its own free port (default 1).
	Brokers int
	// Users turns SASL on: every connection must authenticate as one of them.
	Users []User
	// TLS makes every broker serve TLS only, with a certificate for 127.0.0.1 signed by a CA
	// made for the test (Server.TLS).
	TLS bool
	// ClientCerts, with TLS, makes the brokers require a client certificate signed by that CA.
	ClientCerts bool
}

// Server is a running kfake cluster.
type Server struct {
	// Addrs are the brokers' host:port on 127.0.0.1; Bootstrap is them comma-separated, as
	// bootstrapServers takes them.
	Addrs     []string
	Bootstrap string
	Users     []User
	// TLS holds the CA and a client certificate when Options.TLS is set.
	TLS *TLSFiles

	cluster *kfake.Cluster
}

// Start starts a cluster for one test and stops it when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := StartCluster(opts)
	if err != nil {
		t.Fatalf("failed to start kfake: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// StartCluster starts a cluster; the caller stops it with Stop. Port 0 lets the kernel pick each
// broker's free port on 127.0.0.1 when it listens, so no other process can take it in between.
func StartCluster(opts Options) (*Server, error) {
	if opts.Brokers <= 0 {
		opts.Brokers = 1
	}
	s := &Server{Users: opts.Users}
	kopts := []kfake.Opt{kfake.Ports(make([]int, opts.Brokers)...), kfake.ClusterID("kedactl-test"),
		// Consumer groups in tests come and go quickly.
		kfake.GroupMinSessionTimeout(time.Second)}
	if len(opts.Users) > 0 {
		kopts = append(kopts, kfake.EnableSASL())
		for _, u := range opts.Users {
			kopts = append(kopts, kfake.Superuser(u.Mechanism, u.Name, u.Password))
		}
	}
	if opts.TLS {
		files, err := testca.New("kedactl test kafka CA")
		if err != nil {
			return nil, err
		}
		s.TLS = files
		serverCfg := files.ServerConfig()
		if opts.ClientCerts {
			serverCfg.ClientAuth = tls.RequireAndVerifyClientCert
		}
		kopts = append(kopts, kfake.TLS(serverCfg))
	}
	c, err := kfake.NewCluster(kopts...)
	if err != nil {
		return nil, err
	}
	s.cluster = c
	s.Addrs = c.ListenAddrs()
	s.Bootstrap = strings.Join(s.Addrs, ",")
	for _, a := range s.Addrs {
		if !strings.HasPrefix(a, "127.0.0.1:") {
			c.Close()
			return nil, fmt.Errorf("kfake listens on %s, not on 127.0.0.1", a)
		}
	}
	return s, nil
}

// Stop shuts the cluster down; its ports close.
func (s *Server) Stop() {
	if s.cluster != nil {
		s.cluster.Close()
	}
}

// Client returns a client of the cluster, authenticated as the first user and trusting the CA
// (with the client certificate) when the cluster has them. The caller closes it.
func (s *Server) Client(extra ...kgo.Opt) (*kgo.Client, error) {
	opts := []kgo.Opt{kgo.SeedBrokers(s.Addrs...), kgo.DialTimeout(5 * time.Second)}
	if len(s.Users) > 0 {
		u := s.Users[0]
		switch u.Mechanism {
		case Plain:
			opts = append(opts, kgo.SASL(plain.Auth{User: u.Name, Pass: u.Password}.AsMechanism()))
		case ScramSHA256:
			opts = append(opts, kgo.SASL(scram.Auth{User: u.Name, Pass: u.Password}.AsSha256Mechanism()))
		case ScramSHA512:
			opts = append(opts, kgo.SASL(scram.Auth{User: u.Name, Pass: u.Password}.AsSha512Mechanism()))
		}
	}
	if s.TLS != nil {
		opts = append(opts, kgo.DialTLSConfig(s.TLS.ClientConfig()))
	}
	return kgo.NewClient(append(opts, extra...)...)
}

// admin runs fn with an admin client.
func (s *Server) admin(fn func(*kadm.Client) error) error {
	cl, err := s.Client()
	if err != nil {
		return err
	}
	defer cl.Close()
	return fn(kadm.NewClient(cl))
}

// CreateTopic creates a topic with partitions partitions.
func (s *Server) CreateTopic(ctx context.Context, topic string, partitions int32) error {
	return s.admin(func(adm *kadm.Client) error {
		resp, err := adm.CreateTopic(ctx, partitions, 1, nil, topic)
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			return fmt.Errorf("failed to create topic %s: %w", topic, err)
		}
		return nil
	})
}

// Produce writes n records to one partition of topic and waits until the broker has them.
func (s *Server) Produce(ctx context.Context, topic string, partition int32, n int) error {
	cl, err := s.Client(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return err
	}
	defer cl.Close()
	records := make([]*kgo.Record, n)
	for i := range records {
		records[i] = &kgo.Record{Topic: topic, Partition: partition, Value: fmt.Appendf(nil, "job %d", i)}
	}
	if err := cl.ProduceSync(ctx, records...).FirstErr(); err != nil {
		return fmt.Errorf("failed to produce %d records to %s/%d: %w", n, topic, partition, err)
	}
	return nil
}

// Commit commits offsets for group on topic as a tool would (a simple commit: generation -1),
// which Kafka accepts while the group has no members.
func (s *Server) Commit(ctx context.Context, group, topic string, offsets map[int32]int64) error {
	return s.admin(func(adm *kadm.Client) error {
		var os kadm.Offsets
		for p, at := range offsets {
			os.AddOffset(topic, p, at, -1)
		}
		if err := adm.CommitAllOffsets(ctx, group, os); err != nil {
			return fmt.Errorf("failed to commit offsets of group %s on %s: %w", group, topic, err)
		}
		return nil
	})
}

// Consume joins group as a real consumer of topics, reads n records, commits them and leaves
// the group. A group without committed offsets starts at the earliest offset.
func (s *Server) Consume(ctx context.Context, group string, n int, topics ...string) error {
	cl, err := s.Client(kgo.ConsumerGroup(group), kgo.ConsumeTopics(topics...), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.SessionTimeout(6*time.Second), kgo.RebalanceTimeout(6*time.Second))
	if err != nil {
		return err
	}
	defer cl.Close()
	got := 0
	for got < n {
		fetches := cl.PollRecords(ctx, n-got)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("consumer of group %s read %d of %d records: %w", group, got, n, err)
		}
		var errs []error
		fetches.EachError(func(t string, p int32, err error) { errs = append(errs, fmt.Errorf("%s/%d: %w", t, p, err)) })
		if len(errs) > 0 {
			return fmt.Errorf("consumer of group %s: %w", group, errors.Join(errs...))
		}
		records := fetches.Records()
		if err := cl.CommitRecords(ctx, records...); err != nil {
			return fmt.Errorf("consumer of group %s failed to commit: %w", group, err)
		}
		got += len(records)
	}
	return nil
}

// TLSFiles are the PEM texts of the cluster's CA and of a client certificate it signed, as a
// TriggerAuthentication holds them (parameters ca, cert and key).
type TLSFiles = testca.Files
