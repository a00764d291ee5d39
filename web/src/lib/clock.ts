// The server's clock. "Today" and the reporting zone come from /api/session,
// never from the browser: an admin in Auckland and a server reporting in UTC
// must agree on which days "the last 30 days" are.
import { parseDay } from "./dateRange";
import type { Session } from "./types";

/**
 * The server's today as a Date at local midnight of that calendar day, which
 * is what the date-range helpers and the calendar work with (they only ever
 * read the local calendar day back). A server too old to say falls back to
 * the browser's day.
 */
export function serverToday(session: Pick<Session, "today">, now: () => Date = () => new Date()): Date {
  return (session.today && parseDay(session.today)) || startOfLocalDay(now());
}

/** The reporting zone's name, or null when the server does not say. */
export function serverZone(session: Pick<Session, "timezone">): string | null {
  return session.timezone?.trim() || null;
}

function startOfLocalDay(d: Date): Date {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate());
}
