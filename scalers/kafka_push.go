package scalers

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Kafka triggers push (scalers.PushScaler): a produced message makes the engine poll the lag at
// once instead of at the next polling interval. The source of the push is a long poll on the
// high watermarks of the triggers' topics: a fetch from the end of each partition, which the
// broker answers when a record is appended or after kafkaWatchMaxWait. Nothing is consumed
// for a group and nothing is committed.
//
// Every trigger of one shared client (cfg.Clients) is served by one watch, with one fetch per
// partition leader for all their topics: a broker answers one request of a connection at a
// time, so a long poll per trigger on the shared connection would queue behind the others.

// kafkaWatchMaxWait is how long the broker holds a fetch with no new record.
const kafkaWatchMaxWait = 5 * time.Second

// kafkaWatchMinPush is the least time between two pushes of one watch: a busy topic gets a
// record every millisecond, and a push per record would poll the lag as often.
const kafkaWatchMinPush = time.Second

// kafkaWatchRefresh is how often the topics' leaders and partitions are read again when
// nothing failed, so that a partition added or moved is watched.
const kafkaWatchRefresh = time.Minute

// kafkaShared is what the triggers of one Kafka identity share.
type kafkaShared struct {
	client *kgo.Client
	watch  *kafkaWatch
}

func newKafkaShared(cl *kgo.Client) *kafkaShared {
	return &kafkaShared{client: cl, watch: newKafkaWatch(cl)}
}

// close stops the watch, then closes the client.
func (s *kafkaShared) close() {
	s.watch.stop()
	s.client.Close()
}

// kafkaWatch long-polls the high watermarks of the topics its subscribers name and calls the
// subscribers of a topic when a record is appended to it.
type kafkaWatch struct {
	admin  *kadm.Client
	client *kgo.Client
	// ctx ends when the shared client closes.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	subs    map[*kafkaWatchSub]struct{}
	running bool
	done    chan struct{}
	// watching is the topics the current long poll covers; a subscriber with another topic
	// sends on wake, which ends that poll so that the next covers it too.
	watching map[string]bool
	wake     chan struct{}
}

type kafkaWatchSub struct {
	topics []string
	notify func()
}

func newKafkaWatch(cl *kgo.Client) *kafkaWatch {
	ctx, cancel := context.WithCancel(context.Background())
	return &kafkaWatch{admin: kadm.NewClient(cl), client: cl, ctx: ctx, cancel: cancel, subs: map[*kafkaWatchSub]struct{}{}, wake: make(chan struct{}, 1)}
}

// subscribe calls notify whenever a record is appended to one of topics, until the returned
// function is called. The watch runs while it has subscribers.
func (w *kafkaWatch) subscribe(topics []string, notify func()) (unsubscribe func()) {
	sub := &kafkaWatchSub{topics: topics, notify: notify}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.subs[sub] = struct{}{}
	if slices.ContainsFunc(topics, func(t string) bool { return !w.watching[t] }) {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	if !w.running && w.ctx.Err() == nil {
		w.running = true
		w.done = make(chan struct{})
		go w.run(w.done)
	}
	return sync.OnceFunc(func() {
		w.mu.Lock()
		delete(w.subs, sub)
		w.mu.Unlock()
	})
}

// stop ends the watch and waits for its loop.
func (w *kafkaWatch) stop() {
	w.cancel()
	w.mu.Lock()
	done := w.done
	w.mu.Unlock()
	if done != nil {
		<-done
	}
}

// topics returns the subscribers' topics, sorted, or nil (and marks the loop stopped) when
// there is no subscriber left.
func (w *kafkaWatch) topics() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for sub := range w.subs {
		out = append(out, sub.topics...)
	}
	if len(out) == 0 || w.ctx.Err() != nil {
		w.running = false
		w.watching = nil
		return nil
	}
	slices.Sort(out)
	out = slices.Compact(out)
	w.watching = map[string]bool{}
	for _, t := range out {
		w.watching[t] = true
	}
	return out
}

// appended calls the subscribers of the topics that got records.
func (w *kafkaWatch) appended(topics map[string]bool) {
	w.mu.Lock()
	var notify []func()
	for sub := range w.subs {
		if slices.ContainsFunc(sub.topics, func(t string) bool { return topics[t] }) {
			notify = append(notify, sub.notify)
		}
	}
	w.mu.Unlock()
	for _, f := range notify {
		f()
	}
}

// kafkaWatchPartition is a watched partition: its leader and the offset the next fetch waits
// beyond.
type kafkaWatchPartition struct {
	topic     string
	id        [16]byte
	partition int32
	leader    int32
	offset    int64
}

// run is the watch's loop: read the leaders and end offsets, then fetch from the end offsets
// until a fetch fails, the topics change, or kafkaWatchRefresh passes. Failures back off.
func (w *kafkaWatch) run(done chan struct{}) {
	defer close(done)
	backoff := time.Second
	var (
		watched   []string
		parts     []*kafkaWatchPartition
		refreshed time.Time
	)
	for {
		topics := w.topics()
		if topics == nil {
			return
		}
		if !slices.Equal(topics, watched) || time.Since(refreshed) > kafkaWatchRefresh {
			next, err := w.load(topics, parts)
			if err != nil {
				if !w.sleep(backoff) {
					return
				}
				backoff = min(2*backoff, 30*time.Second)
				continue
			}
			watched, parts, refreshed = topics, next, time.Now()
		}
		appended, ok, woken := w.fetch(parts)
		if len(appended) > 0 {
			w.appended(appended)
			if !w.sleep(kafkaWatchMinPush) {
				return
			}
		}
		if woken {
			// A subscriber with a new topic: read its partitions now, not after the wait.
			continue
		}
		if !ok {
			// A leader moved, a partition was truncated, a broker is down: read again.
			watched = nil
			if !w.sleep(backoff) {
				return
			}
			backoff = min(2*backoff, 30*time.Second)
			continue
		}
		backoff = time.Second
	}
}

