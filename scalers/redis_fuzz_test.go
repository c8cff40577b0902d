package scalers

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
)

// serveRESP answers a connection as a Redis server on 127.0.0.1 would: the connection handshake
// as an old Redis (no HELLO), and the measuring command with the current fuzz input, then it
// hangs up, so that an answer cut short ends in EOF instead of a wait.
func serveRESP(s *fuzzTCPServer, c net.Conn) {
	r := bufio.NewReader(c)
	for {
		args, err := readRESPCommand(r)
		if err != nil {
			return
		}
		switch strings.ToUpper(args[0]) {
		case "HELLO":
			_, _ = io.WriteString(c, "-ERR unknown command 'HELLO'\r\n")
		case "CLIENT", "SELECT", "AUTH", "PING":
			_, _ = io.WriteString(c, "+OK\r\n")
		default:
			_, _ = c.Write(s.reply())
			return
		}
	}
}

// readRESPCommand reads one command as clients send them: an array of bulk strings.
func readRESPCommand(r *bufio.Reader) ([]string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "*")))
	if err != nil || n < 1 {
		return nil, fmt.Errorf("not a command: %q", line)
	}
	args := make([]string, n)
	for i := range args {
		if line, err = r.ReadString('\n'); err != nil {
			return nil, err
		}
		size, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "$")))
		if err != nil || size < 0 {
			return nil, fmt.Errorf("not a bulk string: %q", line)
		}
		buf := make([]byte, size+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		args[i] = string(buf[:size])
	}
	return args, nil
}

// fuzzRedisTriggers are the measurements a fuzz byte picks: list length, stream length, pending
// entries and lag.
var fuzzRedisTriggers = []struct {
	typ  string
	meta map[string]string
}{
	{"redis", map[string]string{"listName": "jobs", "listLength": "5", "activationListLength": "2"}},
	{"redis-streams", map[string]string{"stream": "s", "streamLength": "5", "activationLagCount": "2"}},
	{"redis-streams", map[string]string{"stream": "s", "consumerGroup": "g", "pendingEntriesCount": "5", "activationLagCount": "2"}},
	{"redis-streams", map[string]string{"stream": "s", "consumerGroup": "g", "lagCount": "5", "activationLagCount": "2"}},
}

// FuzzRedisReply serves arbitrary RESP replies to each Redis measurement (LLEN, XLEN, XPENDING,
// XINFO GROUPS) through go-redis: a poll reads a count of 0 or more, or fails with an error that
// names the trigger; it never panics or hangs.
func FuzzRedisReply(f *testing.F) {
	for i, reply := range []string{
		":42\r\n", ":0\r\n", ":-5\r\n", ":9223372036854775807\r\n", ":99999999999999999999\r\n", "$-1\r\n", "_\r\n",
		"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", "+OK\r\n", "$2\r\n12\r\n", ":1", "",
	} {
		f.Add(uint8(i%2), []byte(reply))
	}
	for _, reply := range []string{
		"*4\r\n:3\r\n$3\r\n1-0\r\n$3\r\n5-0\r\n*1\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n",
		"*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n",
		"*4\r\n:-3\r\n$-1\r\n$-1\r\n*0\r\n",
		"*4\r\n:3\r\n$3\r\n1-0\r\n$3\r\n5-0\r\n*1\r\n*2\r\n$1\r\nc\r\n$1\r\nx\r\n",
		"*2\r\n:1\r\n",
		"-NOGROUP No such key 's' or consumer group 'g'\r\n",
		"*0\r\n",
	} {
		f.Add(uint8(2), []byte(reply))
	}
	group := func(name, lag string) string {
		return "*1\r\n*12\r\n$4\r\nname\r\n$" + strconv.Itoa(len(name)) + "\r\n" + name + "\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:2\r\n" +
			"$17\r\nlast-delivered-id\r\n$3\r\n5-0\r\n$12\r\nentries-read\r\n:5\r\n$3\r\nlag\r\n" + lag
	}
	for _, reply := range []string{group("g", ":7\r\n"), group("g", "$-1\r\n"), group("g", ":-2\r\n"), group("other", ":7\r\n"), group("g", "$1\r\n7\r\n"), "*1\r\n*1\r\n$4\r\nname\r\n", "*0\r\n"} {
		f.Add(uint8(3), []byte(reply))
	}
	srv := newFuzzTCPServer(f, serveRESP)
	f.Fuzz(func(t *testing.T, which uint8, reply []byte) {
		tr := fuzzRedisTriggers[int(which)%len(fuzzRedisTriggers)]
		meta := map[string]string{"address": srv.lis.Addr().String()}
		for k, v := range tr.meta {
			meta[k] = v
		}
		s, err := New(context.Background(), &Config{TriggerType: tr.typ, TriggerIndex: 7, Timeout: fuzzPollTimeout, TriggerMetadata: meta})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close(context.Background())
		srv.set(reply)
		vals, active, err := poll(t, s, "s7-redis")
		if err != nil {
			checkErr(t, err, "trigger 7 ("+tr.typ+")")
			return
		}
		if len(vals) != 1 {
			t.Fatalf("poll gave %+v", vals)
		}
		n := vals[0].Value.Value()
		if n < 0 || active != (n > 2) {
			t.Fatalf("reply %q: value %d, active %t", reply, n, active)
		}
	})
}
