// Budgets: the form's draft, its checks (the server's rules, so a mistake is
// shown before any request), the request bodies, and words for scopes,
// periods and alert states. The server stays the judge: its reason is shown
// when it refuses.
import type {
  Budget,
  BudgetPeriod,
  BudgetRequest,
  BudgetScope,
  BudgetStatus,
  Service,
  WebhookFormat,
} from "./types";
import { serviceName } from "./services";

export const SCOPES: { value: BudgetScope; label: string; hint: string }[] = [
  { value: "total", label: "All spend", hint: "Every service, model and user" },
  { value: "service", label: "One service", hint: "Anthropic, ElevenLabs or S3" },
  { value: "model", label: "One model", hint: "A model id; aliases count as the model" },
  { value: "user", label: "One user", hint: "A user_id from the events" },
  { value: "each_user", label: "Each user", hint: "The same cap for every user separately" },
];

export const BUDGET_SERVICES: Service[] = ["anthropic", "elevenlabs", "s3"];
export const DEFAULT_THRESHOLDS = [50, 80, 100];
export const MAX_THRESHOLDS = 10;
export const MAX_THRESHOLD = 1000;
export const MAX_WEBHOOKS = 5;
export const MAX_NAME = 200;
/** $1,000,000,000, the server's cap. */
const MAX_AMOUNT_MICROS = 1_000_000_000n * 1_000_000n;

export interface WebhookDraft {
  url: string;
  format: WebhookFormat;
}

export interface BudgetDraft {
  name: string;
  scope: BudgetScope;
  scope_value: string;
  period: BudgetPeriod;
  amount: string;
  /** As typed: "50, 80, 100". */
  thresholds: string;
  webhooks: WebhookDraft[];
  notify_anomalies: boolean;
}

export function emptyBudgetDraft(): BudgetDraft {
  return {
    name: "",
    scope: "total",
    scope_value: "",
    period: "month",
    amount: "",
    thresholds: DEFAULT_THRESHOLDS.join(", "),
    webhooks: [],
    notify_anomalies: false,
  };
}

export function draftFromBudget(b: Budget): BudgetDraft {
  return {
    name: b.name,
    scope: b.scope,
    scope_value: b.scope_value,
    period: b.period,
    amount: b.amount_dollars,
    thresholds: b.thresholds.join(", "),
    webhooks: b.webhooks.map((w) => ({ url: w.url, format: w.format })),
    notify_anomalies: b.notify_anomalies,
  };
}

export function needsScopeValue(s: BudgetScope): boolean {
  return s === "service" || s === "model" || s === "user";
}

/** Reads an exact decimal dollar amount (at most six decimals) into micro-dollars; null if it is not one. */
export function parseDollars(s: string): bigint | null {
  const m = /^(\d+)(?:\.(\d{1,6}))?$/.exec(s.trim());
  if (!m) return null;
  return BigInt(m[1]) * 1_000_000n + BigInt((m[2] ?? "").padEnd(6, "0") || "0");
}

/** "50, 80 100" → [50, 80, 100] (sorted, no repeats); a string says what is wrong. */
export function parseThresholds(s: string): number[] | string {
  const parts = s.split(/[\s,;%]+/).filter(Boolean);
  if (parts.length === 0) return [...DEFAULT_THRESHOLDS];
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d+$/.test(p)) return `"${p}" is not a whole percent`;
    const n = Number(p);
    if (n < 1 || n > MAX_THRESHOLD) return `Thresholds are percents between 1 and ${MAX_THRESHOLD} (got ${n})`;
    if (!out.includes(n)) out.push(n);
  }
  if (out.length > MAX_THRESHOLDS) return `At most ${MAX_THRESHOLDS} thresholds`;
  return out.sort((a, b) => a - b);
}

function webhookError(url: string): string | undefined {
  const u = url.trim();
  if (!u) return "Enter the webhook's URL";
  if (u.length > 2048) return "At most 2,048 characters";
  let p: URL;
  try {
    p = new URL(u);
  } catch {
    return "An http or https URL, like https://hooks.example.com/x";
  }
  if ((p.protocol !== "http:" && p.protocol !== "https:") || !p.hostname) return "An http or https URL, like https://hooks.example.com/x";
  if (p.username || p.password) return "No user name or password in the URL";
  return undefined;
}

