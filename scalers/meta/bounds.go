package meta

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Clip cuts s to at most n bytes (and "..."), for an error that quotes what a source answered.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// Quote is s Go-quoted, cut (with "..." inside the quotes) so that the quoted text stays within
// n bytes: quoting turns one unprintable byte into four, so clipping before quoting does not
// bound what an error quoting a source's answer grows to. An escape is never cut in half.
func Quote(s string, n int) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		_, size := utf8.DecodeRuneInString(s[i:])
		piece := strconv.Quote(s[i : i+size])
		piece = piece[1 : len(piece)-1]
		if b.Len()-1+len(piece) > n {
			b.WriteString(`..."`)
			return b.String()
		}
		b.WriteString(piece)
		i += size
	}
	b.WriteByte('"')
	return b.String()
}
