package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"

	analytics "github.com/codestory/analytics"
)

// StatusFor maps an error kind to its HTTP status; the one place this is decided.
func StatusFor(k analytics.Kind) int {
	switch k {
	case analytics.KindInvalid:
		return http.StatusBadRequest
	case analytics.KindUnauthenticated:
		return http.StatusUnauthorized
	case analytics.KindForbidden:
		return http.StatusForbidden
	case analytics.KindRateLimited:
		return http.StatusTooManyRequests
	case analytics.KindNotFound:
		return http.StatusNotFound
	case analytics.KindConflict:
		return http.StatusConflict
	case analytics.KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case analytics.KindUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeError writes {"error": reason}: the error's own message for a 4xx,
// "internal error" for a 5xx (whose detail goes to the log).
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	kind := analytics.ErrorKind(err)
	status := StatusFor(kind)
	if status >= 500 {
		s.log.ErrorContext(r.Context(), "request failed", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="codestory-analytics"`)
	}
	writeJSON(w, status, map[string]string{"error": analytics.ErrorMessage(err)})
}
