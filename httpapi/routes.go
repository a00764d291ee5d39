package httpapi

import "net/http"

// routes registers every endpoint; this is the whole HTTP surface.
func (s *Server) routes() {
	s.mux.Handle("POST /v1/events", http.HandlerFunc(s.handleIngest))
	s.mux.Handle("GET /healthz", http.HandlerFunc(s.handleHealthz))
	s.mux.Handle("GET /readyz", http.HandlerFunc(s.handleReadyz))
}
