// Date ranges as the API takes them: two calendar days, YYYY-MM-DD, both
// included, end − start at most 365 days. The messages are the API's, word
// for word, so the operator reads the same refusal whichever side says it.
import { differenceInCalendarDays, format, isValid, parse, subDays } from "date-fns";

export const MAX_RANGE_DAYS = 365;
export const DEFAULT_RANGE_DAYS = 30;
export const PRESET_DAYS = [7, 30, 90, 365] as const;

export const MSG_DATE_FORMAT = "Invalid date format (expected YYYY-MM-DD)";
export const MSG_END_BEFORE_START = "End date must be after start date";
export const MSG_RANGE_TOO_LONG = "Date range cannot exceed 365 days";

/** An inclusive range of calendar days, as YYYY-MM-DD strings. */
export interface DayRange {
  start: string;
  end: string;
}

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

/** Parses YYYY-MM-DD strictly (no 2024-02-30) into a local midnight Date. */
export function parseDay(s: string): Date | null {
  if (!DAY_RE.test(s)) return null;
  const d = parse(s, "yyyy-MM-dd", new Date(2000, 0, 1));
  if (!isValid(d) || format(d, "yyyy-MM-dd") !== s) return null;
  return d;
}

/** Formats a Date as its local calendar day, YYYY-MM-DD. */
export function formatDay(d: Date): string {
  return format(d, "yyyy-MM-dd");
}

/**
 * Returns why the API would refuse the range, or null when it is valid.
 * Same checks in the same order as the server: format, order, length.
 */
export function validateRange(start: string, end: string): string | null {
  const s = parseDay(start);
  const e = parseDay(end);
  if (!s || !e) return MSG_DATE_FORMAT;
  const span = differenceInCalendarDays(e, s);
  if (span < 0) return MSG_END_BEFORE_START;
  if (span > MAX_RANGE_DAYS) return MSG_RANGE_TOO_LONG;
  return null;
}

/** Number of days in a valid range, both ends included. */
export function rangeDays(r: DayRange): number {
  const s = parseDay(r.start);
  const e = parseDay(r.end);
  if (!s || !e) return 0;
  return differenceInCalendarDays(e, s) + 1;
}

/** "Last N days" as the seed counts it: today − N through today. */
export function presetRange(days: number, today: Date): DayRange {
  return { start: formatDay(subDays(today, days)), end: formatDay(today) };
}

/** The default range, the API's own default: the last 30 days. */
export function defaultRange(today: Date): DayRange {
  return presetRange(DEFAULT_RANGE_DAYS, today);
}

/** Which preset a range matches (ending today), if any. */
export function matchPreset(r: DayRange, today: Date): number | null {
  for (const n of PRESET_DAYS) {
    const p = presetRange(n, today);
    if (p.start === r.start && p.end === r.end) return n;
  }
  return null;
}

/**
 * Reads ?start=YYYY-MM-DD&end=YYYY-MM-DD. A missing side falls back like
 * the API (end: today; start: end − 30 days). The range is returned even when
 * invalid, with the reason, so the page can show it and send nothing.
 */
export function rangeFromSearch(search: string, today: Date): { range: DayRange; error: string | null } {
  const q = new URLSearchParams(search);
  const end = q.get("end") ?? formatDay(today);
  let start = q.get("start");
  if (start == null) {
    const e = parseDay(end);
    start = e ? formatDay(subDays(e, DEFAULT_RANGE_DAYS)) : "";
  }
  const range = { start, end };
  return { range, error: validateRange(start, end) };
}

/** Writes the range into a query string, keeping other parameters. */
export function searchWithRange(search: string, r: DayRange): string {
  const q = new URLSearchParams(search);
  q.set("start", r.start);
  q.set("end", r.end);
  return `?${q.toString()}`;
}

/** "Mar 1 – Mar 31, 2026", or with both years when they differ. */
export function describeRange(r: DayRange): string {
  const s = parseDay(r.start);
  const e = parseDay(r.end);
  if (!s || !e) return `${r.start} – ${r.end}`;
  if (r.start === r.end) return format(s, "MMM d, yyyy");
  if (s.getFullYear() === e.getFullYear()) return `${format(s, "MMM d")} – ${format(e, "MMM d, yyyy")}`;
  return `${format(s, "MMM d, yyyy")} – ${format(e, "MMM d, yyyy")}`;
}
