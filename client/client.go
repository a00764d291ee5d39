// Package client sends events to CodeStory Analytics (POST /v1/events) from
// Go services: it batches by size and by interval, retries with backoff and
// jitter, gives every event an id so that a retry never counts twice, and
// keeps memory bounded. AnthropicMiddleware records every Claude Messages call
// made with anthropic-sdk-go as a priced api_call.
//
//	c := client.New("https://analytics.example.com", os.Getenv("ANALYTICS_INGEST_KEY"))
//	defer c.Close(context.Background())
//	c.Send(ctx, client.Event{Type: "story_created", UserID: "u1", StoryID: "s1"})
package client

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Event is one event of the event contract (see DESIGN.md, "Event
// contract"). Zero fields are left out. ID may be empty: Send gives the event
// a unique one. Timestamp may be zero: Send stamps it with the current time.
type Event struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	UserID    string    `json:"user_id,omitempty"`

	// api_call
	Service                  string         `json:"service,omitempty"`
	Operation                string         `json:"operation,omitempty"`
	Model                    string         `json:"model,omitempty"`
	InputTokens              int64          `json:"input_tokens,omitempty"` // uncached input only
	OutputTokens             int64          `json:"output_tokens,omitempty"`
	CacheCreationInputTokens int64          `json:"cache_creation_input_tokens,omitempty"`
	CacheCreation            *CacheCreation `json:"cache_creation,omitempty"`
	CacheReadInputTokens     int64          `json:"cache_read_input_tokens,omitempty"`
	Characters               int64          `json:"characters,omitempty"`
	BytesTransferred         int64          `json:"bytes_transferred,omitempty"`
	Requests                 int64          `json:"requests,omitempty"`
	Status                   string         `json:"status,omitempty"` // "ok" (default) or "error"
	CostCents                json.Number    `json:"cost_cents,omitempty"`

	// story events
	StoryID      string      `json:"story_id,omitempty"`
	Chapters     int64       `json:"chapters,omitempty"`
	AudioSeconds json.Number `json:"audio_seconds,omitempty"`

	// payment, refund
	AmountCents int64 `json:"amount_cents,omitempty"`
	// user_signup
	Email string `json:"email,omitempty"`
}

// CacheCreation splits cache writes by time to live (Anthropic's
// usage.cache_creation).
type CacheCreation struct {
	Ephemeral5mInputTokens int64 `json:"ephemeral_5m_input_tokens"`
	Ephemeral1hInputTokens int64 `json:"ephemeral_1h_input_tokens"`
}

// Stats are the client's counters since New.
type Stats struct {
	Accepted   int64 // stored by the server
	Duplicates int64 // already stored (a retry of a batch that had arrived)
	Rejected   int64 // refused by the server one by one (the reason is logged)
	Dropped    int64 // never delivered: buffer full in drop mode, a batch refused whole, or Close gave up
	Retries    int64 // attempts that were retried
}

// ErrClosed is returned by Send and Flush after Close.
var ErrClosed = errors.New("analytics client is closed")

// Defaults of the options.
const (
	DefaultBatchSize     = 500
	DefaultFlushInterval = time.Second
	DefaultBufferSize    = 10_000
	DefaultMinBackoff    = 100 * time.Millisecond
	DefaultMaxBackoff    = 30 * time.Second
)

// Option configures a Client.
type Option func(*Client)

// WithBatchSize sends a batch as soon as it holds n events (default 500;
// the server takes at most 10,000).
func WithBatchSize(n int) Option { return func(c *Client) { c.batchSize = n } }

// WithFlushInterval sends whatever is buffered at least this often (default 1 s).
func WithFlushInterval(d time.Duration) Option { return func(c *Client) { c.interval = d } }

// WithBufferSize bounds the events waiting to be sent (default 10,000). With
// the batch being sent, at most BufferSize + BatchSize events are in memory.
func WithBufferSize(n int) Option { return func(c *Client) { c.bufferSize = n } }

// WithDropWhenFull makes Send drop (and count in Stats.Dropped) events that
// do not fit in a full buffer, instead of blocking until there is room (the
// default).
func WithDropWhenFull() Option { return func(c *Client) { c.dropWhenFull = true } }

// WithBackoff sets the retry delays: the first retry waits about min, each
// next one twice as long, up to max, with random jitter (defaults 100 ms, 30 s).
// A Retry-After from the server is honoured instead when it is longer.
func WithBackoff(min, max time.Duration) Option {
	return func(c *Client) { c.minBackoff, c.maxBackoff = min, max }
}

// WithHTTPClient sets the HTTP client (default: a client of its own, whose
// idle connections Close closes).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http, c.ownHTTP = h, false } }

