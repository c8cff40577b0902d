package graphite

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestServerReadsBackPoints: a point sent to carbon-cache's plaintext port is graphite-web's
// last point of the metric at once; the proxy refuses requests without the credentials and
// passes those with them.
func TestServerReadsBackPoints(t *testing.T) {
	if testing.Short() {
		t.Skip("starts carbon-cache and graphite-web")
	}
	s := Start(t, Options{Username: "reader", Password: "s3cret"})
	s.Put(t, "queue.jobs", 7)
	s.Put(t, "queue.jobs", 3)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Render(ctx, s.URL, "", "", "queue.jobs", "-1min"); !errors.Is(err, ErrStatus) {
		t.Fatalf("the proxy without credentials answered %v, want a 401", err)
	}
	if _, err := s.Render(ctx, s.URL, "reader", "wrong", "queue.jobs", "-1min"); !errors.Is(err, ErrStatus) {
		t.Fatalf("the proxy with a wrong password answered %v, want a 401", err)
	}
	series, err := s.Render(ctx, s.URL, "reader", "s3cret", "queue.jobs", "-1min")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := lastPoint(series[0]); len(series) != 1 || !ok || v != 3 {
		t.Fatalf("series %+v, want the last point 3", series)
	}
	if n := s.Served(); n != 1 {
		t.Errorf("the proxy passed %d requests, want the 1 with the credentials", n)
	}
}
