package history

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"

	historyv1alpha1 "github.com/kedactl/kedactl/api/history/v1alpha1"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func sampleAt(sec int, active ...string) historyv1alpha1.Sample {
	s := historyv1alpha1.Sample{Time: metav1.NewTime(t0.Add(time.Duration(sec) * time.Second))}
	for _, name := range active {
		s.Triggers = append(s.Triggers, historyv1alpha1.TriggerReading{Name: name, Type: "redis", Active: true})
	}
	s.Triggers = append(s.Triggers, historyv1alpha1.TriggerReading{Type: "cron"})
	return s
}

func TestRingKeepsTheNewestInOrder(t *testing.T) {
	for _, tc := range []struct {
		name   string
		size   int
		pushed int
		want   []int
	}{
		{"empty", 3, 0, []int{}},
		{"partly filled", 3, 2, []int{0, 1}},
		{"exactly full", 3, 3, []int{0, 1, 2}},
		{"wrapped once", 3, 4, []int{1, 2, 3}},
		{"wrapped many times", 3, 10, []int{7, 8, 9}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRing[int](tc.size)
			for i := range tc.pushed {
				r.push(i)
			}
			got := r.items()
			if len(got) != len(tc.want) {
				t.Fatalf("items = %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("items = %v, want %v", got, tc.want)
				}
			}
			if cap(r.buf) > tc.size {
				t.Errorf("buffer grew to %d, beyond the ring size %d", cap(r.buf), tc.size)
			}
		})
	}
}

func TestStore(t *testing.T) {
	key := ScaledObjectKey(types.NamespacedName{Namespace: "ns", Name: "so"})
	clk := clocktesting.NewFakePassiveClock(t0)
	for _, tc := range []struct {
		name string
		run  func(s *Store)
		// want: the decisions' types and triggers, in order; nil when no history.
		want     []string
		samples  int
		noRecord bool
	}{
		{name: "nothing recorded", run: func(*Store) {}, noRecord: true},
		{name: "a deactivation names the triggers active last", run: func(s *Store) {
			s.Sample(key, sampleAt(0, "queue", "backlog"))
			s.Sample(key, sampleAt(1))
			s.Decide(key, historyv1alpha1.Decision{Type: historyv1alpha1.DecisionDeactivated})
		}, want: []string{"Deactivated backlog;queue"}, samples: 2},
		{name: "a deactivation that names its trigger keeps it", run: func(s *Store) {
			s.Sample(key, sampleAt(0, "queue"))
			s.Decide(key, historyv1alpha1.Decision{Type: historyv1alpha1.DecisionDeactivated, Trigger: "other"})
		}, want: []string{"Deactivated other"}, samples: 1},
		{name: "samples beyond the ring drop the oldest, decisions stay", run: func(s *Store) {
			s.Decide(key, historyv1alpha1.Decision{Type: historyv1alpha1.DecisionActivated, Trigger: "queue"})
			for i := range 10 { // each reads differently: equal ones would be kept once
				s.Sample(key, sampleAt(i, string(rune('a'+i))))
			}
		}, want: []string{"Activated queue"}, samples: 4},
		{name: "the first generation records nothing, a bump records a change", run: func(s *Store) {
			s.ObserveGeneration(key, 1)
			s.ObserveGeneration(key, 1)
			s.ObserveGeneration(key, 3)
		}, want: []string{"ConfigChanged "}},
		{name: "forget drops the object", run: func(s *Store) {
			s.Sample(key, sampleAt(0, "queue"))
			s.Forget(key)
		}, noRecord: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(Options{Samples: 4, Decisions: 4, Clock: clk})
			tc.run(s)
			h, ok := s.History(key)
			if ok == tc.noRecord {
				t.Fatalf("History found = %v, want %v", ok, !tc.noRecord)
			}
			if tc.noRecord {
				return
			}
			var got []string
			for _, d := range h.Decisions {
				got = append(got, string(d.Type)+" "+d.Trigger)
				if d.Time.IsZero() {
					t.Errorf("decision %s has no time", d.Type)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("decisions = %q, want %q", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("decisions = %q, want %q", got, tc.want)
				}
			}
			if len(h.Samples) != tc.samples {
				t.Errorf("%d samples, want %d", len(h.Samples), tc.samples)
			}
			if h.SampleCapacity != 4 || h.DecisionCapacity != 4 {
				t.Errorf("capacities = %d/%d, want 4/4", h.SampleCapacity, h.DecisionCapacity)
			}
		})
	}
}

func TestNilStoreRecordsNothing(t *testing.T) {
	var s *Store
	key := ScaledJobKey(types.NamespacedName{Namespace: "ns", Name: "sj"})
	s.Sample(key, sampleAt(0, "queue"))
	s.Decide(key, historyv1alpha1.Decision{Type: historyv1alpha1.DecisionJobsCreated})
	s.ObserveGeneration(key, 2)
	s.Forget(key)
	if _, ok := s.History(key); ok || s.Len() != 0 {
		t.Error("a nil store returned a history")
	}
}

func TestHistoryIsACopy(t *testing.T) {
	s := New(Options{})
	key := ScaledObjectKey(types.NamespacedName{Namespace: "ns", Name: "so"})
	s.Sample(key, sampleAt(0, "queue"))
	h, _ := s.History(key)
	h.Samples[0].Triggers[0].Name = "changed"
	again, _ := s.History(key)
	if again.Samples[0].Triggers[0].Name != "queue" {
		t.Error("a caller's change reached the store")
	}
}

func TestRingNewest(t *testing.T) {
	r := newRing[int](3)
	if r.newest() != nil {
		t.Fatal("an empty ring has a newest value")
	}
	for i := range 5 {
		r.push(i)
		if got := *r.newest(); got != i {
			t.Fatalf("after pushing %d the newest is %d", i, got)
		}
	}
}

// TestStoreKeepsARunOfEqualSamplesOnce: an idle object reads the same for hours; its history holds
// one sample with the time of the last evaluation that read it.
func TestStoreKeepsARunOfEqualSamplesOnce(t *testing.T) {
	key := ScaledObjectKey(types.NamespacedName{Namespace: "ns", Name: "idle"})
	s := New(Options{Samples: 4})
	for sec := 0; sec < 300; sec += 30 {
		s.Sample(key, sampleAt(sec))
	}
	s.Sample(key, sampleAt(300, "queue"))
	s.Sample(key, sampleAt(330, "queue"))
	s.Sample(key, sampleAt(360))
	h, _ := s.History(key)
	if len(h.Samples) != 3 {
		t.Fatalf("%d samples, want 3 runs: %+v", len(h.Samples), h.Samples)
	}
	for i, want := range []struct{ from, last int }{{0, 270}, {300, 330}, {360, -1}} {
		got := h.Samples[i]
		if !got.Time.Time.Equal(t0.Add(time.Duration(want.from) * time.Second)) {
			t.Errorf("run %d starts at %v, want +%ds", i, got.Time, want.from)
		}
		switch {
		case want.last < 0 && got.LastTime != nil:
			t.Errorf("run %d: lastTime %v, want none", i, got.LastTime)
		case want.last >= 0 && (got.LastTime == nil || !got.LastTime.Time.Equal(t0.Add(time.Duration(want.last)*time.Second))):
			t.Errorf("run %d: lastTime %v, want +%ds", i, got.LastTime, want.last)
		}
	}
}
