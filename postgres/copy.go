package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	analytics "github.com/codestory/analytics"
	"github.com/jackc/pgx/v5"
)

// eventColumns is the column order of the events COPY.
var eventColumns = []string{"id", "type", "ts", "day", "user_id", "service", "operation", "model",
	"input_tokens", "output_tokens", "cache_write_tokens", "cache_write_1h_tokens", "cache_read_tokens",
	"characters", "bytes_transferred", "requests", "status", "explicit_cost", "cost", "priced",
	"story_id", "chapters", "audio_ms", "amount_cents", "email", "received_at", "voids", "reason", "price_ref"}

var copyEventsSQL = "COPY events (" + strings.Join(eventColumns, ", ") + ") FROM STDIN (FORMAT binary)"

// pgEpoch is where PostgreSQL's binary timestamps count from.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// copyEvents streams events into the events table with COPY in the binary
// format, encoded here: one fixed row shape, so a few appends per field
// instead of pgx's per-value type dispatch, which cost about as much client
// time as the server spends storing the rows.
func copyEvents(ctx context.Context, conn *pgx.Conn, events []analytics.Event, loc *time.Location, received time.Time) error {
	w := copyWriter{buf: make([]byte, 0, 64+len(events)*360)}
	w.buf = append(w.buf, "PGCOPY\n\377\r\n\x00"...)
	w.buf = binary.BigEndian.AppendUint32(w.buf, 0) // flags
	w.buf = binary.BigEndian.AppendUint32(w.buf, 0) // header extension length
	for i := range events {
		e := &events[i]
		w.buf = binary.BigEndian.AppendUint16(w.buf, uint16(len(eventColumns)))
		w.text(e.ID)
		w.text(string(e.Type))
		w.timestamp(e.Timestamp)
		w.int4(int32(analytics.EventDay(e, loc)))
		w.text(e.UserID)
		w.text(string(e.Service))
		w.text(e.Operation)
		w.text(e.Model)
		w.int8(e.InputTokens)
		w.int8(e.OutputTokens)
		w.int8(e.CacheCreationInputTokens)
		w.int8(e.CacheCreation1hTokens)
		w.int8(e.CacheReadInputTokens)
		w.int8(e.Characters)
		w.int8(e.BytesTransferred)
		w.int8(e.Requests)
		w.text(e.Status)
		if e.ExplicitCost != nil {
			w.int8(int64(*e.ExplicitCost))
		} else {
			w.null()
		}
		w.int8(int64(e.Cost))
		w.bool(e.Priced)
		w.text(e.StoryID)
		w.int8(e.Chapters)
		w.int8(e.AudioMillis)
		w.int8(e.AmountCents)
		w.text(e.Email)
		w.timestamp(received)
		w.text(e.Voids)
		w.text(e.Reason)
		w.text(e.PriceRef.String())
	}
	w.buf = binary.BigEndian.AppendUint16(w.buf, 0xFFFF) // end of data
	tag, err := conn.PgConn().CopyFrom(ctx, bytes.NewReader(w.buf), copyEventsSQL)
	if err != nil {
		return err
	}
	if tag.RowsAffected() != int64(len(events)) {
		return fmt.Errorf("copied %d of %d events", tag.RowsAffected(), len(events))
	}
	return nil
}

// copyWriter appends fields in COPY's binary format: a 32-bit length (-1
// for NULL), then the value in the type's binary send format.
type copyWriter struct{ buf []byte }

func (w *copyWriter) text(s string) {
	w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(len(s)))
	w.buf = append(w.buf, s...)
}

func (w *copyWriter) int4(v int32) {
	w.buf = binary.BigEndian.AppendUint32(w.buf, 4)
	w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(v))
}

func (w *copyWriter) int8(v int64) {
	w.buf = binary.BigEndian.AppendUint32(w.buf, 8)
	w.buf = binary.BigEndian.AppendUint64(w.buf, uint64(v))
}

func (w *copyWriter) bool(v bool) {
	w.buf = binary.BigEndian.AppendUint32(w.buf, 1)
	if v {
		w.buf = append(w.buf, 1)
	} else {
		w.buf = append(w.buf, 0)
	}
}

// timestamp writes a timestamptz: microseconds since 2000-01-01 UTC.
func (w *copyWriter) timestamp(t time.Time) {
	w.int8(t.UnixMicro() - pgEpoch.UnixMicro())
}

func (w *copyWriter) null() {
	w.buf = binary.BigEndian.AppendUint32(w.buf, 0xFFFFFFFF)
}
