package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	analytics "github.com/codestory/analytics"
)

// maxPricesBody bounds POST /admin/prices and /admin/prices/reprice.
const maxPricesBody = 1 << 20

// decodeBody reads a JSON request body into v, refusing unknown fields. An
// oversized body is an error at once (413); a malformed one is returned as
// a message for the tool input, so that the guard answers 401/403 before it
// says 400.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, what string) (string, error) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxPricesBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return "", analytics.Errorf(analytics.KindTooLarge, "request body is larger than %d bytes", maxPricesBody)
		}
		return "body must be " + what, nil
	}
	return "", nil
}

func (s *Server) handleListPrices(w http.ResponseWriter, r *http.Request) {
	res, err := runTool(s, r, s.call(r, analytics.ToolListPrices, &struct{}{}), s.Tools.ListPrices)
	if err != nil {
		s.writeToolError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) handleUpdatePrices(w http.ResponseWriter, r *http.Request) {
	var in analytics.UpdatePricesInput
	msg, err := decodeBody(w, r, &in, `{"entries": [...]} in the --prices file format`)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in.BodyError = msg
	res, err := runTool(s, r, s.call(r, analytics.ToolUpdatePrices, &in), func(ctx context.Context) (*analytics.PricesUpdated, error) {
		return s.Tools.UpdatePrices(ctx, in)
	})
	if err != nil {
		s.writeToolError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) handleRemovePrice(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	in := analytics.RemovePriceInput{Service: q.Get("service"), Model: q.Get("model"), EffectiveFrom: q.Get("effective_from")}
	res, err := runTool(s, r, s.call(r, analytics.ToolRemovePrice, &in), func(ctx context.Context) (*analytics.PriceRemoved, error) {
		return s.Tools.RemovePrice(ctx, in)
	})
	if err != nil {
		s.writeToolError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) handleReprice(w http.ResponseWriter, r *http.Request) {
	var in analytics.RepriceInput
	if r.ContentLength != 0 {
		msg, err := decodeBody(w, r, &in, `{"since", "until", "model", "dry_run"} (all optional)`)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		in.BodyError = msg
	}
	res, err := runTool(s, r, s.call(r, analytics.ToolReprice, &in), func(ctx context.Context) (*analytics.RepriceReport, error) {
		return s.Tools.Reprice(ctx, in)
	})
	if err != nil {
		s.writeToolError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func init() {
	ops := map[string]map[string]any{
		"GET /admin/prices": op("list_prices", "prices",
			"The catalog every replica prices with (built-in, --prices file, database entries; each with its source) and the models with unpriced calls. Every admin role.",
			resp("200", "PriceList"), errs("401", "403", "429")),
		"POST /admin/prices": op("update_prices", "prices",
			"Add or replace price entries at run time (the --prices file format; same service, model and effective_from replaces). Stored in the database, so every replica prices with them from its next batch. Owners (MANAGE_PRICES); audited with the old and new rates.",
			withBody("PriceFile"), resp("200", "PricesUpdated"), errs("400", "401", "403", "413", "429")),
		"DELETE /admin/prices": op("remove_price", "prices", "Remove a database price entry. Owners (MANAGE_PRICES).",
			params(param("service", "string", "anthropic, elevenlabs or s3"), param("model", "string", "model id"),
				param("effective_from", "string", "YYYY-MM-DD")),
			resp("200", "PriceRemoved"), errs("400", "401", "403", "404", "429")),
		"POST /admin/prices/reprice": op("reprice", "prices",
			"Recompute the cost of every api_call in the range without a caller-given cost_cents from the current catalog, in bounded batches, and update every rollup. Idempotent; dry_run reports without writing. Owners (MANAGE_PRICES); audited as prices_repriced.",
			withBody("RepriceRequest"), resp("200", "RepriceReport"), errs("400", "401", "403", "429")),
	}
	for k, v := range ops {
		openAPIOps[k] = v
	}
	entry := obj(map[string]any{"service": tStr, "model": tStr, "aliases": arr(tStr), "effective_from": tDate,
		"rates": map[string]any{"type": "object"}, "long_context_threshold": tInt,
		"long_context_rates": map[string]any{"type": "object"}, "note": tStr, "source": tStr})
	row := obj(map[string]any{"service": tStr, "model": tStr, "calls": tInt, "calls_repriced": tInt,
		"old_cost_cents": tNum, "new_cost_cents": tNum, "unpriced_before": tInt, "unpriced_after": tInt})
	for k, v := range map[string]any{
		"PriceList": obj(map[string]any{"entries": arr(entry),
			"unpriced": arr(obj(map[string]any{"service": tStr, "model": tStr, "calls": tInt}))}),
		"PriceFile":      obj(map[string]any{"entries": arr(entry)}),
		"PricesUpdated":  obj(map[string]any{"added": tInt, "replaced": tInt, "entries": arr(entry), "replaced_entries": arr(entry)}),
		"PriceRemoved":   obj(map[string]any{"removed": tInt, "entry": entry}),
		"RepriceRequest": obj(map[string]any{"since": tDate, "until": tDate, "model": tStr, "dry_run": map[string]any{"type": "boolean"}}),
		"RepriceReport": obj(map[string]any{"dry_run": map[string]any{"type": "boolean"}, "since": tDate, "until": tDate, "model": tStr,
			"calls_examined": tInt, "calls_repriced": tInt, "unpriced_before": tInt, "unpriced_after": tInt,
			"old_cost_cents": tNum, "new_cost_cents": tNum, "by_model": arr(row)}),
	} {
		openAPISchemas[k] = v
	}
}
