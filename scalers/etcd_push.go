package scalers

import (
	"context"
	"errors"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// The etcd trigger pushes when its key changes: it watches the key, as KEDA's etcd scaler does,
// and every put or delete makes the engine poll at once. The watch asks for progress
// notifications; one that hears neither an event nor a notification for twice
// watchProgressNotifyInterval (the server's setting, which the trigger states) is taken for
// stuck on a member cut off from the others and is made again, which lets the client pick
// another member.

// etcdWatchRetryMin and etcdWatchRetryMax bound the wait before watching again after a watch
// ended; it doubles after each watch that heard nothing.
const (
	etcdWatchRetryMin = time.Second
	etcdWatchRetryMax = time.Minute
)

// errEtcdWatchStalled ends a watch that heard nothing for twice the progress interval.
var errEtcdWatchStalled = errors.New("no event or progress notification within twice watchProgressNotifyInterval")

// Run watches the key and pushes on each change until ctx ends, watching again with a backoff
// whenever the watch ends.
func (s *etcdScaler) Run(ctx context.Context, push func(active bool)) {
	wait := etcdWatchRetryMin
	for ctx.Err() == nil {
		heard, _ := s.watch(ctx, push)
		if heard {
			wait = etcdWatchRetryMin
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, etcdWatchRetryMax)
	}
}

// watch runs one watch of the key until it fails, stalls or ctx ends; heard reports whether it
// delivered any event. The error is for tests: the engine has no use for it, since the polls
// report the same problem (unreachable server, refused credentials) with their fix.
func (s *etcdScaler) watch(ctx context.Context, push func(active bool)) (heard bool, err error) {
	client, err := s.conn.get()
	if err != nil {
		return false, s.failure(ctx, "connect to", err)
	}
	// Without a leader the member's data may be stale: the server ends such a watch, and the
	// client watches again on another member.
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	events := client.Watch(wctx, s.meta.WatchKey, clientv3.WithProgressNotify())
	stall := 2 * time.Duration(s.meta.WatchProgressNotifyInterval) * time.Second
	timer := time.NewTimer(stall)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return heard, nil
		case <-timer.C:
			return heard, fmt.Errorf("%s: watch of key %q on %s: %w", triggerWho(s.cfg), s.meta.WatchKey, s.where, errEtcdWatchStalled)
		case resp, ok := <-events:
			if !ok {
				return heard, nil
			}
			if err := resp.Err(); err != nil {
				return heard, s.failure(ctx, fmt.Sprintf("watch key %q on", s.meta.WatchKey), err)
			}
			timer.Reset(stall)
			for _, ev := range resp.Events {
				heard = true
				push(s.activeAfter(ev))
			}
		}
	}
}

// activeAfter is the trigger's activity after ev: a deleted key, or a value that is not a number,
// counts as 0, as KEDA's watch has it (the poll the push causes reports the error).
func (s *etcdScaler) activeAfter(ev *clientv3.Event) bool {
	if ev.Type == clientv3.EventTypeDelete || ev.Kv == nil {
		return 0 > s.meta.ActivationValue
	}
	v, err := parseEtcdValue(ev.Kv.Value)
	if err != nil {
		v = 0
	}
	return v > s.meta.ActivationValue
}