// sleep waits d, or returns false when the watch stops first.
func (w *kafkaWatch) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-w.ctx.Done():
		return false
	}
}

// load reads the topics' partitions, leaders and ids, and the end offsets of partitions not
// watched before (a watched one keeps its offset, so that a record appended meanwhile is seen).
func (w *kafkaWatch) load(topics []string, previous []*kafkaWatchPartition) ([]*kafkaWatchPartition, error) {
	ctx, cancel := context.WithTimeout(w.ctx, kafkaWatchMaxWait)
	defer cancel()
	meta, err := w.admin.Metadata(ctx, topics...)
	if err != nil {
		return nil, err
	}
	ends, err := w.admin.ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, err
	}
	known := map[string]map[int32]int64{}
	for _, p := range previous {
		if known[p.topic] == nil {
			known[p.topic] = map[int32]int64{}
		}
		known[p.topic][p.partition] = p.offset
	}
	var out []*kafkaWatchPartition
	for _, topic := range topics {
		detail, ok := meta.Topics[topic]
		if !ok || detail.Err != nil {
			// Not there yet: the next refresh looks again.
			continue
		}
		for _, pd := range detail.Partitions {
			if pd.Err != nil || pd.Leader < 0 {
				continue
			}
			offset, seen := known[topic][pd.Partition]
			if !seen {
				end, ok := ends.Lookup(topic, pd.Partition)
				if !ok || end.Err != nil {
					continue
				}
				offset = end.Offset
			}
			out = append(out, &kafkaWatchPartition{topic: topic, id: detail.ID, partition: pd.Partition, leader: pd.Leader, offset: offset})
		}
	}
	return out, nil
}

// fetch long-polls every leader at once, for its partitions, from their offsets. It returns
// the topics that got records; false when a partition or a leader needs reading again; and
// whether a new subscriber's topic ended the poll early. With no partition to watch (the topics
// do not exist yet), it waits kafkaWatchMaxWait.
func (w *kafkaWatch) fetch(parts []*kafkaWatchPartition) (appended map[string]bool, ok, woken bool) {
	ctx, cancel := context.WithTimeout(w.ctx, 2*kafkaWatchMaxWait)
	defer cancel()
	var wokenFlag atomic.Bool
	go func() {
		select {
		case <-w.wake:
			wokenFlag.Store(true)
			cancel()
		case <-ctx.Done():
		}
	}()
	byLeader := map[int32][]*kafkaWatchPartition{}
	for _, p := range parts {
		byLeader[p.leader] = append(byLeader[p.leader], p)
	}
	if len(byLeader) == 0 {
		t := time.NewTimer(kafkaWatchMaxWait)
		defer t.Stop()
		select {
		case <-t.C:
			return nil, true, false
		case <-ctx.Done():
			return nil, w.ctx.Err() == nil, wokenFlag.Load()
		}
	}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	appended, ok = map[string]bool{}, true
	for leader, ps := range byLeader {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, fine := w.fetchFrom(ctx, leader, ps)
			mu.Lock()
			defer mu.Unlock()
			for t := range got {
				appended[t] = true
			}
			ok = ok && fine
		}()
	}
	wg.Wait()
	return appended, ok, wokenFlag.Load()
}

// fetchFrom is one long poll of one leader. A partition whose high watermark passed its offset
// got records: its topic is returned and the offset moves to the new high watermark.
func (w *kafkaWatch) fetchFrom(ctx context.Context, leader int32, parts []*kafkaWatchPartition) (map[string]bool, bool) {
	req := kmsg.NewPtrFetchRequest()
	req.MaxWaitMillis = int32(kafkaWatchMaxWait / time.Millisecond)
	req.MinBytes = 1
	// The broker still returns one record batch per partition when it is larger; that is all
	// that crosses the wire, and it is dropped.
	req.MaxBytes = 1
	var order []string
	index := map[string]map[int32]*kafkaWatchPartition{}
	ids := map[[16]byte]string{}
	for _, p := range parts {
		if index[p.topic] == nil {
			order = append(order, p.topic)
			index[p.topic] = map[int32]*kafkaWatchPartition{}
			ids[p.id] = p.topic
		}
		index[p.topic][p.partition] = p
	}
	for _, topic := range order {
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic = topic
		for _, p := range index[topic] {
			rt.TopicID = p.id
			rp := kmsg.NewFetchRequestTopicPartition()
			rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = p.partition, p.offset, 1
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
	}
	raw, err := w.client.Broker(int(leader)).Request(ctx, req)
	if err != nil {
		return nil, false
	}
	resp := raw.(*kmsg.FetchResponse)
	if resp.ErrorCode != 0 {
		return nil, false
	}
	appended := map[string]bool{}
	ok := true
	for _, rt := range resp.Topics {
		topic := rt.Topic
		if topic == "" {
			// Fetch v13 and later name topics by id.
			topic = ids[rt.TopicID]
		}
		for _, rp := range rt.Partitions {
			p := index[topic][rp.Partition]
			switch {
			case p == nil:
			case rp.ErrorCode != 0:
				ok = false
			case rp.HighWatermark > p.offset:
				appended[topic] = true
				p.offset = rp.HighWatermark
			case rp.HighWatermark < p.offset:
				// Truncated (the topic was recreated): start from its end again.
				p.offset = rp.HighWatermark
			}
		}
	}
	return appended, ok
}