/** Field errors keyed by field ("name", "scope_value", "amount", "thresholds", "webhook.0"). */
export function validateBudget(d: BudgetDraft): Record<string, string> {
  const errs: Record<string, string> = {};
  const name = d.name.trim();
  if (!name) errs.name = "Give the budget a name";
  else if (new TextEncoder().encode(name).length > MAX_NAME) errs.name = `At most ${MAX_NAME} bytes`;
  const v = d.scope_value.trim();
  if (d.scope === "service" && !BUDGET_SERVICES.includes(v as Service)) errs.scope_value = "Choose the service";
  if (d.scope === "model" && !v) errs.scope_value = "Enter the model id, as the events name it";
  if (d.scope === "user" && !v) errs.scope_value = "Enter the user_id, as the events name it";
  const amount = parseDollars(d.amount);
  if (amount == null) errs.amount = "An amount in US dollars, like 500.00 (at most six decimals)";
  else if (amount <= 0n) errs.amount = "More than $0";
  else if (amount > MAX_AMOUNT_MICROS) errs.amount = "At most $1,000,000,000";
  const t = parseThresholds(d.thresholds);
  if (typeof t === "string") errs.thresholds = t;
  if (d.webhooks.length > MAX_WEBHOOKS) errs.webhooks = `At most ${MAX_WEBHOOKS} webhooks`;
  d.webhooks.forEach((w, i) => {
    const e = webhookError(w.url);
    if (e) errs[`webhook.${i}`] = e;
  });
  return errs;
}

function webhooksOf(d: BudgetDraft) {
  return d.webhooks.map((w) => ({ url: w.url.trim(), format: w.format }));
}

/** The POST body; call only when validateBudget found nothing. */
export function createRequest(d: BudgetDraft): BudgetRequest {
  const req: BudgetRequest = {
    name: d.name.trim(),
    scope: d.scope,
    scope_value: needsScopeValue(d.scope) ? d.scope_value.trim() : "",
    period: d.period,
    amount_dollars: d.amount.trim(),
    thresholds: parseThresholds(d.thresholds) as number[],
    webhooks: webhooksOf(d),
  };
  if (d.notify_anomalies) req.notify_anomalies = true;
  return req;
}

function sameWebhooks(a: WebhookDraft[], b: WebhookDraft[]): boolean {
  return a.length === b.length && a.every((w, i) => w.url.trim() === b[i].url && w.format === b[i].format);
}

/**
 * The PATCH body: only what changed. Scope, scope value and period cannot
 * change. The webhook list is sent only when it changed, because the server
 * replaces the list and makes new secrets.
 */
export function patchRequest(b: Budget, d: BudgetDraft): BudgetRequest {
  const req: BudgetRequest = {};
  if (d.name.trim() !== b.name) req.name = d.name.trim();
  const amount = d.amount.trim();
  if (parseDollars(amount) !== parseDollars(b.amount_dollars)) req.amount_dollars = amount;
  const t = parseThresholds(d.thresholds) as number[];
  if (t.join(",") !== b.thresholds.join(",")) req.thresholds = t;
  if (!sameWebhooks(d.webhooks, b.webhooks)) req.webhooks = webhooksOf(d);
  if (d.notify_anomalies !== b.notify_anomalies) req.notify_anomalies = d.notify_anomalies;
  return req;
}

export function webhooksChanged(b: Budget, d: BudgetDraft): boolean {
  return !sameWebhooks(d.webhooks, b.webhooks);
}

/** "Service: Anthropic", "User u42", "Each user", "All spend", "Model claude-x". */
export function describeScope(b: Pick<Budget, "scope" | "scope_value">): string {
  switch (b.scope) {
    case "total":
      return "All spend";
    case "service":
      return `Service: ${serviceName(b.scope_value as Service)}`;
    case "model":
      return `Model ${b.scope_value}`;
    case "user":
      return `User ${b.scope_value}`;
    case "each_user":
      return "Each user";
  }
  return b.scope;
}

export function describePeriod(p: BudgetPeriod): string {
  return p === "day" ? "Daily" : "Monthly";
}

/** A money string of the API as a number of dollars (for bars and formatting only; never sent back). */
export function dollars(s: string | null | undefined): number {
  const n = Number(s);
  return Number.isFinite(n) ? n : 0;
}

/** Where the status stands, in words: "Reached 100% on Nov 20", … */
export type Standing = "over" | "projected" | "safe" | "unknown";

export function standing(st: BudgetStatus): Standing {
  if (st.percent >= 100) return "over";
  if (st.projected_date) return "projected";
  if (dollars(st.forecast_dollars) > 0 || dollars(st.spend_dollars) > 0) return "safe";
  return "unknown";
}
