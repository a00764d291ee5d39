import { useMemo, useState } from "react";
import { Download, Filter, Loader2, X } from "lucide-react";
import { format } from "date-fns";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "../components/ui/card";
import { Badge } from "../components/ui/badge";
import { Button } from "../components/ui/button";
import { Skeleton } from "../components/ui/skeleton";
import { cn } from "../components/ui/cn";
import { ErrorState } from "../components/ErrorState";
import { useAudit } from "../lib/queries";
import type { AuditEntry } from "../lib/types";

export const EXPORT_ACTION = "analytics_data_exported";

const KNOWN_ACTIONS = [
  "analytics_dashboard_viewed",
  EXPORT_ACTION,
  "login_succeeded",
  "login_failed",
  "token_created",
  // Prices (issue 10) and the credential lifecycle (issue 11).
  "prices_updated",
  "price_removed",
  "prices_repriced",
  "event_voided",
  "admin_updated",
  "admin_deleted",
  "admin_password_reset",
  "token_revoked",
  "ingest_key_revoked",
];

function isExport(e: AuditEntry): boolean {
  return e.details?.alert === "DATA_EXPORT" || e.action === EXPORT_ACTION;
}

// Details worth a glance first; session ids are noise in a table (kept in a tooltip).
// Where a call came from (ip, auth) is shown under the admin instead.
const DETAIL_ORDER = ["tool", "date_range", "export_format", "format", "sort_by", "limit"];
const DETAIL_HIDDEN = new Set(["alert", "session_id", "ip_address", "auth"]);

