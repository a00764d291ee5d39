// Helpers for the Admins page: credential states and times as an owner reads them.
import { format } from "date-fns";
import type { Role } from "./types";

export const ROLES: Role[] = ["viewer", "analyst", "owner"];

export const ROLE_HELP: Record<Role, string> = {
  viewer: "sees the dashboard",
  analyst: "sees and exports",
  owner: "everything, including admins, prices and the audit log",
};

export type CredentialState = "active" | "revoked" | "expired";

/** A token or ingest key: revoked wins over expired; null times mean never. */
export function credentialState(c: { revoked_at: string | null; expires_at: string | null }, now = Date.now()): CredentialState {
  if (c.revoked_at) return "revoked";
  if (c.expires_at && Date.parse(c.expires_at) <= now) return "expired";
  return "active";
}

/**
 * "Nov 29, 2026 14:05" for an instant, in the server's reporting zone when
 * given (the zone the header names), else the browser's; the fallback for null.
 */
export function formatWhen(iso: string | null | undefined, never = "Never", zone?: string | null): string {
  if (!iso) return never;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  if (zone) {
    try {
      const parts = Object.fromEntries(
        new Intl.DateTimeFormat("en-US", {
          timeZone: zone,
          year: "numeric",
          month: "short",
          day: "numeric",
          hour: "2-digit",
          minute: "2-digit",
          hourCycle: "h23",
        })
          .formatToParts(t)
          .map((p) => [p.type, p.value]),
      );
      return `${parts.month} ${parts.day}, ${parts.year} ${parts.hour}:${parts.minute}`;
    } catch {
      // An unknown zone name: fall through to the browser's.
    }
  }
  return format(t, "MMM d, yyyy HH:mm");
}

/** Active credentials first, then newest first. */
export function sortCredentials<T extends { id: number; created_at: string; revoked_at: string | null; expires_at: string | null }>(
  list: T[],
  now = Date.now(),
): T[] {
  const rank = (c: T) => (credentialState(c, now) === "active" ? 0 : 1);
  return [...list].sort((a, b) => rank(a) - rank(b) || b.created_at.localeCompare(a.created_at) || b.id - a.id);
}
