package httpapi

import (
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/metrics"
)

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

func (s *Server) handleIngest(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	defer func() { s.Metrics.IngestRequests.WithLabelValues(strconv.Itoa(rec.status)).Inc() }()
	s.ingest(rec, r)
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (s *Server) ingest(w http.ResponseWriter, r *http.Request) {
	if err := s.ingestKey(r, "POST /v1/events"); err != nil {
		s.writeError(w, r, err)
		return
	}
	ndjson := false
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		switch {
		case err != nil:
			s.writeError(w, r, analytics.Errorf(analytics.KindInvalid, "bad Content-Type %q", ct))
			return
		case mt == "application/x-ndjson" || mt == "application/ndjson" || mt == "application/jsonl":
			ndjson = true
		case mt == "application/json":
		default:
			w.Header().Set("Accept", "application/json, application/x-ndjson")
			writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "Content-Type must be application/json or application/x-ndjson"})
			return
		}
	}
	if r.ContentLength > s.MaxBodyBytes {
		s.writeError(w, r, analytics.Errorf(analytics.KindTooLarge, "body is larger than %d bytes", s.MaxBodyBytes))
		return
	}
	body, err := s.decodedBody(w, r)
	if err != nil {
		if errors.Is(err, errEncoding) {
			writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": err.Error()})
			return
		}
		s.writeError(w, r, err)
		return
	}
	raws, err := analytics.RawEvents(body, ndjson)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			err = analytics.Errorf(analytics.KindTooLarge, "body is larger than %d bytes", s.MaxBodyBytes)
		} else if analytics.ErrorKind(err) == analytics.KindInternal {
			err = analytics.Errorf(analytics.KindInvalid, "reading body: %s", analytics.CutUTF8(err.Error(), 200))
		}
		s.writeError(w, r, err)
		return
	}
	start := time.Now()
	res, err := s.Ingester.Ingest(r.Context(), raws)
	if err != nil {
		s.Metrics.IngestBatch.WithLabelValues("error").Observe(time.Since(start).Seconds())
		s.writeError(w, r, err)
		return
	}
	s.Metrics.IngestBatch.WithLabelValues("ok").Observe(time.Since(start).Seconds())
	s.countIngested(res)
	writeJSON(w, http.StatusOK, res)
}

// ingestKey authenticates the ingest side (/v1/events, /v1/traces,
// /v1/budget-check): a bearer ingest key, never an admin credential.
func (s *Server) ingestKey(r *http.Request, route string) error {
	token := bearer(r)
	if token == "" {
		return analytics.Errorf(analytics.KindUnauthenticated, "missing bearer ingest key")
	}
	p, err := s.Auth.Bearer(r.Context(), token)
	if err != nil {
		return err
	}
	if !p.IsIngest() {
		return analytics.Errorf(analytics.KindForbidden, "%s needs an ingest key, not an admin token", route)
	}
	return nil
}

// countIngested adds a batch's outcome to the ingest metrics, whichever
// door it came through.
func (s *Server) countIngested(res analytics.IngestResult) {
	s.Metrics.IngestEvents.WithLabelValues("accepted").Add(float64(res.Accepted))
	s.Metrics.IngestEvents.WithLabelValues("duplicate").Add(float64(res.Duplicates))
	s.Metrics.IngestEvents.WithLabelValues("rejected").Add(float64(len(res.Rejected)))
	for _, rj := range res.Rejected {
		s.Metrics.IngestRejected.WithLabelValues(metrics.Reason(rj.Error)).Inc()
	}
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	// Anyone may ask: the answer names a failing dependency, never its
	// error text (addresses, user names); that goes to the log.
	checks := map[string]string{"database": "ok"}
	status := http.StatusOK
	if err := s.Store.Ping(r.Context()); err != nil {
		checks["database"] = "unavailable"
		status = http.StatusServiceUnavailable
		s.log.Error("readyz: database unavailable", "err", err)
	}
	for name, check := range s.Ready {
		checks[name] = "ok"
		if err := check(r.Context()); err != nil {
			checks[name] = "unavailable"
			status = http.StatusServiceUnavailable
			s.log.Error("readyz: dependency unavailable", "dependency", name, "err", err)
		}
	}
	writeJSON(w, status, map[string]any{"status": map[bool]string{true: "ready", false: "not ready"}[status == http.StatusOK], "checks": checks})
}
