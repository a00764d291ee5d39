package client

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/anthropics/anthropic-sdk-go/v2/option"
)

// maxRecordedBody caps how much of a non-streaming response the middleware
// keeps to read its usage; a Messages response is far smaller.
const maxRecordedBody = 8 << 20

// AnthropicMiddleware returns an option.Middleware for anthropic-sdk-go that
// records every Messages call (POST /v1/messages, streaming or not) as an
// api_call of service "anthropic", operation "messages": model, uncached
// input, output, cache reads and cache writes (split into 5-minute and 1-hour
// writes when the API reports the split), user and story from the request's
// context (WithUser, WithStory), status "error" for an error answer. A
// streamed call is recorded when its body ends, with the usage of the final
// message_delta.
//
// The middleware never changes or delays the response: it reads the body as
// the application does, and it queues the event without blocking (when the
// client's buffer is full the event is dropped, counted and logged). Each
// attempt the SDK makes is one call.
func AnthropicMiddleware(c *Client) option.Middleware {
	return func(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
		if req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, "/v1/messages") {
			return next(req)
		}
		r := &callRecorder{client: c, user: userFrom(req.Context()), story: storyFrom(req.Context())}
		if req.GetBody != nil {
			r.getBody = req.GetBody
		}
		resp, err := next(req)
		switch {
		case err != nil || resp == nil:
			r.failed()
		case resp.StatusCode >= 400:
			r.failed()
		case strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream"):
			resp.Body = &sseBody{ReadCloser: resp.Body, rec: r}
		default:
			resp.Body = &jsonBody{ReadCloser: resp.Body, rec: r}
		}
		return resp, err
	}
}

