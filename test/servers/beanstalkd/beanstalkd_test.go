package beanstalkd

import (
	"testing"
	"time"
)

// TestServerKeepsJobsInTheirStates: a producer's jobs are ready or delayed, a worker's reserved
// ones are reserved until its connection closes, and stats-tube reports each state.
func TestServerKeepsJobsInTheirStates(t *testing.T) {
	if testing.Short() {
		t.Skip("starts beanstalkd")
	}
	s := Start(t)
	producer := s.Dial(t)
	if err := producer.Put("jobs", 3, 0); err != nil {
		t.Fatal(err)
	}
	if err := producer.Put("jobs", 2, time.Hour); err != nil {
		t.Fatal(err)
	}
	worker := s.Dial(t)
	ids, err := worker.Reserve("jobs", 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := worker.Bury(ids[0]); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"current-jobs-ready": "1", "current-jobs-reserved": "1", "current-jobs-delayed": "2", "current-jobs-buried": "1"}
	stats, err := producer.Stats("jobs")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		if stats[k] != v {
			t.Errorf("%s = %q, want %q (stats %v)", k, stats[k], v, stats)
		}
	}
	// A worker that goes away gives its reserved job back.
	worker.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		stats, err := producer.Stats("jobs")
		if err != nil {
			t.Fatal(err)
		}
		if stats["current-jobs-ready"] == "2" && stats["current-jobs-reserved"] == "0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the closed worker's job is not ready again: %v", stats)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