// WithLogger sets where delivery problems are logged (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// Client batches and delivers events. It is safe for concurrent use.
type Client struct {
	url, key                 string
	http                     *http.Client
	ownHTTP                  bool
	log                      *slog.Logger
	batchSize, bufferSize    int
	interval                 time.Duration
	minBackoff, maxBackoff   time.Duration
	dropWhenFull             bool
	queue                    chan Event
	flushReq                 chan chan struct{}
	closing, stop, done      chan struct{}
	abort                    context.CancelFunc
	abortCtx                 context.Context
	mu                       sync.RWMutex // held for reading while a Send enqueues
	closed                   bool
	closeOnce                sync.Once
	accepted, duplicates     atomic.Int64
	rejected, dropped, retry atomic.Int64
}

// New starts a client that sends to baseURL's /v1/events with the ingest key.
func New(baseURL, ingestKey string, opts ...Option) *Client {
	c := &Client{
		url: strings.TrimSuffix(baseURL, "/") + "/v1/events", key: ingestKey,
		http: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: 30 * time.Second}, ownHTTP: true,
		log: slog.Default(), batchSize: DefaultBatchSize, bufferSize: DefaultBufferSize, interval: DefaultFlushInterval,
		minBackoff: DefaultMinBackoff, maxBackoff: DefaultMaxBackoff,
		flushReq: make(chan chan struct{}), closing: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{}),
	}
	for _, o := range opts {
		o(c)
	}
	if c.batchSize <= 0 || c.batchSize > 10_000 {
		c.batchSize = DefaultBatchSize
	}
	if c.bufferSize <= 0 {
		c.bufferSize = DefaultBufferSize
	}
	if c.interval <= 0 {
		c.interval = DefaultFlushInterval
	}
	if c.minBackoff <= 0 {
		c.minBackoff = DefaultMinBackoff
	}
	if c.maxBackoff < c.minBackoff {
		c.maxBackoff = c.minBackoff
	}
	c.queue = make(chan Event, c.bufferSize)
	c.abortCtx, c.abort = context.WithCancel(context.Background())
	go c.run()
	return c
}

// Stats returns the counters.
func (c *Client) Stats() Stats {
	return Stats{Accepted: c.accepted.Load(), Duplicates: c.duplicates.Load(), Rejected: c.rejected.Load(),
		Dropped: c.dropped.Load(), Retries: c.retry.Load()}
}

// newID is a random event id, so that retries of the event are duplicates.
func newID() string {
	var b [16]byte
	_, _ = crand.Read(b[:])
	return "ev_" + hex.EncodeToString(b[:])
}

func prepare(e *Event) {
	if e.ID == "" {
		e.ID = newID()
	}
	if e.Timestamp.IsZero() {
		e.Timestamp = time.Now()
	}
	e.Timestamp = e.Timestamp.UTC()
}

// Send queues events for delivery. When the buffer is full it blocks until
// there is room or ctx ends (or, WithDropWhenFull, drops and counts them).
// It returns ErrClosed after Close. Delivery problems are logged and counted
// in Stats, not returned.
func (c *Client) Send(ctx context.Context, events ...Event) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return ErrClosed
	}
	for i := range events {
		e := events[i]
		prepare(&e)
		if c.dropWhenFull {
			c.tryEnqueue(e)
			continue
		}
		select {
		case c.queue <- e:
		case <-ctx.Done():
			return ctx.Err()
		case <-c.closing:
			return ErrClosed
		}
	}
	return nil
}

// record queues an event without ever blocking (the middleware's path).
func (c *Client) record(e Event) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		c.dropped.Add(1)
		c.log.Warn("analytics: event recorded after Close was dropped", "id", e.ID)
		return
	}
	prepare(&e)
	c.tryEnqueue(e)
}

func (c *Client) tryEnqueue(e Event) {
	select {
	case c.queue <- e:
	default:
		c.dropped.Add(1)
		c.log.Warn("analytics: buffer full, event dropped", "id", e.ID, "type", e.Type)
	}
}

