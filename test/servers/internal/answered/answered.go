// Package answered lets a test server note the status of each answer it wrote, for the request
// log the contract fakes keep.
package answered

import "net/http"

// Writer is an http.ResponseWriter that remembers the status it was given (200 until then).
type Writer struct {
	http.ResponseWriter
	Status int
}

// New wraps w.
func New(w http.ResponseWriter) *Writer {
	return &Writer{ResponseWriter: w, Status: http.StatusOK}
}

// WriteHeader remembers code and passes it on.
func (w *Writer) WriteHeader(code int) {
	w.Status = code
	w.ResponseWriter.WriteHeader(code)
}
