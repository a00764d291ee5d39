package analytics

import (
	"context"
	"encoding/json"
)

// MaxEchoedID is the most bytes of a rejected event's id echoed back.
const MaxEchoedID = 128

// Ingester validates, prices and stores batches of raw events. A bad event is
// rejected alone; the rest of its batch is stored in one transaction.
type Ingester struct {
	Store   Store
	Pricer  Pricer
	Decoder EventDecoder
}

// Ingest handles one batch. The error is for the batch as a whole (the store
// failed, nothing was committed); per-event problems are in the result.
func (in *Ingester) Ingest(ctx context.Context, raws []json.RawMessage) (IngestResult, error) {
	res := IngestResult{Rejected: []Rejection{}}
	events := make([]Event, 0, len(raws))
	for i, raw := range raws {
		e, id, err := in.Decoder.DecodeEvent(raw)
		if err != nil {
			res.Rejected = append(res.Rejected, Rejection{Index: i, ID: CutUTF8(id, MaxEchoedID), Error: err.Error()})
			continue
		}
		in.Price(&e)
		events = append(events, e)
	}
	if len(events) == 0 {
		return res, nil
	}
	counts, err := in.Store.IngestEvents(ctx, events)
	if err != nil {
		return IngestResult{}, err
	}
	res.Accepted, res.Duplicates = counts.Accepted, counts.Duplicates
	return res, nil
}

// Price sets e.Cost and e.Priced. Only api_call events cost anything.
func (in *Ingester) Price(e *Event) {
	if e.Type != EventAPICall {
		e.Cost, e.Priced = 0, true
		return
	}
	e.Cost, e.Priced = in.Pricer.Cost(e)
}