// Flush sends everything queued before it and waits until that is delivered
// (or given up on), or until ctx ends.
func (c *Client) Flush(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case c.flushReq <- done:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return ErrClosed
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close sends what is queued and stops the client. When ctx ends first, the
// delivery in progress is abandoned, the undelivered events are counted as
// dropped and ctx's error is returned. No goroutine of the client outlives
// Close.
func (c *Client) Close(ctx context.Context) error {
	var err error
	c.closeOnce.Do(func() {
		close(c.closing) // wakes Sends blocked on a full buffer
		c.mu.Lock()      // waits for Sends in progress: after this none can enqueue
		c.closed = true
		c.mu.Unlock()
		close(c.stop)
		select {
		case <-c.done:
		case <-ctx.Done():
			err = ctx.Err()
			c.abort()
			<-c.done
		}
		c.abort()
		if c.ownHTTP {
			c.http.CloseIdleConnections()
		}
	})
	return err
}

// run is the one sender goroutine.
func (c *Client) run() {
	defer close(c.done)
	ticker := time.NewTicker(c.interval)
	defer ticker.Stop()
	batch := make([]Event, 0, c.batchSize)
	flush := func() {
		if len(batch) > 0 {
			c.deliver(batch)
			batch = batch[:0]
		}
	}
	// drain takes every queued event, sending full batches as they fill.
	drain := func() {
		for {
			select {
			case e := <-c.queue:
				batch = append(batch, e)
				if len(batch) >= c.batchSize {
					flush()
				}
			default:
				flush()
				return
			}
		}
	}
	for {
		select {
		case e := <-c.queue:
			batch = append(batch, e)
			if len(batch) >= c.batchSize {
				flush()
			}
		case <-ticker.C:
			flush()
		case done := <-c.flushReq:
			drain()
			close(done)
		case <-c.stop:
			drain()
			return
		}
	}
}

// ingestResult is the server's answer.
type ingestResult struct {
	Accepted   int64 `json:"accepted"`
	Duplicates int64 `json:"duplicates"`
	Rejected   []struct {
		Index int    `json:"index"`
		ID    string `json:"id"`
		Error string `json:"error"`
	} `json:"rejected"`
}

// deliver sends one batch until the server has it, the server refuses it
// whole, or Close gives up.
func (c *Client) deliver(batch []Event) {
	body, err := json.Marshal(map[string]any{"events": batch})
	if err != nil {
		c.dropped.Add(int64(len(batch)))
		c.log.Error("analytics: cannot encode batch", "err", err)
		return
	}
	for attempt := 0; ; attempt++ {
		if c.abortCtx.Err() != nil {
			c.dropped.Add(int64(len(batch)))
			c.log.Error("analytics: closing before the server answered; events dropped", "events", len(batch))
			return
		}
		res, retryAfter, err := c.post(body)
		if err == nil {
			c.accepted.Add(res.Accepted)
			c.duplicates.Add(res.Duplicates)
			c.rejected.Add(int64(len(res.Rejected)))
			for _, rj := range res.Rejected {
				c.log.Warn("analytics: event rejected", "id", rj.ID, "reason", rj.Error)
			}
			return
		}
		var perm *permanentError
		if errors.As(err, &perm) {
			c.dropped.Add(int64(len(batch)))
			c.log.Error("analytics: batch refused", "events", len(batch), "err", err)
			return
		}
		c.retry.Add(1)
		wait := c.backoff(attempt)
		if retryAfter > wait {
			wait = retryAfter
		}
		c.log.Warn("analytics: delivery failed; retrying", "err", err, "in", wait)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-c.abortCtx.Done():
			t.Stop()
		}
	}
}

// backoff is the delay before retry attempt+1: exponential, capped, with
// half of it random so that many clients do not retry in step.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.maxBackoff
	if attempt < 30 {
		if e := c.minBackoff << attempt; e > 0 && e < d {
			d = e
		}
	}
	return d/2 + rand.N(d/2+1)
}

type permanentError struct{ msg string }

func (e *permanentError) Error() string { return e.msg }

// post makes one attempt. A permanentError means retrying cannot help.
func (c *Client) post(body []byte) (ingestResult, time.Duration, error) {
	var res ingestResult
	req, err := http.NewRequestWithContext(c.abortCtx, "POST", c.url, bytes.NewReader(body))
	if err != nil {
		return res, 0, &permanentError{err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := c.http.Do(req)
	if err != nil {
		return res, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return res, 0, err
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		if err := json.Unmarshal(b, &res); err != nil {
			return res, 0, fmt.Errorf("decode response: %w", err)
		}
		return res, 0, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return res, retryAfter(resp.Header.Get("Retry-After")), fmt.Errorf("server answered %d: %s", resp.StatusCode, bytes.TrimSpace(b))
	default:
		return res, 0, &permanentError{fmt.Sprintf("server answered %d: %s", resp.StatusCode, bytes.TrimSpace(b))}
	}
}

// retryAfter reads a Retry-After header (seconds or an HTTP date), capped at
// ten minutes.
func retryAfter(h string) time.Duration {
	if h == "" {
		return 0
	}
	var d time.Duration
	if s, err := strconv.Atoi(strings.TrimSpace(h)); err == nil {
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = time.Until(t)
	}
	return min(max(d, 0), 10*time.Minute)
}

type ctxKey int

const (
	userKey ctxKey = iota
	storyKey
)

// WithUser returns ctx carrying the end user on whose behalf calls are made;
// AnthropicMiddleware records it as the call's user_id.
func WithUser(ctx context.Context, userID string) context.Context {
	return context.WithValue(ctx, userKey, userID)
}

// WithStory returns ctx carrying the story the calls are for.
func WithStory(ctx context.Context, storyID string) context.Context {
	return context.WithValue(ctx, storyKey, storyID)
}

func userFrom(ctx context.Context) string  { s, _ := ctx.Value(userKey).(string); return s }
func storyFrom(ctx context.Context) string { s, _ := ctx.Value(storyKey).(string); return s }
