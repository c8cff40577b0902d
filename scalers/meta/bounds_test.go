package meta

import (
	"strconv"
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	tests := []struct {
		name string
		s    string
		n    int
		want string
	}{
		{name: "short", s: "abc", n: 10, want: `"abc"`},
		{name: "exactly n", s: "abcde", n: 5, want: `"abcde"`},
		{name: "cut", s: "abcdef", n: 5, want: `"abcde..."`},
		{name: "escapes count", s: "a\x8d\x8d", n: 6, want: `"a\x8d..."`},
		{name: "no half escape", s: "\x8d\x8d", n: 6, want: `"\x8d..."`},
		{name: "quotes escaped", s: `say "hi"`, n: 20, want: `"say \"hi\""`},
		{name: "utf-8 kept whole", s: "héllo", n: 3, want: `"hé..."`},
		{name: "empty", s: "", n: 5, want: `""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Quote(tt.s, tt.n); got != tt.want {
				t.Errorf("Quote(%q, %d) = %s, want %s", tt.s, tt.n, got, tt.want)
			}
		})
	}
}

// TestQuoteBoundsLength: whatever the bytes, the quoted form takes at most n bytes of quoted
// text, the quotes and "...", and unquotes to a prefix of s when it was not cut.
func TestQuoteBoundsLength(t *testing.T) {
	for _, s := range []string{strings.Repeat("\x8d", 100), strings.Repeat("é", 100), strings.Repeat("a\n", 100)} {
		for n := 0; n < 20; n++ {
			got := Quote(s, n)
			if len(got) > n+5 {
				t.Fatalf("Quote(%q, %d) = %s: %d bytes", s[:4], n, got, len(got))
			}
			if _, err := strconv.Unquote(got); err != nil {
				t.Fatalf("Quote(%q, %d) = %s, not a Go string: %v", s[:4], n, got, err)
			}
		}
	}
}