function detailText(v: unknown): string {
  if (v == null) return "";
  if (typeof v === "object" && !Array.isArray(v)) {
    const r = v as Record<string, unknown>;
    if (typeof r.start === "string" && typeof r.end === "string") return `${r.start} → ${r.end}`;
  }
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function Details({ e }: { e: AuditEntry }) {
  const rank = (k: string) => {
    const i = DETAIL_ORDER.indexOf(k);
    return i < 0 ? DETAIL_ORDER.length : i;
  };
  const entries = Object.entries(e.details ?? {})
    .filter(([k]) => !DETAIL_HIDDEN.has(k))
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
  const session = e.details?.session_id;
  if (!e.reason && entries.length === 0) return <span className="muted">—</span>;
  return (
    <div className="audit-details" title={session ? `session ${String(session)}` : undefined}>
      {e.reason && <span className="audit-reason">{e.reason}</span>}
      {entries.map(([k, v]) => (
        <span key={k} className="kv">
          <span className="kv-key">{k.replace(/_/g, " ")}</span>
          <span className="kv-value">{detailText(v)}</span>
        </span>
      ))}
    </div>
  );
}

/** The owner's audit trail: who looked at what, and every export. */
export function AuditTab() {
  const [draft, setDraft] = useState({ admin: "", action: "" });
  const [filter, setFilter] = useState({ admin: "", action: "" });
  const audit = useAudit(filter, true);
  const entries = useMemo(() => audit.data?.pages.flatMap((p) => p.entries) ?? [], [audit.data]);
  const actions = useMemo(() => Array.from(new Set([...KNOWN_ACTIONS, ...entries.map((e) => e.action)])).sort(), [entries]);
  const exportsOnly = filter.action === EXPORT_ACTION;
  const filtered = filter.admin !== "" || filter.action !== "";

  const apply = (f: { admin: string; action: string }) => {
    const next = { admin: f.admin.trim(), action: f.action.trim() };
    setDraft(next);
    setFilter(next);
  };

  return (
    <Card>
      <CardHeader className="card-header-row">
        <div>
          <CardTitle>Audit Log</CardTitle>
          <CardDescription>Recent access to analytics by every admin, on every door. Exports are highlighted.</CardDescription>
        </div>
        <Button
          variant={exportsOnly ? "primary" : "outline"}
          size="sm"
          aria-pressed={exportsOnly}
          onClick={() => apply({ ...draft, action: exportsOnly ? "" : EXPORT_ACTION })}
          data-testid="audit-exports-only"
        >
          <Download size={14} aria-hidden="true" />
          Exports only
        </Button>
      </CardHeader>
      <CardContent>
        <form
          className="filters"
          onSubmit={(e) => {
            e.preventDefault();
            apply(draft);
          }}
        >
          <label className="field">
            <span>Admin</span>
            <input
              type="search"
              name="admin"
              placeholder="email@company.com"
              value={draft.admin}
              onChange={(e) => setDraft((d) => ({ ...d, admin: e.target.value }))}
              autoComplete="off"
            />
          </label>
          <label className="field">
            <span>Action</span>
            <input
              type="search"
              name="action"
              list="audit-actions"
              placeholder="any action"
              value={draft.action}
              onChange={(e) => setDraft((d) => ({ ...d, action: e.target.value }))}
              autoComplete="off"
            />
            <datalist id="audit-actions">
              {actions.map((a) => (
                <option key={a} value={a} />
              ))}
            </datalist>
          </label>
          <div className="filters-actions">
            <Button type="submit" variant="outline" size="sm" data-testid="audit-apply">
              <Filter size={14} aria-hidden="true" />
              Filter
            </Button>
            {filtered && (
              <Button variant="ghost" size="sm" onClick={() => apply({ admin: "", action: "" })}>
                <X size={14} aria-hidden="true" />
                Clear
              </Button>
            )}
          </div>
        </form>
      </CardContent>
      <CardContent className="flush">
        {audit.error ? (
          <div className="pad">
            <ErrorState error={audit.error} onRetry={() => audit.refetch()} compact />
          </div>
        ) : !audit.data ? (
          <div className="table-skeleton">
            {Array.from({ length: 8 }, (_, i) => (
              <Skeleton key={i} height={18} />
            ))}
          </div>
        ) : entries.length === 0 ? (
          <p className="empty">{filtered ? "No entries match these filters." : "No audit entries yet."}</p>
        ) : (
          <div className="table-scroll">
            <table className="table audit-table" data-testid="audit-table">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Admin</th>
                  <th scope="col">Action</th>
                  <th scope="col">Door</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((e) => {
                  const exp = isExport(e);
                  const t = new Date(e.time);
                  return (
                    <tr key={String(e.id)} className={cn(exp && "is-export", e.outcome === "denied" && "is-denied")} data-export={exp || undefined}>
                      <td className="nowrap" title={e.time}>
                        {Number.isNaN(t.getTime()) ? e.time : format(t, "MMM d, HH:mm:ss")}
                      </td>
                      <td className="nowrap">
                        <div className="admin-cell">
                          <span>{e.admin_email || <span className="muted">{String(e.admin_id ?? "") || "—"}</span>}</span>
                          <span className="admin-origin">
                            {[e.details?.ip_address, e.details?.auth].filter((x) => x != null && x !== "").map(String).join(" · ")}
                          </span>
                        </div>
                      </td>
                      <td>
                        <div className="action-cell">
                          <code>{e.action}</code>
                          {exp && (
                            <Badge tone="warning">
                              <Download size={12} aria-hidden="true" />
                              DATA_EXPORT
                            </Badge>
                          )}
                        </div>
                      </td>
                      <td>
                        <Badge>{e.door}</Badge>
                      </td>
                      <td>
                        <Badge tone={e.outcome === "allowed" ? "success" : e.outcome === "denied" ? "danger" : "neutral"}>{e.outcome}</Badge>
                      </td>
                      <td>
                        <Details e={e} />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        {audit.hasNextPage && (
          <div className="load-more">
            <Button variant="outline" size="sm" onClick={() => audit.fetchNextPage()} disabled={audit.isFetchingNextPage}>
              {audit.isFetchingNextPage && <Loader2 size={14} className="spin" aria-hidden="true" />}
              Load older entries
            </Button>
          </div>
        )}
      </CardContent>
    </Card>
  );
}
