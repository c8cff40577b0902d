package env

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Front is a round-robin TCP proxy on loopback, standing in for a Service over several replicas:
// each new connection goes to the next backend that accepts one. TLS passes through untouched.
type Front struct {
	ln       net.Listener
	backends []int
	next     atomic.Uint64
	wg       sync.WaitGroup
	// Conns counts the connections handed to each backend port.
	mu    sync.Mutex
	conns map[int]int
}

// NewFront listens on a free loopback port and spreads connections over the backend ports.
func NewFront(backends []int) (*Front, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("failed to listen for the front: %w", err)
	}
	f := &Front{ln: ln, backends: backends, conns: map[int]int{}}
	f.wg.Add(1)
	go f.serve()
	return f, nil
}

// Port is where the front listens.
func (f *Front) Port() int { return f.ln.Addr().(*net.TCPAddr).Port }

// Conns returns how many connections each backend port got.
func (f *Front) Conns() map[int]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[int]int{}
	for k, v := range f.conns {
		out[k] = v
	}
	return out
}

// Close stops accepting; open connections end with their peers.
func (f *Front) Close() {
	f.ln.Close()
	f.wg.Wait()
}

func (f *Front) serve() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		go f.relay(c)
	}
}

// relay connects c to the next backend that answers; a dead backend is skipped, as a Service
// skips an endpoint that is not ready.
func (f *Front) relay(c net.Conn) {
	start := f.next.Add(1)
	for i := 0; i < len(f.backends); i++ {
		port := f.backends[(int(start)+i)%len(f.backends)]
		b, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
		if err != nil {
			continue
		}
		f.mu.Lock()
		f.conns[port]++
		f.mu.Unlock()
		done := make(chan struct{}, 2)
		go func() { _, _ = io.Copy(b, c); b.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
		go func() { _, _ = io.Copy(c, b); c.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
		<-done
		<-done
		b.Close()
		c.Close()
		return
	}
	c.Close()
}
