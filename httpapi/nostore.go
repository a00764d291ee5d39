package httpapi

import (
	"net/http"
	"strings"
)

// noStoreWriter keeps API responses out of caches even when a handler
// (such as the MCP SDK's event streams) asks only for no-cache: no-cache
// still lets a cache store the response, no-store does not.
type noStoreWriter struct {
	http.ResponseWriter
	fixed bool
}

func (w *noStoreWriter) fix() {
	if w.fixed {
		return
	}
	w.fixed = true
	h := w.Header()
	if cc := h.Get("Cache-Control"); strings.Contains(cc, "no-cache") && !strings.Contains(cc, "no-store") {
		h.Set("Cache-Control", strings.Replace(cc, "no-cache", "no-store", 1))
	}
}

func (w *noStoreWriter) WriteHeader(code int) {
	w.fix()
	w.ResponseWriter.WriteHeader(code)
}

func (w *noStoreWriter) Write(b []byte) (int, error) {
	w.fix()
	return w.ResponseWriter.Write(b)
}

// Flush lets event streams through (the SDK flushes each event).
func (w *noStoreWriter) Flush() {
	w.fix()
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the real writer.
func (w *noStoreWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
