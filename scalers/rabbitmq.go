package scalers

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
	amqp "github.com/rabbitmq/amqp091-go"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// The rabbitmq trigger reads a queue's length over AMQP (a passive queue declare, which counts
// the ready messages) or, through the management API over HTTP, its length (ready plus
// unacknowledged) or its publish rate, optionally over every queue a regex matches.

// rabbitMQScaler reads one queue (or the queues a regex matches) per poll.
type rabbitMQScaler struct {
	cfg        *Config
	meta       meta.RabbitMQMetadata
	metricName string
	timeout    time.Duration
	secrets    []string
	// http reaches the management API (protocol http); amqp the broker (protocol amqp).
	http *httpClient
	amqp *rabbitAMQP
	// releaseAMQP gives amqp back to cfg.Clients (or closes it); closed makes later polls fail.
	releaseAMQP func()
	closed      atomic.Bool
}

func newRabbitMQScaler(_ context.Context, cfg *Config) (Scaler, error) {
	s := &rabbitMQScaler{cfg: cfg}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	// KEDA escapes the queue name for the metric name, so that a regex makes a valid one too.
	s.metricName = MetricName(cfg.TriggerIndex, "rabbitmq-"+url.QueryEscape(s.meta.QueueName))
	s.timeout = s.meta.ResolvedTimeout
	if s.timeout <= 0 {
		s.timeout = cfg.Timeout
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	s.secrets = s.meta.AllSecrets()
	if s.meta.ResolvedProtocol == meta.RabbitProtocolHTTP {
		p := s.meta.HTTPAuthParams
		s.http = newHTTPClient(cfg, &p, s.meta.Auth, "host", s.meta.HTTPBase, s.timeout, s.meta.UnsafeSsl)
		s.http.secrets = s.secrets
	} else {
		m := &s.meta
		// Everything the connection is made of; the pool hashes it. The queue, mode and
		// timeout are the trigger's own and stay out.
		identity := []any{m.Host, m.ResolvedVhost, m.Username, m.Password, m.TLSConfig != nil, m.UnsafeSsl, m.CA, m.Cert, m.Key, m.KeyPassword}
		var err error
		s.amqp, s.releaseAMQP, err = acquirePooled(cfg.Clients, "amqp", identity, func() (*rabbitAMQP, func(), error) {
			a := newRabbitAMQP(m)
			return a, a.close, nil
		})
		if err != nil {
			return nil, s.failWrap("could not share the connection", err)
		}
	}
	return s, nil
}

func (s *rabbitMQScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, s.meta.ResolvedValue)
}

// GetMetricsAndActivity reads the queue once. QueueLength: the value is the messages, active
// above activationValue. MessageRate: the value is the publish rate, active when the rate or
// the messages are above activationValue (a backlog with no new messages still needs workers).
func (s *rabbitMQScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	var messages int64
	var rate float64
	var err error
	if s.http != nil {
		messages, rate, err = s.readHTTP(ctx)
	} else {
		messages, err = s.amqp.queueLength(ctx, s, s.meta.QueueName, s.timeout)
	}
	if err != nil {
		return nil, false, err
	}
	v := float64(messages)
	active := v > s.meta.ActivationValue
	if s.meta.ResolvedMode == meta.RabbitModeMessageRate {
		v = rate
		active = active || rate > s.meta.ActivationValue
	}
	return oneMetricValue(metricName, v), active, nil
}

func (s *rabbitMQScaler) Close(context.Context) error {
	if s.http != nil {
		s.http.close()
	}
	if s.amqp != nil && !s.closed.Swap(true) {
		s.releaseAMQP()
	}
	return nil
}

// rabbitQueue is what the management API reports of one queue, as far as a poll reads it.
type rabbitQueue struct {
	Name          string `json:"name"`
	Messages      int64  `json:"messages"`
	MessagesReady int64  `json:"messages_ready"`
	MessageStats  struct {
		PublishDetails struct {
			Rate float64 `json:"rate"`
		} `json:"publish_details"`
	} `json:"message_stats"`
}

// rabbitQueuePage is one page of the management API's queue list.
type rabbitQueuePage struct {
	Items     []rabbitQueue `json:"items"`
	PageCount *int          `json:"page_count"`
}

