package scalers

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/kedactl/kedactl/scalers/meta"
)

// A client of beanstalkd's text protocol (doc/protocol.txt in beanstalkd's repository) for the
// one command the trigger sends, stats-tube. KEDA uses github.com/beanstalkd/go-beanstalk; it is
// not used here because it sizes its read buffer from the server's "OK <bytes>" line unchecked (a
// negative size panics, a huge one allocates it) and its calls take no context. Here every read is
// bounded and every request ends with its context.

// beanstalkdMaxLine bounds a reply line; the longest beanstalkd sends is "OK <bytes>" or an error
// word. beanstalkdMaxStats bounds a stats-tube body, a few hundred bytes from a real server.
const (
	beanstalkdMaxLine  = 256
	beanstalkdMaxStats = 64 << 10
)

// errBeanstalkdNotBeanstalkd marks a reply that no beanstalkd sends.
var errBeanstalkdNotBeanstalkd = errors.New("not a beanstalkd reply")

// beanstalkdTubeStats are the counts of a stats-tube reply the trigger reads.
type beanstalkdTubeStats struct {
	ready, reserved, delayed int64
}

// jobs is what KEDA counts: ready and reserved jobs, and delayed ones when asked.
func (s beanstalkdTubeStats) jobs(includeDelayed bool) int64 {
	n := addSat(s.ready, s.reserved)
	if includeDelayed {
		n = addSat(n, s.delayed)
	}
	return n
}

// beanstalkdDialError is a failed connect, with the dial timeout it had.
type beanstalkdDialError struct {
	timeout time.Duration
	err     error
}

func (e *beanstalkdDialError) Error() string { return "could not connect: " + e.err.Error() }
func (e *beanstalkdDialError) Unwrap() error { return e.err }

// beanstalkdConn is a connection to one beanstalkd server, shared by the triggers of that server
// (cfg.Clients). It is dialled at the first request and kept; a request that fails drops it, and
// the next one dials again, since a reply read halfway leaves the stream out of step. beanstalkd
// answers a connection's commands in order, one at a time, so requests take turns.
type beanstalkdConn struct {
	addr string

	// lock (a channel, so that a request waiting for another gives up at its own deadline) guards
	// the fields below.
	lock   chan struct{}
	nc     net.Conn
	r      *bufio.Reader
	closed bool
}

func newBeanstalkdConn(addr string) *beanstalkdConn {
	return &beanstalkdConn{addr: addr, lock: make(chan struct{}, 1)}
}

// statsTube asks for tube's stats; found is false when the server has no such tube. The dial, if
// one is needed, ends within dialTimeout; everything ends with ctx.
func (c *beanstalkdConn) statsTube(ctx context.Context, tube string, dialTimeout time.Duration) (stats beanstalkdTubeStats, found bool, err error) {
	select {
	case c.lock <- struct{}{}:
	case <-ctx.Done():
		return stats, false, fmt.Errorf("waiting for the connection, which another trigger's request holds: %w", ctx.Err())
	}
	defer func() { <-c.lock }()
	if c.closed {
		return stats, false, errors.New("the trigger's scaler is closed")
	}
	if c.nc == nil {
		d := net.Dialer{Timeout: dialTimeout}
		nc, err := d.DialContext(ctx, "tcp", c.addr)
		if err != nil {
			return stats, false, &beanstalkdDialError{timeout: dialTimeout, err: err}
		}
		c.nc, c.r = nc, bufio.NewReaderSize(nc, beanstalkdMaxLine)
	}
	defer func() {
		if err != nil {
			c.drop()
		}
	}()
	deadline, _ := ctx.Deadline() // the zero time, without one, clears an earlier request's
	if err := c.nc.SetDeadline(deadline); err != nil {
		return stats, false, err
	}
	// A context cancelled before its deadline ends the request too.
	stop := context.AfterFunc(ctx, func() { _ = c.nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := io.WriteString(c.nc, "stats-tube "+tube+"\r\n"); err != nil {
		return stats, false, err
	}
	stats, found, err = readBeanstalkdStatsTube(c.r)
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	return stats, found, err
}

// drop closes the network connection; the caller holds the lock.
func (c *beanstalkdConn) drop() {
	if c.nc != nil {
		_ = c.nc.Close()
	}
	c.nc, c.r = nil, nil
}

// close is the pool's: the last trigger of the server is gone.
func (c *beanstalkdConn) close() {
	c.lock <- struct{}{}
	c.closed = true
	c.drop()
	<-c.lock
}

// readBeanstalkdStatsTube reads one reply to stats-tube: "OK <bytes>\r\n<body>\r\n",
// "NOT_FOUND\r\n" or an error word. r's buffer must be at least beanstalkdMaxLine bytes.
func readBeanstalkdStatsTube(r *bufio.Reader) (beanstalkdTubeStats, bool, error) {
	var stats beanstalkdTubeStats
	line, err := r.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return stats, false, fmt.Errorf("answered a line longer than %d bytes (%s): %w", beanstalkdMaxLine, meta.Quote(string(line), 40), errBeanstalkdNotBeanstalkd)
	case errors.Is(err, io.EOF) && len(line) > 0:
		return stats, false, io.ErrUnexpectedEOF
	case err != nil:
		return stats, false, err
	}
	text, ok := bytes.CutSuffix(line, []byte("\r\n"))
	if !ok {
		return stats, false, fmt.Errorf("answered %s, a line not ended by CR LF: %w", meta.Quote(string(line), 60), errBeanstalkdNotBeanstalkd)
	}
	size, err := beanstalkdReplySize(string(text))
	if err != nil || size < 0 {
		return stats, false, err
	}
	body := make([]byte, size+2)
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return stats, false, fmt.Errorf("reading the %d bytes of stats it announced: %w", size, err)
	}
	if !bytes.HasSuffix(body, []byte("\r\n")) {
		return stats, false, fmt.Errorf("sent stats not followed by CR LF: %w", errBeanstalkdNotBeanstalkd)
	}
	stats, err = parseBeanstalkdTubeStats(body[:size])
	return stats, err == nil, err
}

