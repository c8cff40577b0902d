package meta

// Clip cuts s to at most n bytes (and "..."), for an error that quotes what a source answered.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