// readHTTP asks the management API for the queue (or the matching queues) and returns its
// messages (ready only with excludeUnacknowledged) and publish rate.
func (s *rabbitMQScaler) readHTTP(ctx context.Context) (int64, float64, error) {
	body, err := s.http.get(ctx, s.meta.QueueURL, nil)
	if err != nil {
		var statusErr *httpStatusError
		if !errors.As(err, &statusErr) {
			return 0, 0, err
		}
		// The management API's own answers, worded for this trigger.
		answered := fmt.Sprintf("GET %s answered %d %s", s.meta.QueueURL.Redacted(), statusErr.code, http.StatusText(statusErr.code))
		switch {
		case statusErr.code == http.StatusUnauthorized:
			return 0, 0, s.fail(answered + ": the management API refused the user or password: check the credentials in host (or username and password, or the parameters of authModes)")
		case statusErr.code == http.StatusForbidden:
			return 0, 0, s.fail(answered + ": the user may not read vhost " + strconv.Quote(s.meta.ResolvedVhost) + ": give it permissions on the vhost and a management tag (monitoring or management)")
		case statusErr.code == http.StatusNotFound && s.meta.UseRegex:
			return 0, 0, s.fail(answered + ": the management API does not know the vhost: check metadata.vhostName (or the last segment of host's path)")
		case statusErr.code == http.StatusNotFound:
			return 0, 0, s.fail(answered + ": the queue or its vhost does not exist: check metadata.queueName and the vhost (metadata.vhostName, or the last segment of host's path)")
		}
		return 0, 0, err
	}
	q, err := parseRabbitAnswer(body, s.meta.UseRegex, s.meta.Operation, s.meta.PageSize)
	if err != nil {
		return 0, 0, s.fail(err.Error())
	}
	if s.meta.ExcludeUnacknowledged {
		return q.MessagesReady, q.MessageStats.PublishDetails.Rate, nil
	}
	return q.Messages, q.MessageStats.PublishDetails.Rate, nil
}

// parseRabbitAnswer reads a 2xx answer of the management API: one queue, or with useRegex a
// page of the queues that match, combined by operation.
func parseRabbitAnswer(body []byte, useRegex bool, operation string, pageSize int64) (rabbitQueue, error) {
	notAPI := errors.New("the answer is not the RabbitMQ management API's: check that metadata.host is the management API's address (port 15672 by default), such as http://user:password@rabbitmq.default:15672/vhost")
	var q rabbitQueue
	if !useRegex {
		if err := json.Unmarshal(body, &q); err != nil || q.Name == "" {
			return rabbitQueue{}, notAPI
		}
		return q, checkRabbitQueue(&q)
	}
	var page rabbitQueuePage
	if err := json.Unmarshal(body, &page); err != nil || page.PageCount == nil {
		return rabbitQueue{}, notAPI
	}
	if *page.PageCount > 1 {
		return rabbitQueue{}, fmt.Errorf("the regex matches more queues than one page of metadata.pageSize %d holds: raise pageSize or narrow queueName", pageSize)
	}
	for i := range page.Items {
		if err := checkRabbitQueue(&page.Items[i]); err != nil {
			return rabbitQueue{}, err
		}
	}
	return combineQueues(page.Items, operation), nil
}

// checkRabbitQueue refuses counts and rates below 0, which RabbitMQ never reports: a negative
// value would read as no backlog.
func checkRabbitQueue(q *rabbitQueue) error {
	if q.Messages < 0 || q.MessagesReady < 0 || q.MessageStats.PublishDetails.Rate < 0 {
		return fmt.Errorf("the answer gives queue %q messages %d, messages_ready %d and a publish rate of %g, and none may be below 0: check that metadata.host is the RabbitMQ management API",
			meta.Clip(q.Name, 80), q.Messages, q.MessagesReady, q.MessageStats.PublishDetails.Rate)
	}
	return nil
}

// combineQueues folds the queues a regex matched (whose counts are 0 or more) into one by
// operation; each field is combined on its own (max is the longest queue's messages and the
// fastest queue's rate). As in KEDA, avg divides the message counts as integers. No queue gives
// zeros.
func combineQueues(queues []rabbitQueue, operation string) rabbitQueue {
	var c rabbitQueue
	if len(queues) == 0 {
		return c
	}
	for _, q := range queues {
		rate := q.MessageStats.PublishDetails.Rate
		switch operation {
		case meta.RabbitOperationMax:
			c.Messages = max(c.Messages, q.Messages)
			c.MessagesReady = max(c.MessagesReady, q.MessagesReady)
			c.MessageStats.PublishDetails.Rate = max(c.MessageStats.PublishDetails.Rate, rate)
		default:
			// Held at the largest count and rate rather than wrapping to a negative count or
			// overflowing to an infinite rate.
			c.Messages = addSat(c.Messages, q.Messages)
			c.MessagesReady = addSat(c.MessagesReady, q.MessagesReady)
			c.MessageStats.PublishDetails.Rate = min(c.MessageStats.PublishDetails.Rate+rate, math.MaxFloat64)
		}
	}
	if operation == meta.RabbitOperationAvg {
		n := int64(len(queues))
		c.Messages /= n
		c.MessagesReady /= n
		c.MessageStats.PublishDetails.Rate /= float64(n)
	}
	return c
}

