// The price catalog's rules as the dashboard needs them: which rates each
// service has (and their units), how a form becomes an entry for
// POST /admin/prices, and the checks the server makes first, so a typo is
// caught before a request. The server stays the judge (its 400 reason is
// shown as is).
import { parseDay } from "./dateRange";
import type { NewPriceEntry, PriceEntry, Rates, Service } from "./types";

export interface RateSpec {
  key: string;
  label: string;
  unit: string;
  short: string;
}

/** Every rate of each service, in the catalog's order (all are required). */
export const SERVICE_RATES: Record<Service, RateSpec[]> = {
  anthropic: [
    { key: "input", label: "Input", unit: "$ per million tokens", short: "MTok" },
    { key: "output", label: "Output", unit: "$ per million tokens", short: "MTok" },
    { key: "cache_write_5m", label: "Cache write (5 min)", unit: "$ per million tokens", short: "MTok" },
    { key: "cache_write_1h", label: "Cache write (1 h)", unit: "$ per million tokens", short: "MTok" },
    { key: "cache_read", label: "Cache read", unit: "$ per million tokens", short: "MTok" },
  ],
  elevenlabs: [{ key: "characters", label: "Characters", unit: "$ per 1,000 characters", short: "1k chars" }],
  s3: [
    { key: "transfer_out", label: "Transfer out", unit: "$ per GB", short: "GB" },
    { key: "tier1_requests", label: "Tier 1 requests (PUT, COPY, POST, LIST)", unit: "$ per 1,000 requests", short: "1k req" },
    { key: "tier2_requests", label: "Tier 2 requests (GET and others)", unit: "$ per 1,000 requests", short: "1k req" },
  ],
};

export const SERVICE_KEYS: Service[] = ["anthropic", "elevenlabs", "s3"];

export function isService(s: string | null | undefined): s is Service {
  return SERVICE_KEYS.includes(s as Service);
}

/** What the add-a-price form holds. */
export interface PriceDraft {
  service: Service;
  model: string;
  effective_from: string;
  rates: Rates;
  note: string;
}

export function emptyDraft(service: Service = "anthropic", model = "", effectiveFrom = ""): PriceDraft {
  return { service, model, effective_from: effectiveFrom, rates: {}, note: "" };
}

/** A draft from an existing entry, to replace it or start a newer one. */
export function draftFrom(e: PriceEntry): PriceDraft {
  return { service: e.service, model: e.model, effective_from: e.effective_from, rates: { ...e.rates }, note: e.note ?? "" };
}

const DECIMAL = /^\d+(\.\d+)?$/;

/** Field → reason, for every field the server would refuse; empty when the draft is good. */
export function validateDraft(d: PriceDraft): Record<string, string> {
  const errs: Record<string, string> = {};
  if (!isService(d.service)) errs.service = "Choose a service";
  if (!d.model.trim()) errs.model = "Enter the model id, exactly as the events name it";
  else if (/\s/.test(d.model.trim())) errs.model = "A model id has no spaces";
  if (!d.effective_from) errs.effective_from = "Enter the first day the price applies to";
  else if (!parseDay(d.effective_from)) errs.effective_from = "Invalid date (expected YYYY-MM-DD)";
  for (const r of SERVICE_RATES[d.service] ?? []) {
    const v = (d.rates[r.key] ?? "").trim();
    if (!v) errs[`rate.${r.key}`] = `Enter the ${r.label.toLowerCase()} rate`;
    else if (!DECIMAL.test(v)) errs[`rate.${r.key}`] = "A price in US dollars, like 3.00 or 0.0004";
  }
  return errs;
}

/** The entry POST /admin/prices takes: only the service's own rates, trimmed. */
export function entryFromDraft(d: PriceDraft): NewPriceEntry {
  const rates: Rates = {};
  for (const r of SERVICE_RATES[d.service]) rates[r.key] = (d.rates[r.key] ?? "").trim();
  const e: NewPriceEntry = { service: d.service, model: d.model.trim(), effective_from: d.effective_from, rates };
  if (d.note.trim()) e.note = d.note.trim();
  return e;
}

/** "$3.00 / MTok" for a rate of a service. */
export function describeRate(service: Service, key: string, value: string): string {
  const spec = SERVICE_RATES[service]?.find((r) => r.key === key);
  return `$${value}${spec ? ` / ${spec.short}` : ""}`;
}

export function sourceTone(source: string): "neutral" | "accent" | "success" {
  if (source === "database") return "success";
  if (source === "file") return "accent";
  return "neutral";
}

export function sourceLabel(source: string): string {
  if (source === "database") return "Database";
  if (source === "file") return "File";
  if (source === "built-in") return "Built-in";
  return source;
}

/** Catalog order for the table: service, model, newest first. */
export function sortEntries(entries: PriceEntry[]): PriceEntry[] {
  return [...entries].sort(
    (a, b) =>
      SERVICE_KEYS.indexOf(a.service) - SERVICE_KEYS.indexOf(b.service) ||
      a.model.localeCompare(b.model) ||
      b.effective_from.localeCompare(a.effective_from),
  );
}

/** The path of DELETE /admin/prices for an entry. */
export function removePath(e: Pick<PriceEntry, "service" | "model" | "effective_from">): string {
  const q = new URLSearchParams({ service: e.service, model: e.model, effective_from: e.effective_from });
  return `/admin/prices?${q.toString()}`;
}
