package prometheus

import (
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	promclient "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Exporter is a tiny HTTP exporter on 127.0.0.1 serving /metrics with gauges the test sets,
// for a Server to scrape.
type Exporter struct {
	// Addr is host:port, to put in Options.Targets.
	Addr string

	registry *promclient.Registry
	mu       sync.Mutex
	gauges   map[string]promclient.Gauge
	srv      *http.Server
}

// NewExporter starts an exporter and stops it when the test ends.
func NewExporter(t testing.TB) *Exporter {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("exporter: %v", err)
	}
	e := &Exporter{Addr: l.Addr().String(), registry: promclient.NewRegistry(), gauges: map[string]promclient.Gauge{}}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(e.registry, promhttp.HandlerOpts{}))
	e.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := e.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("exporter: %v", err)
		}
	}()
	t.Cleanup(func() { _ = e.srv.Close() })
	return e
}

// Set sets gauge name (created on first use, without labels) to v.
func (e *Exporter) Set(name string, v float64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	g, ok := e.gauges[name]
	if !ok {
		g = promclient.NewGauge(promclient.GaugeOpts{Name: name, Help: "set by the test"})
		e.registry.MustRegister(g)
		e.gauges[name] = g
	}
	g.Set(v)
}
