package scalers

import (
	"strings"
	"testing"
)

func TestRESPScanner(t *testing.T) {
	nested := strings.Repeat("*1000000\r\n", 3)
	for _, tt := range []struct {
		name   string
		stream string
		refuse string // a part of the error, or "" to pass
	}{
		{name: "integer", stream: ":42\r\n"},
		{name: "null string and null array", stream: "$-1\r\n*-1\r\n_\r\n"},
		{name: "bulk string holding what looks like a header", stream: "$14\r\n*9999999999\r\n\r\n:1\r\n"},
		{name: "XPENDING summary", stream: "*4\r\n:3\r\n$3\r\n1-0\r\n$3\r\n5-0\r\n*1\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n"},
		{name: "RESP3 map and attribute", stream: "|1\r\n+ttl\r\n:3\r\n%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n"},
		{name: "streamed string is left to go-redis", stream: "$?\r\n;4\r\nHell\r\n;0\r\n"},
		{name: "a million elements, then sent", stream: "*1000000\r\n" + strings.Repeat(":1\r\n", 1000000)},
		{name: "array of a trillion", stream: "*1000000000000\r\n", refuse: "announced"},
		{name: "length beyond int64", stream: "*99999999999999999999999999\r\n", refuse: "announced"},
		{name: "map of a trillion pairs", stream: "%1000000000000\r\n", refuse: "announced"},
		{name: "string of 100 GB", stream: "$100000000000\r\n", refuse: "a string of 100000000000 bytes"},
		{name: "nested arrays promise more than they send", stream: nested, refuse: "more than it sent"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// Whole, and one byte at a time: a read may end anywhere in a header.
			for _, chunk := range []int{len(tt.stream), 1} {
				var s respScanner
				var err error
				for i := 0; i < len(tt.stream) && err == nil; i += chunk {
					err = s.scan([]byte(tt.stream[i:min(i+chunk, len(tt.stream))]))
				}
				switch {
				case tt.refuse == "" && err != nil:
					t.Errorf("chunks of %d: refused: %v", chunk, err)
				case tt.refuse != "" && (err == nil || !strings.Contains(err.Error(), tt.refuse)):
					t.Errorf("chunks of %d: error %v, want one saying %q", chunk, err, tt.refuse)
				case err != nil && !strings.Contains(err.Error(), "check that the address is a Redis server"):
					t.Errorf("error %q names no fix", err)
				}
			}
		})
	}
}
