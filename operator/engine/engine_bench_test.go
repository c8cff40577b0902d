package engine

import (
	"context"
	"fmt"
	"runtime"
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

// BenchmarkRegisteredMemory reports the heap that 10,000 registered ScaledObjects hold in the
// engine, each with one metrics-api trigger built by the real scaler (bytes/object), as in the
// bench's idle workload. Run with -memprofile to see what holds it.
func BenchmarkRegisteredMemory(b *testing.B) {
	const objects = 10000
	ctx := context.Background()
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		e := New(Options{Clients: scalers.NewClientPool()})
		for i := range objects {
			key := Key{Kind: KindScaledObject, Namespace: "bench", Name: fmt.Sprintf("idle-%05d", i)}
			cfg := scalers.Config{
				ScalableObjectName: key.Name, ScalableObjectNamespace: key.Namespace, ScalableObjectType: "ScaledObject",
				TriggerType: "metrics-api",
				TriggerMetadata: map[string]string{
					"url": fmt.Sprintf("http://127.0.0.1:1/value/%05d", i), "valueLocation": "value", "targetValue": "10",
				},
				Timeout: 3 * time.Second,
			}
			if info := e.Register(ctx, key, Registration{PollingInterval: 30 * time.Second, Triggers: []scalers.Config{cfg}}); len(info) != 1 || info[0].Err != nil {
				b.Fatalf("registering %s: %+v", key.Name, info)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/objects, "bytes/object")
		runtime.KeepAlive(e)
	}
}
