package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/codestory/analytics/auth"
	"github.com/codestory/analytics/guard"
	"github.com/codestory/analytics/httpapi"
)

// Server is an HTTP server ingesting into a database, started in the
// bench's own process.
type Server struct {
	URL       string // http://127.0.0.1:PORT
	IngestKey string
	// Wiring says how the server was built, for the report.
	Wiring string
	Stop   func() error
}

// ServerStarter starts a server on db (in --db form) listening on
// 127.0.0.1:0, with an ingest key.
type ServerStarter func(ctx context.Context, db string) (*Server, error)

// ServeHandler serves h on a fresh 127.0.0.1 port until stop is called.
func ServeHandler(h http.Handler) (url string, stop func() error, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	stop = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := hs.Shutdown(ctx)
		if serr := <-done; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		return err
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// ingestOnlyServer is the HTTP front door with only what POST /v1/events
// needs: the ingest handler, ingest-key authentication, the ingester over
// the store. The command uses the whole application instead, wired as
// `serve` wires it, where the engine allows.
func ingestOnlyServer(eng engine, pricer analytics.Pricer) ServerStarter {
	return func(ctx context.Context, db string) (*Server, error) {
		s, err := eng.open(ctx, db)
		if err != nil {
			return nil, err
		}
		key := auth.NewSecret(auth.IngestKeyPrefix)
		if _, err := s.CreateIngestKey(ctx, "bench", auth.HashSecret(key)); err != nil {
			s.Close()
			return nil, err
		}
		h := httpapi.NewServer(httpapi.Deps{
			Store:    s,
			Auth:     &auth.Authenticator{Keys: s},
			Ingester: &analytics.Ingester{Store: s, Pricer: pricer},
			Tools:    &analytics.Tools{Store: s},
			Guard:    guard.New(guard.Config{}),
		})
		url, stop, err := ServeHandler(h)
		if err != nil {
			s.Close()
			return nil, err
		}
		return &Server{URL: url, IngestKey: key, Wiring: "ingest handler only (httpapi + store)",
			Stop: func() error { return errors.Join(stop(), s.Close()) }}, nil
	}
}

// postBatches sends every body to url's POST /v1/events from clients
// concurrent clients and checks every event was accepted.
func postBatches(ctx context.Context, url, key string, bodies [][]byte, clients int) error {
	tr := &http.Transport{MaxIdleConnsPerHost: clients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Minute}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) || ctx.Err() != nil {
					return
				}
				if err := postOne(ctx, client, url, key, bodies[i]); err != nil {
					errs <- fmt.Errorf("batch %d: %w", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func postOne(ctx context.Context, client *http.Client, url, key string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, "POST", url+"/v1/events", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/x-ndjson")
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %s", res.StatusCode, b)
	}
	var r analytics.IngestResult
	if err := json.Unmarshal(b, &r); err != nil {
		return err
	}
	if len(r.Rejected) > 0 {
		return fmt.Errorf("event %q rejected: %s", r.Rejected[0].ID, r.Rejected[0].Error)
	}
	if r.Duplicates > 0 {
		return fmt.Errorf("%d duplicates in a batch of fresh events", r.Duplicates)
	}
	return nil
}