// beanstalkdReplySize reads a stats-tube reply line: the body's size for OK, -1 for NOT_FOUND, an
// error for anything else.
func beanstalkdReplySize(line string) (int, error) {
	// A reply word followed by a space takes an argument; NOT_FOUND and the error words take none.
	word, arg, hasArg := strings.Cut(line, " ")
	switch word {
	case "OK":
		n, err := strconv.Atoi(arg)
		if err != nil || n < 0 || strings.HasPrefix(arg, "+") {
			return 0, fmt.Errorf("answered %s, whose size is not a count: %w", meta.Quote(line, 60), errBeanstalkdNotBeanstalkd)
		}
		if n > beanstalkdMaxStats {
			return 0, fmt.Errorf("announced %d bytes of stats, more than the %d a tube's stats take: %w", n, beanstalkdMaxStats, errBeanstalkdNotBeanstalkd)
		}
		return n, nil
	case "NOT_FOUND":
		if !hasArg {
			return -1, nil
		}
	case "OUT_OF_MEMORY", "INTERNAL_ERROR", "DRAINING", "BAD_FORMAT", "UNKNOWN_COMMAND":
		// The protocol's errors, which any command may get.
		if !hasArg {
			return 0, fmt.Errorf("beanstalkd answered %s", word)
		}
	}
	return 0, fmt.Errorf("answered %s: %w", meta.Quote(line, 60), errBeanstalkdNotBeanstalkd)
}

// parseBeanstalkdTubeStats reads a stats-tube body, a YAML dictionary of one "key: value" a line
// after a "---" line. Only the counts the trigger uses are read; each must be there, as every
// beanstalkd sends them, and be a count.
func parseBeanstalkdTubeStats(body []byte) (beanstalkdTubeStats, error) {
	var stats beanstalkdTubeStats
	fields := []struct {
		key  string
		dst  *int64
		seen bool
	}{
		{key: "current-jobs-ready", dst: &stats.ready},
		{key: "current-jobs-reserved", dst: &stats.reserved},
		{key: "current-jobs-delayed", dst: &stats.delayed},
	}
	for line := range bytes.SplitSeq(body, []byte("\n")) {
		key, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		for i := range fields {
			f := &fields[i]
			if string(bytes.TrimSpace(key)) != f.key {
				continue
			}
			v := string(bytes.TrimSpace(value))
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return beanstalkdTubeStats{}, fmt.Errorf("sent %s %s, which is not a count: %w", f.key, meta.Quote(v, 40), errBeanstalkdNotBeanstalkd)
			}
			*f.dst, f.seen = n, true
		}
	}
	for _, f := range fields {
		if !f.seen {
			return beanstalkdTubeStats{}, fmt.Errorf("sent stats without %s: %w", f.key, errBeanstalkdNotBeanstalkd)
		}
	}
	return stats, nil
}
