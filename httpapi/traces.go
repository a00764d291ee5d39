package httpapi

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/otlp"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
)

func init() {
	openAPIOps["POST /v1/traces"] = op("Ingest OpenTelemetry GenAI spans (OTLP/HTTP)", "ingest",
		"An OTLP ExportTraceServiceRequest as application/x-protobuf or application/json, optionally with Content-Encoding: gzip; bearer ingest key. "+
			"Each span with GenAI usage becomes an api_call event (id = trace id + span id in hex) and goes through the same ingest as POST /v1/events; "+
			"other spans are ignored. Bad spans are counted in partial_success (rejected_spans, error_message); their neighbours are stored. "+
			"The response is an ExportTraceServiceResponse in the request's encoding; a failure is a google.rpc.Status. See docs/instrumenting.md.",
		resp("200", ""), errs("400", "401", "403", "413", "415", "503"))
}

// maxRejectionMessages caps how many span rejections partial_success names.
const maxRejectionMessages = 10

func (s *Server) handleTraces(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	defer func() { s.Metrics.OTLPRequests.WithLabelValues(strconv.Itoa(rec.status)).Inc() }()
	s.traces(rec, r)
}

func (s *Server) traces(w http.ResponseWriter, r *http.Request) {
	format := otlp.FormatProtobuf
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if f, ok := otlp.FormatOf(mt); err == nil && ok {
		format = f
	} else {
		w.Header().Set("Accept", "application/x-protobuf, application/json")
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "Content-Type must be application/x-protobuf or application/json"})
		return
	}
	fail := func(err error) { s.writeOTLPError(w, r, format, err) }

	if err := s.ingestKey(r, "POST /v1/traces"); err != nil {
		fail(err)
		return
	}
	body, err := s.readOTLPBody(w, r)
	if err != nil {
		fail(err)
		return
	}
	req, err := otlp.Decode(body, format)
	if err != nil {
		fail(analytics.Errorf(analytics.KindInvalid, "%v", err))
		return
	}
	batch := otlp.Map(req)
	if len(batch.Events) > analytics.MaxBatchEvents {
		fail(analytics.Errorf(analytics.KindTooLarge, "export has more than %d spans with GenAI usage", analytics.MaxBatchEvents))
		return
	}
	res := analytics.IngestResult{Rejected: []analytics.Rejection{}}
	if len(batch.Events) > 0 {
		start := time.Now()
		res, err = s.Ingester.Ingest(r.Context(), batch.Events)
		if err != nil {
			s.Metrics.IngestBatch.WithLabelValues("error").Observe(time.Since(start).Seconds())
			if analytics.ErrorKind(err) == analytics.KindInternal {
				// Nothing was committed and a retry is safe (ids are
				// idempotent): OTLP exporters retry a 503, not a 500.
				s.log.ErrorContext(r.Context(), "trace ingest failed", "err", err)
				err = analytics.Errorf(analytics.KindUnavailable, "the events could not be stored; retry")
			}
			fail(err)
			return
		}
		s.Metrics.IngestBatch.WithLabelValues("ok").Observe(time.Since(start).Seconds())
	}
	s.countIngested(res)

	var msgs []string
	for _, rj := range batch.Rejected {
		msgs = append(msgs, fmt.Sprintf("span %s: %s", rj.Span, rj.Error))
	}
	for _, rj := range res.Rejected {
		msgs = append(msgs, fmt.Sprintf("span %s: %s", batch.Spans[rj.Index], rj.Error))
	}
	rejected := len(msgs)
	s.Metrics.OTLPSpans.WithLabelValues("mapped").Add(float64(len(batch.Events) - len(res.Rejected)))
	s.Metrics.OTLPSpans.WithLabelValues("ignored").Add(float64(batch.Ignored))
	s.Metrics.OTLPSpans.WithLabelValues("rejected").Add(float64(rejected))
	for conv, n := range batch.Conventions {
		s.Metrics.OTLPConventions.WithLabelValues(conv).Add(float64(n))
	}

	out := &coltracepb.ExportTraceServiceResponse{}
	if rejected > 0 {
		if len(msgs) > maxRejectionMessages {
			msgs = append(msgs[:maxRejectionMessages], fmt.Sprintf("and %d more", rejected-maxRejectionMessages))
		}
		out.PartialSuccess = &coltracepb.ExportTracePartialSuccess{
			RejectedSpans: int64(rejected),
			ErrorMessage:  strings.Join(msgs, "; "),
		}
	}
	writeOTLP(w, http.StatusOK, format, out)
}

// readOTLPBody reads the body under the same limit as /v1/events; with
// Content-Encoding: gzip the limit applies to the compressed and to the
// decompressed size.
func (s *Server) readOTLPBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	tooLarge := analytics.Errorf(analytics.KindTooLarge, "body is larger than %d bytes", s.MaxBodyBytes)
	if r.ContentLength > s.MaxBodyBytes {
		return nil, tooLarge
	}
	var src io.Reader = http.MaxBytesReader(w, r.Body, s.MaxBodyBytes)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, readErr(err, tooLarge, "gzip")
		}
		defer zr.Close()
		src = io.LimitReader(zr, s.MaxBodyBytes+1)
	default:
		return nil, analytics.Errorf(analytics.KindInvalid, "Content-Encoding %q is not supported (use gzip or none)", enc)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(src); err != nil {
		return nil, readErr(err, tooLarge, "body")
	}
	if int64(buf.Len()) > s.MaxBodyBytes {
		return nil, tooLarge
	}
	return buf.Bytes(), nil
}

func readErr(err, tooLarge error, what string) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge
	}
	return analytics.Errorf(analytics.KindInvalid, "reading %s: %v", what, err)
}

// writeOTLPError answers with a google.rpc.Status in the request's encoding,
// as OTLP/HTTP asks; the status code follows the error kind as everywhere.
func (s *Server) writeOTLPError(w http.ResponseWriter, r *http.Request, f otlp.Format, err error) {
	status := StatusFor(analytics.ErrorKind(err))
	if status == http.StatusInternalServerError {
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="codestory-analytics"`)
	}
	if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	writeOTLP(w, status, f, &statuspb.Status{Code: grpcCode(status), Message: analytics.ErrorMessage(err)})
}

// grpcCode is the google.rpc.Code that matches an HTTP status.
func grpcCode(status int) int32 {
	switch status {
	case http.StatusBadRequest:
		return 3 // INVALID_ARGUMENT
	case http.StatusUnauthorized:
		return 16 // UNAUTHENTICATED
	case http.StatusForbidden:
		return 7 // PERMISSION_DENIED
	case http.StatusRequestEntityTooLarge:
		return 8 // RESOURCE_EXHAUSTED
	case http.StatusTooManyRequests:
		return 8 // RESOURCE_EXHAUSTED
	case http.StatusServiceUnavailable:
		return 14 // UNAVAILABLE
	}
	return 13 // INTERNAL
}

func writeOTLP(w http.ResponseWriter, status int, f otlp.Format, m proto.Message) {
	b, err := otlp.Encode(m, f)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", f.ContentType())
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