// usage is Anthropic's usage object (message, message_start and
// message_delta all use these names).
type usage struct {
	InputTokens              *int64         `json:"input_tokens"`
	OutputTokens             *int64         `json:"output_tokens"`
	CacheCreationInputTokens *int64         `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     *int64         `json:"cache_read_input_tokens"`
	CacheCreation            *CacheCreation `json:"cache_creation"`
}

type message struct {
	ID    string `json:"id"`
	Model string `json:"model"`
	Usage usage  `json:"usage"`
}

// callRecorder builds the event of one call and queues it once.
type callRecorder struct {
	client      *Client
	user, story string
	getBody     func() (io.ReadCloser, error)
	once        sync.Once

	msg     message
	started bool // a message (or message_start) was seen
	errored bool
}

// merge takes the counts present in u; message_delta's counts are
// cumulative, so a later value replaces an earlier one (but a zero does not
// erase a count already seen).
func (r *callRecorder) merge(u usage) {
	set := func(dst **int64, v *int64) {
		if v != nil && (*dst == nil || *v != 0) {
			*dst = v
		}
	}
	set(&r.msg.Usage.InputTokens, u.InputTokens)
	set(&r.msg.Usage.OutputTokens, u.OutputTokens)
	set(&r.msg.Usage.CacheCreationInputTokens, u.CacheCreationInputTokens)
	set(&r.msg.Usage.CacheReadInputTokens, u.CacheReadInputTokens)
	if u.CacheCreation != nil {
		r.msg.Usage.CacheCreation = u.CacheCreation
	}
}

func val(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// finish records the call from what was read.
func (r *callRecorder) finish() {
	r.once.Do(func() {
		if !r.started {
			r.failedLocked()
			return
		}
		u := r.msg.Usage
		e := Event{Type: "api_call", Service: "anthropic", Operation: "messages", Model: r.msg.Model,
			UserID: r.user, StoryID: r.story, Status: "ok",
			InputTokens: val(u.InputTokens), OutputTokens: val(u.OutputTokens),
			CacheReadInputTokens: val(u.CacheReadInputTokens), CacheCreationInputTokens: val(u.CacheCreationInputTokens)}
		if cc := u.CacheCreation; cc != nil && cc.Ephemeral1hInputTokens > 0 &&
			cc.Ephemeral5mInputTokens+cc.Ephemeral1hInputTokens == e.CacheCreationInputTokens {
			e.CacheCreation = &CacheCreation{Ephemeral5mInputTokens: cc.Ephemeral5mInputTokens, Ephemeral1hInputTokens: cc.Ephemeral1hInputTokens}
		}
		if r.errored {
			e.Status = "error"
		}
		if r.msg.ID != "" {
			e.ID = "anthropic-" + r.msg.ID // the same message is never counted twice
		}
		if e.Model == "" {
			e.Model = r.requestModel()
		}
		if e.Model == "" {
			e.CostCents = "0" // the contract needs a model or a cost
		}
		r.client.record(e)
	})
}

// failed records a call that got no usable answer: an error status or a
// transport error.
func (r *callRecorder) failed() { r.once.Do(r.failedLocked) }

func (r *callRecorder) failedLocked() {
	e := Event{Type: "api_call", Service: "anthropic", Operation: "messages", Model: r.requestModel(),
		UserID: r.user, StoryID: r.story, Status: "error"}
	if e.Model == "" {
		e.CostCents = "0"
	}
	r.client.record(e)
}

// requestModel reads "model" from a copy of the request body.
func (r *callRecorder) requestModel() string {
	if r.getBody == nil {
		return ""
	}
	body, err := r.getBody()
	if err != nil {
		return ""
	}
	defer body.Close()
	var v struct {
		Model string `json:"model"`
	}
	_ = json.NewDecoder(io.LimitReader(body, maxRecordedBody)).Decode(&v)
	return v.Model
}

// jsonBody passes a non-streaming response through, keeping a copy to read
// its usage when the application reaches the end or closes it.
type jsonBody struct {
	io.ReadCloser
	rec *callRecorder
	buf bytes.Buffer
}

func (b *jsonBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 && b.buf.Len()+n <= maxRecordedBody {
		b.buf.Write(p[:n])
	}
	if err == io.EOF {
		b.done()
	}
	return n, err
}

func (b *jsonBody) Close() error {
	err := b.ReadCloser.Close()
	b.done()
	return err
}

func (b *jsonBody) done() {
	if json.Unmarshal(b.buf.Bytes(), &b.rec.msg) == nil && b.rec.msg.Model != "" {
		b.rec.started = true
	}
	b.rec.finish()
}

// sseBody passes a streamed response through and follows its events:
// message_start carries the model and the input and cache counts,
// message_delta the cumulative usage, error an error.
type sseBody struct {
	io.ReadCloser
	rec  *callRecorder
	line []byte
	skip bool // the current line is too long to matter
}

func (b *sseBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.scan(p[:n])
	if err == io.EOF {
		b.rec.finish()
	}
	return n, err
}

func (b *sseBody) Close() error {
	err := b.ReadCloser.Close()
	b.rec.finish()
	return err
}

// maxEventLine bounds the line kept for parsing; the events that carry usage
// are small.
const maxEventLine = 64 << 10

func (b *sseBody) scan(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			b.add(p)
			return
		}
		b.add(p[:i])
		if !b.skip {
			b.event(bytes.TrimSuffix(b.line, []byte("\r")))
		}
		b.line, b.skip = b.line[:0], false
		p = p[i+1:]
	}
}

func (b *sseBody) add(p []byte) {
	if b.skip {
		return
	}
	if len(b.line)+len(p) > maxEventLine {
		b.skip = true
		b.line = b.line[:0]
		return
	}
	b.line = append(b.line, p...)
}

func (b *sseBody) event(line []byte) {
	data, ok := bytes.CutPrefix(line, []byte("data:"))
	if !ok {
		return
	}
	var ev struct {
		Type    string   `json:"type"`
		Message *message `json:"message"`
		Usage   *usage   `json:"usage"`
	}
	if json.Unmarshal(bytes.TrimSpace(data), &ev) != nil {
		return
	}
	r := b.rec
	switch ev.Type {
	case "message_start":
		if ev.Message != nil {
			r.started = true
			r.msg.ID, r.msg.Model = ev.Message.ID, ev.Message.Model
			r.merge(ev.Message.Usage)
		}
	case "message_delta":
		if ev.Usage != nil {
			r.merge(*ev.Usage)
		}
	case "error":
		r.errored = true
	}
}