// where names the queue and the server for errors, without credentials.
func (s *rabbitMQScaler) where() string {
	what := "queue " + strconv.Quote(s.meta.QueueName)
	if s.meta.UseRegex {
		what = "queues matching " + strconv.Quote(s.meta.QueueName)
	}
	return fmt.Sprintf("%s in vhost %q on %s", what, s.meta.ResolvedVhost, s.server())
}

// server is host without its password.
func (s *rabbitMQScaler) server() string {
	if s.http != nil {
		return s.meta.HTTPBase.Redacted()
	}
	u := url.URL{Scheme: s.meta.AmqpURI.Scheme, Host: net.JoinHostPort(s.meta.AmqpURI.Host, strconv.Itoa(s.meta.AmqpURI.Port))}
	if s.meta.AmqpURI.Username != "" {
		u.User = url.UserPassword(s.meta.AmqpURI.Username, "xxxxx")
	}
	return u.String()
}

// fail names the trigger and the queue and removes every credential from the text.
func (s *rabbitMQScaler) fail(problem string) error {
	return redact(fmt.Errorf("%s: %s: %s", triggerWho(s.cfg), s.where(), problem), s.secrets)
}

// failWrap is fail keeping err for errors.Is and errors.As.
func (s *rabbitMQScaler) failWrap(problem string, err error) error {
	return redact(fmt.Errorf("%s: %s: %s: %w", triggerWho(s.cfg), s.where(), problem, err), s.secrets)
}

// rabbitAMQP is an AMQP connection, shared by the triggers of one identity (cfg.Clients), opened
// on the first poll and kept between polls; a poll that fails on it or times out drops it, and
// the next poll dials again. Polls run concurrently, each on a channel of its own.
type rabbitAMQP struct {
	// meta gives the connection parameters (host, vhost, credentials, TLS), which every trigger
	// sharing the connection has alike; never the queue or the timeout.
	meta *meta.RabbitMQMetadata

	// lock (a channel, so that a poll waiting for another's dial gives up at its own deadline)
	// guards conn and closed.
	lock   chan struct{}
	conn   *amqp.Connection
	closed bool
}

func newRabbitAMQP(meta *meta.RabbitMQMetadata) *rabbitAMQP {
	return &rabbitAMQP{meta: meta, lock: make(chan struct{}, 1)}
}

// connection returns the open connection, dialling first when there is none.
func (a *rabbitAMQP) connection(ctx context.Context, s *rabbitMQScaler, timeout time.Duration) (*amqp.Connection, error) {
	select {
	case a.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, s.failWrap(a.explain(ctx, ctx.Err(), "could not connect", timeout), ctx.Err())
	}
	defer func() { <-a.lock }()
	if a.closed {
		return nil, s.fail("the trigger's scaler is closed")
	}
	if a.conn == nil || a.conn.IsClosed() {
		conn, err := a.dial(ctx)
		if err != nil {
			return nil, s.failWrap(a.explain(ctx, err, "could not connect", timeout), err)
		}
		a.conn = conn
	}
	return a.conn, nil
}

// drop forgets conn, closing it by deadline when it is still open, unless a later poll has
// replaced it already.
func (a *rabbitAMQP) drop(conn *amqp.Connection, deadline time.Time) {
	if !conn.IsClosed() {
		_ = conn.CloseDeadline(deadline)
	}
	a.lock <- struct{}{}
	if a.conn == conn {
		a.conn = nil
	}
	<-a.lock
}

// queueLength counts queue's ready messages with a passive declare (which creates nothing),
// dialling first when there is no open connection. Dial, handshake and declare together end
// within timeout, the trigger's.
func (a *rabbitAMQP) queueLength(ctx context.Context, s *rabbitMQScaler, queue string, timeout time.Duration) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if s.closed.Load() {
		return 0, s.fail("the trigger's scaler is closed")
	}
	conn, err := a.connection(ctx, s, timeout)
	if err != nil {
		return 0, err
	}
	type result struct {
		queue amqp.Queue
		err   error
	}
	// The client library's calls take no context: the call runs aside, and a timeout closes
	// the connection under it (an unanswered declare means the connection is unwell; the
	// triggers sharing it dial again at their next poll).
	done := make(chan result, 1)
	go func() {
		ch, err := conn.Channel()
		if err != nil {
			done <- result{err: err}
			return
		}
		q, err := ch.QueueDeclarePassive(queue, false, false, false, false, nil)
		if err == nil {
			_ = ch.Close()
		}
		// On an error the broker has closed the channel already.
		done <- result{queue: q, err: err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			var amqpErr *amqp.Error
			if errors.As(r.err, &amqpErr) && amqpErr.Code == amqp.NotFound {
				return 0, s.failWrap("the queue does not exist: check metadata.queueName and the vhost (metadata.vhostName, or host's path)", r.err)
			}
			if conn.IsClosed() {
				a.drop(conn, time.Now())
			}
			return 0, s.failWrap(a.explain(ctx, r.err, "could not read the queue", timeout), r.err)
		}
		return int64(r.queue.Messages), nil
	case <-ctx.Done():
		a.drop(conn, time.Now())
		return 0, s.failWrap(a.explain(ctx, ctx.Err(), "could not read the queue", timeout), ctx.Err())
	}
}

