package engine

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kedactl/kedactl/scalers"
)

// BenchmarkMetricLookup is the metrics server's request path: find one object's metric sample.
func BenchmarkMetricLookup(b *testing.B) {
	fa := &factory{}
	e := New(Options{NewScaler: fa.new})
	keys := make([]Key, 1000)
	for i := range keys {
		keys[i] = Key{Kind: KindScaledObject, Namespace: "ns", Name: fmt.Sprintf("so-%d", i)}
		e.Register(context.Background(), keys[i], Registration{PollingInterval: time.Hour, Triggers: []scalers.Config{trigger(0, fmt.Sprintf("list-%d", i))}})
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := keys[i%len(keys)]
		st, _ := e.State(k)
		if st.Metric(fmt.Sprintf("s0-fake-list-%d", i%len(keys))) == nil {
			b.Fatal("metric not found")
		}
		i++
	}
}

// BenchmarkPollScheduling measures the scheduler's cost per poll with 1000 triggers due at once.
func BenchmarkPollScheduling(b *testing.B) {
	fa := &factory{}
	var polled atomic.Int64
	e := New(Options{NewScaler: fa.new, OnPolled: func(Key) { polled.Add(1) }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = e.Start(ctx) }()
	keys := make([]Key, 1000)
	for i := range keys {
		keys[i] = Key{Kind: KindScaledObject, Namespace: "ns", Name: fmt.Sprintf("so-%d", i)}
		e.Register(ctx, keys[i], Registration{PollingInterval: time.Hour, Triggers: []scalers.Config{trigger(0, fmt.Sprintf("list-%d", i))}})
	}
	for polled.Load() < int64(len(keys)) {
		time.Sleep(time.Millisecond)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		target := polled.Load() + 1
		e.Refresh(keys[n%len(keys)])
		for polled.Load() < target {
			time.Sleep(0)
		}
	}
}
