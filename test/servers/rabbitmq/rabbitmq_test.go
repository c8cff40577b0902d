package rabbitmq

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// TestTwoServersStartServeAndStop: two nodes start at the same time (their own epmd and ports,
// no clash), each serves User on its Vhost over AMQP and the management API, refuses a wrong
// password, and leaves no process, port or directory behind once stopped. The second also
// serves AMQPS and HTTPS to clients with a certificate of its CA.
func TestTwoServersStartServeAndStop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts rabbitmq-server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	opts := []Options{{Password: "pw with spaces, # and : @ / %"}, {User: "other", Vhost: "other/vhost", TLS: true}}
	servers := make([]*Server, len(opts))
	errs := make([]error, len(opts))
	var wg sync.WaitGroup
	for i := range opts {
		wg.Go(func() { servers[i], errs[i] = StartProcess(ctx, opts[i]) })
	}
	wg.Wait()
	for i, s := range servers {
		if s != nil {
			t.Cleanup(s.Stop)
		}
		if errs[i] != nil {
			t.Fatalf("server %d: %v", i, errs[i])
		}
	}

	for i, s := range servers {
		queue := "jobs-" + strconv.Itoa(i)
		if err := s.DeclareQueue(s.Vhost, queue); err != nil {
			t.Fatalf("server %d: %v", i, err)
		}
		if err := s.Publish(ctx, s.Vhost, queue, 3); err != nil {
			t.Fatalf("server %d: %v", i, err)
		}
		// The queue is in Vhost, not in the default vhost.
		if err := s.onChannel("/", func(ch *amqp.Channel) error {
			_, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil)
			return err
		}); err == nil {
			t.Errorf("server %d: queue %s exists in vhost /", i, queue)
		}
		var q *QueueInfo
		deadline := time.Now().Add(20 * time.Second)
		for {
			var err error
			q, err = s.Queue(ctx, s.Vhost, queue)
			if err != nil {
				t.Fatalf("server %d: %v", i, err)
			}
			if q.Messages == 3 || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if q.Messages != 3 {
			t.Errorf("server %d: management API reports %d messages in %s, want 3", i, q.Messages, queue)
		}
		wrong := *s
		wrong.Password = "wrong"
		_, err := wrong.Dial(s.Vhost)
		var amqpErr *amqp.Error
		if !errors.As(err, &amqpErr) || amqpErr.Code != amqp.AccessRefused {
			t.Errorf("server %d: dial with a wrong password: %v, want ACCESS_REFUSED", i, err)
		}
	}

	t.Run("TLS", func(t *testing.T) {
		s := servers[1]
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(s.TLS.CAPEM)
		pair, err := tls.X509KeyPair(s.TLS.CertPEM, s.TLS.KeyPEM)
		if err != nil {
			t.Fatal(err)
		}
		withCert := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool, Certificates: []tls.Certificate{pair}}
		conn, err := amqp.DialTLS(s.AMQPSURL(s.Vhost), withCert)
		if err != nil {
			t.Fatalf("AMQPS with a client certificate: %v", err)
		}
		conn.Close()
		if conn, err := amqp.DialTLS(s.AMQPSURL(s.Vhost), &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}); err == nil {
			conn.Close()
			t.Error("AMQPS without a client certificate: connected")
		}
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: withCert}}
		resp, err := client.Get(s.ManagementTLSURL(s.Vhost))
		if err != nil {
			t.Fatalf("HTTPS with a client certificate: %v", err)
		}
		resp.Body.Close()
	})

	for i, s := range servers {
		if len(s.Processes()) < 3 {
			t.Errorf("server %d: processes %v, want at least epmd, the script and the VM", i, s.Processes())
		}
		s.Stop()
		if left := s.Processes(); len(left) > 0 {
			t.Errorf("server %d: processes %v still run after Stop", i, left)
		}
		if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
			t.Errorf("server %d: %s still exists after Stop: %v", i, s.dir, err)
		}
		for _, port := range []int{s.AMQPPort, s.ManagementPort} {
			if c, err := net.DialTimeout("tcp", net.JoinHostPort(s.Host, strconv.Itoa(port)), time.Second); err == nil {
				c.Close()
				t.Errorf("server %d: port %d still answers after Stop", i, port)
			}
		}
	}
}

// TestNodeDiesWithTestProcess: a helper process starts a server and is killed with SIGKILL (no
// cleanup runs); the node, its epmd and its helpers must die too.
func TestNodeDiesWithTestProcess(t *testing.T) {
	if os.Getenv("RABBITMQ_TEST_HELPER") == "1" {
		s, err := StartProcess(context.Background(), Options{})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("dir", s.dir)
		time.Sleep(5 * time.Minute)
		return
	}
	if testing.Short() {
		t.Skip("starts rabbitmq-server")
	}
	helper := exec.Command(os.Args[0], "-test.run=^TestNodeDiesWithTestProcess$")
	helper.Env = append(os.Environ(), "RABBITMQ_TEST_HELPER=1")
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = helper.Process.Kill(); _ = helper.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("helper said nothing: %v", err)
	}
	dir, ok := strings.CutPrefix(strings.TrimSpace(line), "dir ")
	if !ok {
		t.Fatalf("helper said %q", line)
	}
	s := &Server{dir: dir}
	defer s.Stop() // only if the test failed
	if n := len(s.Processes()); n < 3 {
		t.Fatalf("%d processes run in %s, want at least epmd, the VM and its helper", n, dir)
	}
	_ = helper.Process.Kill()
	_ = helper.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for left := s.Processes(); len(left) > 0; left = s.Processes() {
		if time.Now().After(deadline) {
			t.Fatalf("processes %v outlived the process that started the server", left)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
