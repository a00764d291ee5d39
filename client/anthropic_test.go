package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// fakeMessages answers POST /v1/messages like the Messages API: a JSON
// message, or server-sent events when the request asks to stream, or an
// error when the model is "claude-broken".
func fakeMessages(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Model  string `json:"model"`
			Stream bool   `json:"stream"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		if req.Model == "claude-broken" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			fmt.Fprint(w, `{"type":"error","error":{"type":"invalid_request_error","message":"bad"}}`)
			return
		}
		if !req.Stream {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"id":"msg_plain","type":"message","role":"assistant","model":%q,
				"content":[{"type":"text","text":"Once upon a time"}],"stop_reason":"end_turn","stop_sequence":null,
				"usage":{"input_tokens":12,"output_tokens":34,"cache_read_input_tokens":1000,"cache_creation_input_tokens":300,
				"cache_creation":{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":200}}}`, req.Model+"-20250101")
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		events := []string{
			`{"type":"message_start","message":{"id":"msg_stream","type":"message","role":"assistant","model":"` + req.Model + `","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":1,"cache_read_input_tokens":500,"cache_creation_input_tokens":40,"cache_creation":{"ephemeral_5m_input_tokens":40,"ephemeral_1h_input_tokens":0}}}}`,
			`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
			`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Once upon"}}`,
			`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" a time"}}`,
			`{"type":"content_block_stop","index":0}`,
			`{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":77}}`,
			`{"type":"message_stop"}`,
		}
		for _, e := range events {
			var typ struct{ Type string }
			json.Unmarshal([]byte(e), &typ)
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", typ.Type, e)
			fl.Flush()
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func sdkClient(url string, c *Client) *anthropic.Client {
	sdk := anthropic.NewClient(option.WithoutEnvironmentDefaults(), option.WithBaseURL(url), option.WithAPIKey("test-key"),
		option.WithMaxRetries(0), option.WithMiddleware(AnthropicMiddleware(c)))
	return &sdk
}

func params(model string) anthropic.MessageNewParams {
	return anthropic.MessageNewParams{Model: anthropic.Model(model), MaxTokens: 100,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("a story"))}}
}

// recorded flushes c and returns the events the fake ingest stored.
func recorded(t *testing.T, c *Client, f *fakeIngest) []Event {
	t.Helper()
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	batches, _ := f.snapshot()
	var out []Event
	for _, b := range batches {
		out = append(out, b...)
	}
	return out
}

var ignoreTime = cmpopts.IgnoreFields(Event{}, "Timestamp")

func TestAnthropicMiddleware(t *testing.T) {
	msgs := fakeMessages(t)
	ctx := WithStory(WithUser(context.Background(), "u1"), "s1")

	t.Run("non-streaming", func(t *testing.T) {
		ing := newFakeIngest(t)
		c := New(ing.srv.URL, "key", WithLogger(quiet()))
		defer c.Close(context.Background())
		msg, err := sdkClient(msgs.URL, c).Messages.New(ctx, params("claude-sonnet-4-5"))
		if err != nil {
			t.Fatal(err)
		}
		if len(msg.Content) != 1 || msg.Content[0].Text != "Once upon a time" || msg.Usage.OutputTokens != 34 {
			t.Errorf("the application's response changed: %+v", msg)
		}
		want := []Event{{ID: "anthropic-msg_plain", Type: "api_call", UserID: "u1", StoryID: "s1", Service: "anthropic", Operation: "messages",
			Model: "claude-sonnet-4-5-20250101", InputTokens: 12, OutputTokens: 34, CacheReadInputTokens: 1000, CacheCreationInputTokens: 300,
			CacheCreation: &CacheCreation{Ephemeral5mInputTokens: 100, Ephemeral1hInputTokens: 200}, Status: "ok"}}
		got := recorded(t, c, ing)
		if d := cmp.Diff(want, got, ignoreTime); d != "" {
			t.Errorf("recorded (-want +got):\n%s", d)
		}
		if len(got) == 1 && got[0].Timestamp.IsZero() {
			t.Error("no timestamp")
		}
	})

	t.Run("streaming", func(t *testing.T) {
		ing := newFakeIngest(t)
		c := New(ing.srv.URL, "key", WithLogger(quiet()))
		defer c.Close(context.Background())
		stream := sdkClient(msgs.URL, c).Messages.NewStreaming(ctx, params("claude-haiku-4-5"))
		var acc anthropic.Message
		for stream.Next() {
			if err := acc.Accumulate(stream.Current()); err != nil {
				t.Fatal(err)
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		stream.Close()
		if len(acc.Content) != 1 || acc.Content[0].Text != "Once upon a time" || acc.Usage.OutputTokens != 77 {
			t.Errorf("the application's stream changed: %+v", acc)
		}
		want := []Event{{ID: "anthropic-msg_stream", Type: "api_call", UserID: "u1", StoryID: "s1", Service: "anthropic", Operation: "messages",
			Model: "claude-haiku-4-5", InputTokens: 25, OutputTokens: 77, CacheReadInputTokens: 500, CacheCreationInputTokens: 40, Status: "ok"}}
		if d := cmp.Diff(want, recorded(t, c, ing), ignoreTime); d != "" {
			t.Errorf("recorded (-want +got):\n%s", d)
		}
	})

	t.Run("error answer", func(t *testing.T) {
		ing := newFakeIngest(t)
		c := New(ing.srv.URL, "key", WithLogger(quiet()))
		defer c.Close(context.Background())
		_, err := sdkClient(msgs.URL, c).Messages.New(context.Background(), params("claude-broken"))
		var apiErr *anthropic.Error
		if err == nil || !strings.Contains(err.Error(), "400") {
			t.Fatalf("the application must still see the API's error, got %v (%T)", err, apiErr)
		}
		got := recorded(t, c, ing)
		if len(got) != 1 || got[0].Status != "error" || got[0].Model != "claude-broken" || got[0].UserID != "" || got[0].ID == "" {
			t.Errorf("recorded %+v, want one error call of claude-broken", got)
		}
	})

	t.Run("a full buffer never blocks the call", func(t *testing.T) {
		ing := newFakeIngest(t)
		ing.hold = make(chan struct{})
		c := New(ing.srv.URL, "key", WithLogger(quiet()), WithBufferSize(1), WithBatchSize(1))
		sdk := sdkClient(msgs.URL, c)
		for i := 0; i < 5; i++ {
			if _, err := sdk.Messages.New(ctx, params("claude-sonnet-4-5")); err != nil {
				t.Fatal(err)
			}
		}
		if s := c.Stats(); s.Dropped < 3 {
			t.Errorf("stats %+v: with one slot and one batch in flight at least 3 of 5 records are dropped", s)
		}
		close(ing.hold)
		c.Close(context.Background())
	})
}
