package scalers

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
)

// FuzzBeanstalkdReply reads arbitrary bytes as a reply to stats-tube: no reply panics or makes
// the reader take more than one line and one bounded body, counts are never negative, a tube is
// found only on an OK reply and missing only on NOT_FOUND, and errors stay short.
func FuzzBeanstalkdReply(f *testing.F) {
	for _, seed := range []string{
		beanstalkdStatsReply(3, 1, 2),
		"OK 0\r\n\r\n",
		"NOT_FOUND\r\n",
		"NOT_FOUND extra\r\n",
		"INTERNAL_ERROR\r\n",
		"OK -2\r\n",
		"OK +4\r\nabcd\r\n",
		"OK 65536\r\n",
		"OK 9223372036854775807\r\n",
		"OK 61\r\ncurrent-jobs-ready: 99999999999999999999\ncurrent-jobs-reserved: 0\n\r\n",
		"OK 47\r\ncurrent-jobs-ready:1\r\ncurrent-jobs-reserved:\t2\n\r\n",
		strings.Repeat("OK ", 100) + "\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, reply []byte) {
		counted := &countingReader{r: bytes.NewReader(reply)}
		stats, found, err := readBeanstalkdStatsTube(bufio.NewReaderSize(counted, beanstalkdMaxLine))
		// bufio reads ahead by at most its buffer beyond what the reply's parts take.
		if limit := 2*beanstalkdMaxLine + beanstalkdMaxStats + 2; counted.n > limit {
			t.Fatalf("read %d bytes of a reply, more than %d", counted.n, limit)
		}
		if err != nil {
			if found {
				t.Fatalf("found with an error %v", err)
			}
			if len(err.Error()) > 300 {
				t.Fatalf("error of %d bytes: %.80q...", len(err.Error()), err)
			}
			return
		}
		if stats.ready < 0 || stats.reserved < 0 || stats.delayed < 0 || stats.jobs(true) < 0 {
			t.Fatalf("negative counts %+v", stats)
		}
		if found && !bytes.HasPrefix(reply, []byte("OK ")) {
			t.Fatalf("found on a reply that is not OK: %q", reply)
		}
		if !found && !bytes.HasPrefix(reply, []byte("NOT_FOUND\r\n")) {
			t.Fatalf("missing on a reply that is not NOT_FOUND: %q", reply)
		}
	})
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
