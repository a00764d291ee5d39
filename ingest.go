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
	// Committed, if set, is told (cheaply, without blocking) that a batch
	// changed stored events, so budgets are evaluated at once.
	Committed func()
}

// Refresher is a Pricer whose catalog can change at run time (price entries
// in the database): Refresh makes it current before a batch is priced.
type Refresher interface {
	Refresh(ctx context.Context) error
}

// Ingest handles one batch. The error is for the batch as a whole (the store
// failed, nothing was committed); per-event problems are in the result.
//
// Voids (event_voided) are applied after the batch's other events are
// committed, in a second transaction, so a void may name an event of the
// same batch. Both steps are idempotent by event id: a client that retries
// after an error never doubles anything.
func (in *Ingester) Ingest(ctx context.Context, raws []json.RawMessage) (IngestResult, error) {
	res := IngestResult{Rejected: []Rejection{}}
	if err := in.Refresh(ctx); err != nil {
		return IngestResult{}, err
	}
	events := make([]Event, 0, len(raws))
	var voids []Event
	var voidIndex []int
	for i, raw := range raws {
		e, id, err := in.Decoder.DecodeEvent(raw)
		if err != nil {
			res.Rejected = append(res.Rejected, Rejection{Index: i, ID: CutUTF8(id, MaxEchoedID), Error: err.Error()})
			continue
		}
		if e.Type == EventVoided {
			voids, voidIndex = append(voids, e), append(voidIndex, i)
			continue
		}
		in.Price(&e)
		events = append(events, e)
	}
	if len(events) > 0 {
		counts, err := in.Store.IngestEvents(ctx, events)
		if err != nil {
			return IngestResult{}, err
		}
		res.Accepted, res.Duplicates = counts.Accepted, counts.Duplicates
	}
	if len(voids) > 0 {
		vc, err := in.Store.VoidEvents(ctx, voids)
		if err != nil {
			return IngestResult{}, err
		}
		res.Accepted += vc.Accepted
		res.Duplicates += vc.Duplicates
		for j, reason := range vc.Rejected {
			res.Rejected = append(res.Rejected, Rejection{Index: voidIndex[j], ID: voids[j].ID, Error: reason})
		}
		sortRejections(res.Rejected)
	}
	if res.Accepted > 0 && in.Committed != nil {
		in.Committed()
	}
	return res, nil
}

func sortRejections(r []Rejection) {
	for i := 1; i < len(r); i++ {
		for j := i; j > 0 && r[j].Index < r[j-1].Index; j-- {
			r[j], r[j-1] = r[j-1], r[j]
		}
	}
}

// Refresh makes the pricer current (price entries changed in the database,
// perhaps by another replica) before events are priced.
func (in *Ingester) Refresh(ctx context.Context) error {
	if r, ok := in.Pricer.(Refresher); ok {
		return r.Refresh(ctx)
	}
	return nil
}

// Price sets e.Cost, e.Priced and e.PriceRef. Only api_call events cost
// anything.
func (in *Ingester) Price(e *Event) {
	if e.Type != EventAPICall {
		e.Cost, e.Priced, e.PriceRef = 0, true, PriceRef{}
		return
	}
	e.Cost, e.Priced, e.PriceRef = in.Pricer.Quote(e)
}
