import { useState, type FormEvent } from "react";
import { Eye, Loader2, RefreshCw } from "lucide-react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { postJSON } from "../../lib/api";
import { parseDay } from "../../lib/dateRange";
import { formatCents, formatInt } from "../../lib/format";
import { PRICED_QUERY_KEYS } from "../../lib/queries";
import { serviceName } from "../../lib/services";
import type { RepriceRequest, RepriceResult } from "../../lib/types";
import { ErrorState } from "../ErrorState";
import { Badge } from "../ui/badge";
import { Button } from "../ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "../ui/card";
import { cn } from "../ui/cn";
import { useToast } from "../Toast";

export interface RepriceScope {
  since: string;
  until: string;
  model: string;
}

/** The request body: empty fields are left out (all calls, all models). */
export function repriceBody(s: RepriceScope, dryRun: boolean): RepriceRequest {
  const b: RepriceRequest = { dry_run: dryRun };
  if (s.since) b.since = s.since;
  if (s.until) b.until = s.until;
  if (s.model.trim()) b.model = s.model.trim();
  return b;
}

/** Why the scope would be refused, or null. */
export function validateScope(s: RepriceScope): string | null {
  if (s.since && !parseDay(s.since)) return "Since: invalid date (expected YYYY-MM-DD)";
  if (s.until && !parseDay(s.until)) return "Until: invalid date (expected YYYY-MM-DD)";
  if (s.since && s.until && s.until < s.since) return "Until must be on or after Since";
  return null;
}

function Delta({ from, to }: { from: number; to: number }) {
  const d = to - from;
  if (d === 0) return <span className="muted">no change</span>;
  return (
    <span className={cn("delta", d > 0 ? "is-up" : "is-down")}>
      {d > 0 ? "+" : "−"}
      {formatCents(Math.abs(d))}
    </span>
  );
}

