package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"sync"
)

// stdioDrain makes `mcp` answer every request it read before its input
// closed. The SDK's stdio transport ends the session at EOF and drops
// requests still in flight, so `printf '<initialize>\n<tools/list>\n' |
// codestory-analytics mcp` printed one answer, or none. Reader notes the id
// of every request read; Writer notes every response written; at EOF the
// Reader holds the EOF back until each request has its response (or ctx
// ends).
type stdioDrain struct {
	ctx     context.Context
	in      io.Reader
	out     io.Writer
	mu      sync.Mutex
	pending map[string]int
	changed chan struct{} // closed and replaced whenever pending shrinks
	inBuf   []byte
	outBuf  []byte
}

func newStdioDrain(ctx context.Context, in io.Reader, out io.Writer) *stdioDrain {
	return &stdioDrain{ctx: ctx, in: in, out: out, pending: map[string]int{}, changed: make(chan struct{})}
}

// message is what the drain needs of a JSON-RPC message.
type message struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
}

// lines calls fn for every complete line in *buf+p and keeps the rest.
func lines(buf *[]byte, p []byte, fn func(line []byte)) {
	*buf = append(*buf, p...)
	for {
		i := bytes.IndexByte(*buf, '\n')
		if i < 0 {
			return
		}
		fn((*buf)[:i])
		*buf = (*buf)[i+1:]
	}
}

func idKey(id json.RawMessage) string {
	var b bytes.Buffer
	if len(id) == 0 || json.Compact(&b, id) != nil || b.String() == "null" {
		return ""
	}
	return b.String()
}

func (d *stdioDrain) Read(p []byte) (int, error) {
	n, err := d.in.Read(p)
	d.mu.Lock()
	lines(&d.inBuf, p[:n], func(line []byte) {
		var m message
		if json.Unmarshal(line, &m) == nil && m.Method != "" {
			if k := idKey(m.ID); k != "" {
				d.pending[k]++
			}
		}
	})
	d.mu.Unlock()
	if err == io.EOF {
		d.wait()
	}
	return n, err
}

// wait blocks until no request read is unanswered.
func (d *stdioDrain) wait() {
	for {
		d.mu.Lock()
		left, ch := len(d.pending), d.changed
		d.mu.Unlock()
		if left == 0 {
			return
		}
		select {
		case <-ch:
		case <-d.ctx.Done():
			return
		}
	}
}

func (d *stdioDrain) Write(p []byte) (int, error) {
	n, err := d.out.Write(p)
	d.mu.Lock()
	lines(&d.outBuf, p[:n], func(line []byte) {
		var m message
		if json.Unmarshal(line, &m) == nil && m.Method == "" {
			if k := idKey(m.ID); d.pending[k] > 0 {
				if d.pending[k]--; d.pending[k] == 0 {
					delete(d.pending, k)
				}
				close(d.changed)
				d.changed = make(chan struct{})
			}
		}
	})
	d.mu.Unlock()
	return n, err
}
