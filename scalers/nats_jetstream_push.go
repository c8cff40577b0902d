package scalers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
	"github.com/nats-io/nats.go"
)

// The nats-jetstream trigger pushes when a message is published on its stream's subjects. KEDA's
// metadata has no client address and no credentials, only the monitoring endpoint; the client
// address is derived from it: the same host, on the client port the server reports in /varz. So
// the trigger pushes only where a client needs nothing more: the server requires neither
// authentication nor TLS of clients, and the stream is in the default account ($G), the one an
// anonymous client is in. Elsewhere Run returns and the trigger is polled as before.
//
// The subscription is a core NATS one: the stream and its consumers see no difference (it is not
// a JetStream consumer, so it neither consumes nor holds messages for an interest-retention
// stream). Its interest lasts for one message, dropped at once: a busy stream sends the operator
// about one message per natsPushPause, not its whole traffic. What is published during the pause
// is covered by a trailing push once the subscription is back.

const (
	// natsGlobalAccount is the account of clients of a server without accounts configured.
	natsGlobalAccount = "$G"
	// natsPushPause is the wait after a push before listening again; the engine polls a source
	// at most once a second on pushes anyway.
	natsPushPause = time.Second
	// natsRetryMin and natsRetryMax bound the wait before reading the monitoring endpoint again,
	// and between the client's reconnection attempts; it doubles after each failure.
	natsRetryMin = time.Second
	natsRetryMax = time.Minute
)

// errNATSCannotPush marks a server or trigger the push stream cannot serve: trying again would
// not help.
var errNATSCannotPush = errors.New("the trigger cannot push")

// natsPushTarget is where and on what the push stream listens.
type natsPushTarget struct {
	url      string
	subjects []string
}

// Run listens on the stream's subjects and pushes when a message is published there, reconnecting
// with a bounded backoff, until ctx ends. It returns at once where a client connection would need
// what KEDA's metadata cannot give (see above).
func (s *natsJetStreamScaler) Run(ctx context.Context, push func(active bool)) {
	if s.meta.AccountID != "" || s.meta.Account != natsGlobalAccount {
		return
	}
	wait := natsRetryMin
	for ctx.Err() == nil {
		target, err := s.pushTarget(ctx)
		if errors.Is(err, errNATSCannotPush) {
			return
		}
		if err == nil {
			if err = s.listen(ctx, target, push); err == nil {
				return
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, natsRetryMax)
	}
}

// pushTarget reads the client port and requirements from /varz and the stream's subjects from
// /jsz of the configured monitoring endpoint.
func (s *natsJetStreamScaler) pushTarget(ctx context.Context) (*natsPushTarget, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	varzURL := *s.meta.JSZURL
	varzURL.Path, varzURL.RawQuery = "/varz", ""
	var varz varzResponse
	if err := s.getJSON(ctx, &varzURL, &varz); err != nil {
		return nil, err
	}
	if varz.AuthRequired || varz.TLSRequired || varz.Port <= 0 {
		return nil, fmt.Errorf("%w: the server at %s requires authentication or TLS of clients (or has no client port)", errNATSCannotPush, s.meta.MonitoringEndpoint)
	}
	doc, err := s.jsz(ctx, s.meta.JSZURL)
	if err != nil {
		return nil, err
	}
	subjects, err := natsStreamSubjects(doc, &s.meta)
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(s.meta.MonitoringEndpoint)
	return &natsPushTarget{url: "nats://" + net.JoinHostPort(host, strconv.Itoa(varz.Port)), subjects: subjects}, nil
}

// natsStreamSubjects returns the subjects of meta's stream in a /jsz answer. A stream without
// subjects (a mirror, or one fed by sources only) has nothing to listen on.
func natsStreamSubjects(doc *jszResponse, md *meta.NatsJetStreamMetadata) ([]string, error) {
	for _, a := range doc.Accounts {
		if a == nil || !natsIsAccount(md, a) {
			continue
		}
		for _, st := range a.Streams {
			if st == nil || st.Name != md.Stream {
				continue
			}
			if len(st.Config.Subjects) == 0 {
				return nil, fmt.Errorf("%w: stream %q has no subjects to listen on", errNATSCannotPush, md.Stream)
			}
			return st.Config.Subjects, nil
		}
	}
	// Not there (yet): the poll says so; the push stream looks again after a backoff.
	return nil, fmt.Errorf("stream %q not found at %s", md.Stream, md.MonitoringEndpoint)
}

// listen connects to the server and, until ctx ends, waits for a message on any of the subjects,
// pushes, and pauses. The client reconnects on its own (with the same bounded backoff) and
// restores the subscriptions; a nil error means ctx ended.
func (s *natsJetStreamScaler) listen(ctx context.Context, target *natsPushTarget, push func(active bool)) error {
	nc, err := nats.Connect(target.url,
		nats.Name("kedactl "+triggerWho(s.cfg)),
		nats.Timeout(s.cfg.Timeout),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.CustomReconnectDelay(func(attempts int) time.Duration {
			return min(natsRetryMin<<min(attempts, 6), natsRetryMax)
		}),
		// A connection that died silently is noticed within a minute and a half.
		nats.PingInterval(30*time.Second),
	)
	if err != nil {
		return fmt.Errorf("%s: failed to connect to %s to listen on stream %q: %w", triggerWho(s.cfg), target.url, s.meta.Stream, err)
	}
	defer nc.Close()
	msgs := make(chan *nats.Msg, len(target.subjects))
	trailing := false
	for {
		subs := make([]*nats.Subscription, 0, len(target.subjects))
		for _, subject := range target.subjects {
			sub, err := nc.ChanSubscribe(subject, msgs)
			if err == nil {
				err = sub.AutoUnsubscribe(1)
			}
			if err != nil {
				return fmt.Errorf("%s: failed to subscribe to %q on %s: %w", triggerWho(s.cfg), subject, target.url, err)
			}
			subs = append(subs, sub)
		}
		if trailing {
			// Messages published during the pause were not heard: once the server has the new
			// subscriptions (a later message will be heard), push for those, so that a poll
			// reads them rather than the next pollingInterval.
			_ = nc.FlushTimeout(s.cfg.Timeout)
			push(true)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-msgs:
		}
		for _, sub := range subs {
			_ = sub.Unsubscribe()
		}
		for len(msgs) > 0 {
			<-msgs
		}
		push(true)
		trailing = true
		t := time.NewTimer(natsPushPause)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}
