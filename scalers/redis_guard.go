package scalers

import (
	"context"
	"crypto/tls"
	"fmt"
	"math"
	"net"
	"syscall"
	"time"
)

// go-redis sizes what it allocates by the lengths a reply announces, before the data arrives: a
// reply that starts "*1000000000000" makes it ask for terabytes, and the runtime's out-of-memory
// error ends the whole operator, not just the poll. Whatever answers on a trigger's address is
// not trusted (a typo can point it at another service), so every connection reads through
// respGuard, which refuses an announcement no Redis reply to a count could need.

const (
	// respMaxPendingElements bounds the elements announced but not yet received. Each element
	// takes at least 3 bytes on the wire ("_\r\n"), so a stream that keeps its promises is never
	// more in debt than its current reply; a million elements is far beyond the consumer groups or
	// consumers a count reads, and at most tens of MiB of what go-redis allocates for them.
	respMaxPendingElements = 1 << 20
	// respMaxBlob bounds one bulk string; the replies a count reads hold names and IDs.
	respMaxBlob = 64 << 20
	// respMaxHeader bounds the header line kept for parsing: a length needs 20 bytes.
	respMaxHeader = 32
)

// respScanner follows a RESP2/RESP3 byte stream, header by header, without buffering it: it
// keeps the current header line's first bytes, the bytes of a bulk string still to skip, and the
// element debt.
type respScanner struct {
	header    []byte
	skip      int64 // bytes of a bulk string (and its CRLF) still to come
	announced int64 // elements announced by aggregate headers, in total
	received  int64 // bytes received, in total
}

// scan feeds the bytes just read; it fails on the first announcement beyond the bounds.
func (s *respScanner) scan(p []byte) error {
	s.received += int64(len(p))
	for len(p) > 0 {
		if s.skip > 0 {
			n := min(s.skip, int64(len(p)))
			s.skip -= n
			p = p[n:]
			continue
		}
		b := p[0]
		p = p[1:]
		if b != '\n' {
			if len(s.header) < respMaxHeader {
				s.header = append(s.header, b)
			}
			continue
		}
		err := s.endHeader()
		s.header = s.header[:0]
		if err != nil {
			return err
		}
	}
	return nil
}

// endHeader checks a complete header line: its type byte, then a length for the types that have
// one. A line that is not a length (a simple string, an integer, RESP3's streamed "?") is left
// to go-redis to judge.
func (s *respScanner) endHeader() error {
	if len(s.header) == 0 {
		return nil
	}
	n, ok := respLength(s.header[1:])
	if !ok {
		return nil
	}
	switch s.header[0] {
	case '$', '!', '=': // bulk string, bulk error, verbatim string
		if n > respMaxBlob {
			return fmt.Errorf("the server announced a string of %d bytes, more than the %d MiB a count's reply can hold: check that the address is a Redis server", n, respMaxBlob>>20)
		}
		if n >= 0 {
			s.skip = n + 2
		}
	case '*', '~', '>': // array, set, push
		return s.announce(n)
	case '%', '|': // map, attribute: n pairs
		return s.announce(2 * min(n, 1<<40))
	}
	return nil
}

func (s *respScanner) announce(n int64) error {
	if n <= 0 {
		return nil
	}
	s.announced += min(n, 1<<40) // a larger one is refused all the same; the cap keeps the sum from wrapping
	if s.announced-s.received/3 > respMaxPendingElements {
		return fmt.Errorf("the server announced %d elements more than it sent, over the %d a count's reply can hold: check that the address is a Redis server", s.announced-s.received/3, respMaxPendingElements)
	}
	return nil
}

// respLength parses a header's length ("123\r" or "-1\r"); ok is false when it is not one.
func respLength(b []byte) (int64, bool) {
	if len(b) > 0 && b[len(b)-1] == '\r' {
		b = b[:len(b)-1]
	}
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > math.MaxInt64/100 { // beyond every bound: keep it from wrapping around
			continue
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		return -n, true
	}
	return n, true
}

// respGuard is a connection whose reads pass through a respScanner; after a refused
// announcement it fails every read, and go-redis drops it from the pool.
type respGuard struct {
	net.Conn
	scanner respScanner
	err     error
}

func (g *respGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.Conn.Read(p)
	if n > 0 {
		if serr := g.scanner.scan(p[:n]); serr != nil {
			g.err = serr
			_ = g.Conn.Close()
			return 0, serr
		}
	}
	return n, err
}

// respSyscallGuard is a respGuard over a plain TCP connection. go-redis peeks at the socket of a
// pooled connection to find a dead one; the peek consumes nothing, so the scanner stays in step.
type respSyscallGuard struct {
	*respGuard
	sys syscall.Conn
}

func (g respSyscallGuard) SyscallConn() (syscall.RawConn, error) { return g.sys.SyscallConn() }

// guardedRedisDialer dials as go-redis's own dialer does (timeout, TLS when configured) and
// wraps the connection in a respGuard.
func guardedRedisDialer(timeout time.Duration, tlsConfig *tls.Config) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
		var conn net.Conn
		var err error
		if tlsConfig == nil {
			conn, err = dialer.DialContext(ctx, network, addr)
		} else {
			conn, err = (&tls.Dialer{NetDialer: dialer, Config: tlsConfig}).DialContext(ctx, network, addr)
		}
		if err != nil {
			return nil, err
		}
		guard := &respGuard{Conn: conn}
		if sys, ok := conn.(syscall.Conn); ok {
			return respSyscallGuard{respGuard: guard, sys: sys}, nil
		}
		return guard, nil
	}
}