// rabbitSASL replaces the credentials of host with username and password when they are given.
func rabbitSASL(m *meta.RabbitMQMetadata) []amqp.Authentication {
	if m.Username == "" {
		return nil
	}
	return []amqp.Authentication{&amqp.PlainAuth{Username: m.Username, Password: m.Password}}
}

// rabbitDriverCheck has the client library parse an AMQP host again: meta's parser reads the
// documented forms the same way, the library is the authority where it dials.
func rabbitDriverCheck(metadata any) error {
	m := metadata.(*meta.RabbitMQMetadata)
	if m.ResolvedProtocol != meta.RabbitProtocolAMQP || m.Host == "" {
		return nil
	}
	if _, err := amqp.ParseURI(m.Host); err != nil {
		return meta.RabbitBadHost()
	}
	return nil
}

// dial opens the connection. The TCP dial ends with ctx; TLS and the AMQP handshake end by
// ctx's deadline, which the connection carries until the handshake is done.
func (a *rabbitAMQP) dial(ctx context.Context) (*amqp.Connection, error) {
	deadline, _ := ctx.Deadline()
	cfg := amqp.Config{
		SASL:            rabbitSASL(a.meta),
		Vhost:           a.meta.ResolvedVhost,
		TLSClientConfig: a.meta.TLSConfig,
		Properties:      amqp.Table{"connection_name": "keda rabbitmq trigger"},
		Dial: func(network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			// Cleared by the library once the handshake is done.
			if err := c.SetDeadline(deadline); err != nil {
				c.Close()
				return nil, err
			}
			return c, nil
		},
	}
	return amqp.DialConfig(a.meta.Host, cfg)
}

// explain words an AMQP failure with what to check.
func (a *rabbitAMQP) explain(ctx context.Context, err error, what string, timeout time.Duration) string {
	var amqpErr *amqp.Error
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	// The socket's deadline is ctx's: at the deadline, errors of either may come first.
	deadline, ok := ctx.Deadline()
	late := ctx.Err() != nil || (ok && !time.Now().Before(deadline))
	switch {
	case errors.Is(err, amqp.ErrCredentials) && late:
		// The client library reports any failure after the login as refused credentials; at the
		// deadline that is RabbitMQ taking its time to refuse them.
		return fmt.Sprintf("%s: RabbitMQ did not accept the login within the trigger's timeout of %s (it waits about 3 s before refusing a wrong user or password): check the credentials in host (or username and password), or raise metadata.timeout", what, timeout)
	case late || errors.Is(err, context.DeadlineExceeded) || isNetTimeout(err):
		return fmt.Sprintf("%s: no answer within the trigger's timeout of %s: check that RabbitMQ answers at metadata.host, or raise metadata.timeout", what, timeout)
	case errors.As(err, &amqpErr) && amqpErr.Code == amqp.AccessRefused:
		return what + ": RabbitMQ refused the user, the password or the vhost: check the credentials in host (or username and password) and the user's permissions on vhost " + strconv.Quote(a.meta.ResolvedVhost)
	case errors.As(err, &unknownCA) || errors.As(err, &hostErr) || errors.As(err, &certErr):
		return what + ": the server's certificate is not trusted: set parameter ca (its CA's PEM) in the TriggerAuthentication, or metadata.unsafeSsl \"true\" to skip the check"
	case strings.Contains(err.Error(), "remote error: tls:"):
		return what + ": the server refused the TLS handshake: if it wants a client certificate, set tls \"enable\" with cert and key (and keyPassword) in the TriggerAuthentication"
	case errors.As(err, &amqpErr) && amqpErr.Code == amqp.NotAllowed:
		return what + ": RabbitMQ does not know vhost " + strconv.Quote(a.meta.ResolvedVhost) + " or refuses it: check metadata.vhostName (or host's path)"
	default:
		return what + ": check metadata.host and that RabbitMQ serves AMQP there"
	}
}

// close closes the connection, if any, when the last trigger sharing it is closed; later polls
// fail. Closing waits at most rabbitCloseTimeout for the broker's answer.
func (a *rabbitAMQP) close() {
	a.lock <- struct{}{}
	defer func() { <-a.lock }()
	a.closed = true
	if a.conn != nil {
		_ = a.conn.CloseDeadline(time.Now().Add(rabbitCloseTimeout))
		a.conn = nil
	}
}

// rabbitCloseTimeout bounds the close handshake with the broker.
const rabbitCloseTimeout = 3 * time.Second
