package app

import "net/http"

// StatusWriter records the status and the size of a response as it is
// written, for the access log and the metrics, which both wrap the
// handler.
type StatusWriter struct {
	http.ResponseWriter
	Status, Bytes int
	// Pattern is the pattern of the innermost ServeMux that matched the
	// request (metrics.Routes writes it), for the metrics' label.
	Pattern string
}

// FindStatusWriter returns the StatusWriter that w is or wraps (through
// Unwrap, as http.ResponseController walks), or nil.
func FindStatusWriter(w http.ResponseWriter) *StatusWriter {
	for {
		switch v := w.(type) {
		case *StatusWriter:
			return v
		case interface{ Unwrap() http.ResponseWriter }:
			w = v.Unwrap()
		default:
			return nil
		}
	}
}

// WriteHeader records the first status written.
func (w *StatusWriter) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records a 200 when the handler wrote no status first.
func (w *StatusWriter) Write(p []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.Bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
