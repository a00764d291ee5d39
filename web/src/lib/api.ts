// A small fetch wrapper for the Go API. Same origin, session cookie; POSTs
// carry the CSRF token. Every error becomes an ApiError with the API's own
// reason ({"error": "..."}) and, for 429, when to retry.
import type { DayRange } from "./dateRange";
import { readEventStream, type SSEEvent } from "./sse";

export class ApiError extends Error {
  readonly status: number;
  /** For 429: when the API said a retry may succeed (ms since epoch). */
  readonly retryAt: number | null;

  constructor(status: number, message: string, retryAt: number | null = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.retryAt = retryAt;
  }
}

let csrfToken = "";

/** Remembers the CSRF token from /login or /api/session for later POSTs. */
export function setCsrfToken(t: string) {
  csrfToken = t;
}

/** Parses Retry-After: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return now + Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t;
}

async function errorFrom(res: Response): Promise<ApiError> {
  let reason = "";
  const text = await res.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === "string") reason = body.error;
  } catch {
    reason = text.trim().slice(0, 300);
  }
  if (!reason) reason = res.statusText || `HTTP ${res.status}`;
  const retryAt = res.status === 429 ? parseRetryAfter(res.headers.get("Retry-After")) : null;
  return new ApiError(res.status, reason, retryAt);
}

async function send(path: string, init: RequestInit): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(path, { credentials: "same-origin", ...init });
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new ApiError(0, "Cannot reach the analytics server. Check your connection and try again.");
  }
  if (!res.ok) throw await errorFrom(res);
  return res;
}

/** Query string from params, skipping empty values. */
export function query(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v != null && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** The API's range parameters. */
export function rangeParams(r: DayRange) {
  return { start_date: r.start, end_date: r.end };
}

export async function getJSON<T>(path: string, params: Record<string, string | number | null | undefined> = {}): Promise<T> {
  const res = await send(path + query(params), { headers: { Accept: "application/json" } });
  return (await res.json()) as T;
}

export async function postJSON<T>(path: string, body: unknown): Promise<T> {
  const res = await send(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrfToken },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return (text ? JSON.parse(text) : {}) as T;
}

/** Sends a state change (PATCH, DELETE, …) with the CSRF header; an empty answer (204) is {}. */
export async function sendJSON<T>(method: "PATCH" | "PUT" | "DELETE" | "POST", path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", "X-CSRF-Token": csrfToken };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await send(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return (text ? JSON.parse(text) : {}) as T;
}

/** POSTs JSON and reads the server-sent events of the answer. */
export async function postEventStream(path: string, body: unknown, onEvent: (e: SSEEvent) => void, signal?: AbortSignal): Promise<void> {
  const res = await send(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "text/event-stream", "X-CSRF-Token": csrfToken },
    body: JSON.stringify(body),
    signal,
  });
  if (!res.body) return;
  await readEventStream(res.body, onEvent);
}

/** Fetches a file and returns it with the server's filename. */
export async function getFile(
  path: string,
  params: Record<string, string>,
  fallbackName: string,
): Promise<{ blob: Blob; filename: string }> {
  const res = await send(path + query(params), {});
  const blob = await res.blob();
  return { blob, filename: filenameFrom(res.headers.get("Content-Disposition")) ?? fallbackName };
}

/** The filename of a Content-Disposition header, if it names one safely. */
export function filenameFrom(cd: string | null): string | null {
  if (!cd) return null;
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(cd);
  let name = star ? decodeURIComponent(star[1]) : (/filename\s*=\s*"?([^";]+)"?/i.exec(cd)?.[1] ?? null);
  if (!name) return null;
  name = name.replace(/[/\\]/g, "_").trim();
  return name || null;
}

/** Saves a blob through a temporary link (no inline script, CSP-safe). */
export function saveBlob(blob: Blob, filename: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.rel = "noopener";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Sends the browser to sign in, coming back to where it was. */
export function redirectToLogin() {
  const here = window.location.pathname + window.location.search;
  window.location.assign(`/login${query({ next: here })}`);
}

/** Only same-site dashboard paths are acceptable after sign-in. */
export function safeNext(next: string | null): string {
  if (next && next.startsWith("/admin/analytics") && !next.startsWith("//")) return next;
  return "/admin/analytics";
}
