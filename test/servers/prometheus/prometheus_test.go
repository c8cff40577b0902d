package prometheus

import (
	"context"
	"os"
	"testing"
	"time"
)

// TestStartScrapeStop: a server starts, scrapes the exporter every second so a gauge the test
// sets is queryable moments later, and leaves nothing behind.
func TestStartScrapeStop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts prometheus")
	}
	exp := NewExporter(t)
	exp.Set("kedactl_test_jobs", 3)
	s := Start(t, Options{Targets: []string{exp.Addr}})
	ctx := context.Background()
	if err := s.WaitForValue(ctx, "kedactl_test_jobs", 3, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	exp.Set("kedactl_test_jobs", 7.5)
	start := time.Now()
	if err := s.WaitForValue(ctx, "kedactl_test_jobs", 7.5, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	t.Logf("a new gauge value was queryable after %s", time.Since(start).Round(time.Millisecond))
	if _, ok, err := s.Query(ctx, "no_such_metric"); err != nil || ok {
		t.Errorf("no_such_metric: found=%v err=%v, want an empty result", ok, err)
	}
	s.Stop()
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists after Stop: %v", s.dir, err)
	}
}
