import { useState, type FormEvent } from "react";
import { Loader2, Plus } from "lucide-react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { postJSON } from "../../lib/api";
import { SERVICE_KEYS, SERVICE_RATES, entryFromDraft, isService, validateDraft, type PriceDraft } from "../../lib/prices";
import { serviceName } from "../../lib/services";
import type { NewPriceEntry, PriceEntry, PricesAdded } from "../../lib/types";
import { ErrorState } from "../ErrorState";
import { Button } from "../ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "../ui/card";

function FieldError({ id, text }: { id: string; text?: string }) {
  if (!text) return null;
  return (
    <small id={id} className="field-error">
      {text}
    </small>
  );
}

/**
 * Owners add a price, or replace one (same service, model and first day),
 * without a restart: POST /admin/prices. Every rate of the service is
 * required, as in a --prices file.
 */
export function PriceForm({
  initial,
  entries,
  onSaved,
}: {
  initial: PriceDraft;
  /** The catalog, to say when an entry will be replaced. */
  entries: PriceEntry[];
  onSaved: (entry: NewPriceEntry, result: PricesAdded) => void;
}) {
  const qc = useQueryClient();
  const [draft, setDraft] = useState<PriceDraft>(initial);
  const [shown, setShown] = useState<Record<string, string>>({});
  const [done, setDone] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (entry: NewPriceEntry) => postJSON<PricesAdded>("/admin/prices", { entries: [entry] }),
    onSuccess: (res, entry) => {
      setDone(
        `${res.replaced > 0 ? "Replaced" : "Added"} the price of ${entry.model} from ${entry.effective_from}. ` +
          "Calls already stored keep their old cost until they are repriced.",
      );
      void qc.invalidateQueries({ queryKey: ["prices"] });
      onSaved(entry, res);
    },
  });

  const set = (patch: Partial<PriceDraft>) => {
    setDraft((d) => ({ ...d, ...patch }));
    setDone(null);
  };
  const setRate = (key: string, v: string) => set({ rates: { ...draft.rates, [key]: v } });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs = validateDraft(draft);
    setShown(errs);
    if (Object.keys(errs).length > 0) return;
    save.mutate(entryFromDraft(draft));
  };

  const same = entries.find(
    (x) => x.service === draft.service && x.model === draft.model.trim() && x.effective_from === draft.effective_from,
  );
  const err = (k: string) => shown[k];
  const inv = (k: string) => (shown[k] ? true : undefined);

  return (
    <Card>
      <CardHeader>
        <CardTitle>Add or replace a price</CardTitle>
        <CardDescription>
          Prices apply from their first day, in US dollars, to every replica at once. An entry with the same service, model
          and first day replaces the old one.
        </CardDescription>
      </CardHeader>
      <CardContent>
        <form className="price-form" onSubmit={submit} noValidate aria-label="Add or replace a price" data-testid="price-form">
          <div className="form-grid">
            <label className="field">
              <span>Service</span>
              <select
                name="service"
                value={draft.service}
                onChange={(e) => {
                  if (isService(e.target.value)) set({ service: e.target.value, rates: {} });
                }}
              >
                {SERVICE_KEYS.map((s) => (
                  <option key={s} value={s}>
                    {serviceName(s)}
                  </option>
                ))}
              </select>
            </label>
            <div className="field">
              <label htmlFor="price-model">Model</label>
              <input
                id="price-model"
                name="model"
                value={draft.model}
                onChange={(e) => set({ model: e.target.value })}
                list="price-models"
                autoComplete="off"
                spellCheck={false}
                placeholder="claude-sonnet-4-5"
                aria-invalid={inv("model")}
                aria-describedby={err("model") ? "price-err-model" : undefined}
              />
              <FieldError id="price-err-model" text={err("model")} />
            </div>
            <div className="field">
              <label htmlFor="price-from">Effective from</label>
              <input
                id="price-from"
                type="date"
                name="effective_from"
                value={draft.effective_from}
                onChange={(e) => set({ effective_from: e.target.value })}
                aria-invalid={inv("effective_from")}
                aria-describedby={err("effective_from") ? "price-err-from" : "price-hint-from"}
              />
              <FieldError id="price-err-from" text={err("effective_from")} />
              {!err("effective_from") && (
                <small id="price-hint-from" className="field-hint">
                  Calls before this day are not priced by this entry.
                </small>
              )}
            </div>
          </div>

          <fieldset className="rates">
            <legend>Rates (US dollars)</legend>
            <div className="form-grid">
              {SERVICE_RATES[draft.service].map((r) => (
                <div key={r.key} className="field">
                  <label htmlFor={`price-rate-${r.key}`}>
                    {r.label} <small className="muted">{r.unit}</small>
                  </label>
                  <input
                    id={`price-rate-${r.key}`}
                    name={`rate-${r.key}`}
                    inputMode="decimal"
                    autoComplete="off"
                    value={draft.rates[r.key] ?? ""}
                    onChange={(e) => setRate(r.key, e.target.value)}
                    placeholder="0.00"
                    aria-invalid={inv(`rate.${r.key}`)}
                    aria-describedby={err(`rate.${r.key}`) ? `price-err-${r.key}` : undefined}
                  />
                  <FieldError id={`price-err-${r.key}`} text={err(`rate.${r.key}`)} />
                </div>
              ))}
            </div>
          </fieldset>

          <label className="field">
            <span>
              Note <small className="muted">optional, e.g. where the price comes from</small>
            </span>
            <input name="note" value={draft.note} onChange={(e) => set({ note: e.target.value })} autoComplete="off" />
          </label>

          {save.error && <ErrorState error={save.error} compact title="The price was not saved" />}
          {done && (
            <p className="form-done" role="status" data-testid="price-saved">
              {done}
            </p>
          )}
          <div className="form-actions">
            {same && (
              <span className="muted" data-testid="price-replaces">
                Replaces the {same.source} entry of {same.effective_from}.
              </span>
            )}
            <Button type="submit" disabled={save.isPending} data-testid="price-submit">
              {save.isPending ? <Loader2 size={16} className="spin" aria-hidden="true" /> : <Plus size={16} aria-hidden="true" />}
              {same ? "Replace price" : "Add price"}
            </Button>
          </div>
        </form>
      </CardContent>
    </Card>
  );
}
