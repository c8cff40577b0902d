package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Source is the counting event source every trigger polls: a metrics-api endpoint on 127.0.0.1 that
// answers {"value": N} for /v/<key>, N being what Set gave the key (0 by default), and counts the
// queries per key.
type Source struct {
	srv    *http.Server
	base   string
	mu     sync.Mutex
	values map[string]int64
	counts map[string]*atomic.Int64
	total  atomic.Int64
}

// StartSource listens on a free loopback port.
func StartSource() (*Source, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("failed to listen for the counting source: %w", err)
	}
	s := &Source{base: "http://" + l.Addr().String(), values: map[string]int64{}, counts: map[string]*atomic.Int64{}}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(l) }()
	return s, nil
}

// URL is the trigger URL of key.
func (s *Source) URL(key string) string { return s.base + "/v/" + key }

func (s *Source) serve(w http.ResponseWriter, r *http.Request) {
	key, ok := strings.CutPrefix(r.URL.Path, "/v/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	v := s.values[key]
	c := s.counts[key]
	if c == nil {
		c = new(atomic.Int64)
		s.counts[key] = c
	}
	s.mu.Unlock()
	c.Add(1)
	s.total.Add(1)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"value": %d}`, v)
}

// Set makes key answer v from now on.
func (s *Source) Set(key string, v int64) {
	s.mu.Lock()
	s.values[key] = v
	s.mu.Unlock()
}

// Count is how many times key was queried.
func (s *Source) Count(key string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.counts[key]; c != nil {
		return c.Load()
	}
	return 0
}

// Total is how many queries the source answered for all keys.
func (s *Source) Total() int64 { return s.total.Load() }

// Close stops the server.
func (s *Source) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
}