/** The diff of a reprice (or of its dry run): per service and model, then in total. */
export function RepriceDiff({ result }: { result: RepriceResult }) {
  const rows = result.by_model ?? [];
  return (
    <div className="reprice-result" data-testid={result.dry_run ? "reprice-preview" : "reprice-applied"}>
      <p className="reprice-summary" role="status">
        {result.dry_run ? "Dry run: nothing was changed. " : "Repriced. "}
        <strong>{formatInt(result.calls_repriced)}</strong> of {formatInt(result.calls_examined)} calls examined{" "}
        {result.dry_run ? "would change" : "changed"} cost; unpriced calls {formatInt(result.unpriced_before)} →{" "}
        <strong data-testid="reprice-unpriced-after">{formatInt(result.unpriced_after)}</strong>; cost{" "}
        {formatCents(result.old_cost_cents)} → <strong data-testid="reprice-new-cost">{formatCents(result.new_cost_cents)}</strong>.
      </p>
      {rows.length > 0 && (
        <div className="table-scroll">
          <table className="table" data-testid="reprice-table">
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col" className="num">
                  Calls
                </th>
                <th scope="col" className="num">
                  Repriced
                </th>
                <th scope="col" className="num">
                  Unpriced
                </th>
                <th scope="col" className="num">
                  Old cost
                </th>
                <th scope="col" className="num">
                  New cost
                </th>
                <th scope="col" className="num">
                  Change
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((m) => (
                <tr key={`${m.service}/${m.model}`} data-model={m.model}>
                  <td>
                    <div className="model-name">{m.model || "(no model)"}</div>
                    <div className="model-service">{serviceName(m.service)}</div>
                  </td>
                  <td className="num">{formatInt(m.calls)}</td>
                  <td className="num">{formatInt(m.calls_repriced)}</td>
                  <td className="num nowrap">
                    {formatInt(m.unpriced_before)} → {formatInt(m.unpriced_after)}
                  </td>
                  <td className="num">{formatCents(m.old_cost_cents)}</td>
                  <td className="num strong">{formatCents(m.new_cost_cents)}</td>
                  <td className="num nowrap">
                    <Delta from={m.old_cost_cents} to={m.new_cost_cents} />
                  </td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">Total</th>
                <td className="num">{formatInt(result.calls_examined)}</td>
                <td className="num">{formatInt(result.calls_repriced)}</td>
                <td className="num nowrap">
                  {formatInt(result.unpriced_before)} → {formatInt(result.unpriced_after)}
                </td>
                <td className="num">{formatCents(result.old_cost_cents)}</td>
                <td className="num strong">{formatCents(result.new_cost_cents)}</td>
                <td className="num nowrap">
                  <Delta from={result.old_cost_cents} to={result.new_cost_cents} />
                </td>
              </tr>
            </tfoot>
          </table>
        </div>
      )}
    </div>
  );
}

/**
 * Recomputes stored calls' costs from the current catalog: a dry run first
 * (the diff), then Apply with exactly the scope that was previewed. Calls
 * whose cost the caller gave are never changed (the server's rule).
 */
export function RepricePanel({ initial }: { initial: RepriceScope }) {
  const qc = useQueryClient();
  const toast = useToast();
  const [scope, setScope] = useState<RepriceScope>(initial);
  const [preview, setPreview] = useState<{ scope: RepriceScope; result: RepriceResult } | null>(null);
  const [applied, setApplied] = useState<RepriceResult | null>(null);
  const [formError, setFormError] = useState<string | null>(null);

  const run = useMutation({
    mutationFn: ({ s, dryRun }: { s: RepriceScope; dryRun: boolean }) =>
      postJSON<RepriceResult>("/admin/prices/reprice", repriceBody(s, dryRun)),
    onSuccess: (result, { s, dryRun }) => {
      if (dryRun) {
        setPreview({ scope: s, result });
        setApplied(null);
        return;
      }
      setApplied(result);
      setPreview(null);
      for (const key of PRICED_QUERY_KEYS) void qc.invalidateQueries({ queryKey: [...key] });
      toast({
        tone: "success",
        title: `Repriced ${formatInt(result.calls_repriced)} ${result.calls_repriced === 1 ? "call" : "calls"}`,
        detail: `Cost ${formatCents(result.old_cost_cents)} → ${formatCents(result.new_cost_cents)}`,
      });
    },
  });

  const change = (patch: Partial<RepriceScope>) => {
    setScope((s) => ({ ...s, ...patch }));
    setFormError(null);
  };
  const previewCurrent =
    preview != null && preview.scope.since === scope.since && preview.scope.until === scope.until && preview.scope.model === scope.model;

  const onPreview = (e: FormEvent) => {
    e.preventDefault();
    const err = validateScope(scope);
    setFormError(err);
    if (!err) run.mutate({ s: scope, dryRun: true });
  };

  return (
    <Card>
      <CardHeader>
        <CardTitle>Reprice stored calls</CardTitle>
        <CardDescription>
          Recompute the cost of stored API calls from the current prices, in every figure. Calls whose cost was sent with the
          event keep it. Preview first: nothing changes until you apply.
        </CardDescription>
      </CardHeader>
      <CardContent>
        <form className="reprice-form" onSubmit={onPreview} noValidate aria-label="Reprice stored calls" data-testid="reprice-form">
          <div className="form-grid">
            <label className="field">
              <span>
                Since <small className="muted">first day, empty = all</small>
              </span>
              <input type="date" name="since" value={scope.since} onChange={(e) => change({ since: e.target.value })} />
            </label>
            <label className="field">
              <span>
                Until <small className="muted">last day, empty = today</small>
              </span>
              <input type="date" name="until" value={scope.until} onChange={(e) => change({ until: e.target.value })} />
            </label>
            <label className="field">
              <span>
                Model <small className="muted">empty = every model</small>
              </span>
              <input
                name="reprice-model"
                value={scope.model}
                onChange={(e) => change({ model: e.target.value })}
                list="price-models"
                autoComplete="off"
                spellCheck={false}
              />
            </label>
          </div>
          {formError && (
            <p className="field-error" role="alert">
              {formError}
            </p>
          )}
          {run.error && <ErrorState error={run.error} compact title="Reprice failed" />}
          <div className="form-actions">
            <Button type="submit" variant="outline" disabled={run.isPending} data-testid="reprice-preview-button">
              {run.isPending && run.variables?.dryRun ? (
                <Loader2 size={16} className="spin" aria-hidden="true" />
              ) : (
                <Eye size={16} aria-hidden="true" />
              )}
              Preview (dry run)
            </Button>
            <Button
              type="button"
              disabled={!previewCurrent || run.isPending}
              onClick={() => preview && run.mutate({ s: preview.scope, dryRun: false })}
              title={previewCurrent ? undefined : "Preview this scope first"}
              data-testid="reprice-apply"
            >
              {run.isPending && !run.variables?.dryRun ? (
                <Loader2 size={16} className="spin" aria-hidden="true" />
              ) : (
                <RefreshCw size={16} aria-hidden="true" />
              )}
              Apply reprice
            </Button>
            {preview && !previewCurrent && <Badge tone="warning">Scope changed: preview again</Badge>}
          </div>
        </form>
        {preview && <RepriceDiff result={preview.result} />}
        {applied && <RepriceDiff result={applied} />}
      </CardContent>
    </Card>
  );
}
