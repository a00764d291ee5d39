package httpapi

import (
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"strings"

	analytics "github.com/codestory/analytics"
)

// errEncoding is the refusal of a Content-Encoding other than gzip.
var errEncoding = analytics.Errorf(analytics.KindInvalid, "Content-Encoding must be gzip or identity")

// decodedBody is the request body of /v1/events, limited to MaxBodyBytes
// both as sent and, for Content-Encoding: gzip, once decompressed (a zip
// bomb reads as a body over the limit: 413).
func (s *Server) decodedBody(w http.ResponseWriter, r *http.Request) (io.Reader, error) {
	body := http.MaxBytesReader(w, r.Body, s.MaxBodyBytes)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		return body, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, analytics.Errorf(analytics.KindTooLarge, "body is larger than %d bytes", s.MaxBodyBytes)
			}
			return nil, analytics.Errorf(analytics.KindInvalid, "Content-Encoding is gzip but the body is not gzip data")
		}
		return &limitReader{r: zr, left: s.MaxBodyBytes, max: s.MaxBodyBytes}, nil
	}
	w.Header().Set("Accept-Encoding", "gzip")
	return nil, errEncoding
}

// limitReader fails with *http.MaxBytesError past its limit, like
// http.MaxBytesReader, so the caller maps both limits the same way.
type limitReader struct {
	r    io.Reader
	left int64
	max  int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One byte more tells a body of exactly the limit from a larger one.
		var b [1]byte
		if n, _ := l.r.Read(b[:]); n > 0 {
			return 0, &http.MaxBytesError{Limit: l.max}
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}
