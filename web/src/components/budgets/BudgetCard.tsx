import { format } from "date-fns";
import { Pencil, Trash2, Webhook as WebhookIcon } from "lucide-react";
import { describePeriod, describeScope, dollars, standing } from "../../lib/budgets";
import { parseDay } from "../../lib/dateRange";
import { formatPercent, formatUSD } from "../../lib/format";
import { useBudgetStatus } from "../../lib/queries";
import type { Budget, BudgetProgress, BudgetStatus } from "../../lib/types";
import { ErrorState } from "../ErrorState";
import { Badge } from "../ui/badge";
import { Button } from "../ui/button";
import { Card, CardContent, CardHeader, CardTitle } from "../ui/card";
import { ConfirmButton } from "../ui/confirm-button";
import { Skeleton } from "../ui/skeleton";
import { cn } from "../ui/cn";

/** "Nov 20" for a YYYY-MM-DD day. */
export function shortDay(s: string | null | undefined): string {
  const d = s ? parseDay(s) : null;
  return d ? format(d, "MMM d") : (s ?? "");
}

/** The bar runs to 100% of the cap; beyond that it is full and red. Threshold ticks sit on it. */
export function ProgressBar({ percent, thresholds, label }: { percent: number; thresholds: number[]; label: string }) {
  const tone = percent >= 100 ? "is-over" : thresholds.some((t) => t < 100 && percent >= t) ? "is-warn" : "is-ok";
  return (
    <div
      className={cn("budget-bar", tone)}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.min(percent, 100)}
      aria-valuetext={formatPercent(percent)}
      data-testid="budget-bar"
      data-percent={percent}
    >
      <span className="budget-bar-fill" style={{ width: `${Math.min(100, Math.max(0, percent))}%` }} />
      {thresholds
        .filter((t) => t < 100)
        .map((t) => (
          <span key={t} className="budget-bar-tick" style={{ left: `${t}%` }} aria-hidden="true" />
        ))}
    </div>
  );
}

function Projection({ p, st }: { p: BudgetProgress; st: BudgetStatus }) {
  if (p.percent >= 100 && p.projected_date) return <>Reached 100% on {shortDay(p.projected_date)}</>;
  if (p.projected_date) return <>Reaches 100% on {shortDay(p.projected_date)} at the last 7 days' rate</>;
  return <>Not projected to reach 100% by {shortDay(st.period_end)}</>;
}

/** One budget's standing: spend of the cap, percent, forecast, projected day, fired thresholds. */
function StatusBody({ st, name }: { st: BudgetStatus; name: string }) {
  const b = st.budget;
  const eachUser = b.scope === "each_user";
  const s = standing(st);
  return (
    <div className="budget-status" data-testid="budget-status" data-standing={s}>
      {eachUser && (
        <p className="muted small" data-testid="budget-each-user-lead">
          {st.users && st.users.length > 0 ? (
            <>
              Highest: <strong>{st.user_id}</strong> ({st.users.length} {st.users.length === 1 ? "user" : "users"} at or over{" "}
              {b.thresholds[0]}%)
            </>
          ) : (
            <>No user has reached {b.thresholds[0]}% this period.</>
          )}
        </p>
      )}
      <div className="budget-figures">
        <span>
          <strong className="budget-spend" data-testid="budget-spend">
            {formatUSD(dollars(st.spend_dollars))}
          </strong>{" "}
          <span className="muted">
            of <span data-testid="budget-amount">{formatUSD(dollars(b.amount_dollars))}</span>
          </span>
        </span>
        <strong className={cn("budget-percent", st.percent >= 100 && "is-over")} data-testid="budget-percent">
          {formatPercent(st.percent)}
        </strong>
      </div>
      <ProgressBar percent={st.percent} thresholds={b.thresholds} label={`${name}: spend as a share of the budget`} />
      <dl className="budget-kv">
        <div>
          <dt>Remaining</dt>
          <dd data-testid="budget-remaining">{formatUSD(dollars(st.remaining_dollars))}</dd>
        </div>
        <div>
          <dt>Forecast by {shortDay(st.period_end)}</dt>
          <dd data-testid="budget-forecast">{formatUSD(dollars(st.forecast_dollars))}</dd>
        </div>
        <div className="wide">
          <dt>Reaching the cap</dt>
          <dd data-testid="budget-projected" data-date={st.projected_date ?? ""}>
            <Projection p={st} st={st} />
          </dd>
        </div>
      </dl>
      <div className="budget-thresholds" aria-label="Thresholds">
        {b.thresholds.map((t) => {
          const fired = st.thresholds_fired.includes(t);
          return (
            <Badge
              key={t}
              tone={fired ? (t >= 100 ? "danger" : "warning") : "neutral"}
              data-testid={`budget-threshold-${t}`}
              data-fired={fired ? "true" : "false"}
              title={fired ? `${t}% reached this period` : `${t}% not reached this period`}
            >
              {t}% {fired ? "reached" : "not reached"}
            </Badge>
          );
        })}
      </div>
      {eachUser && st.users && st.users.length > 0 && (
        <div className="table-scroll">
          <table className="table budget-users" data-testid="budget-users">
            <caption className="sr-only">Users at or over {b.thresholds[0]}% of this budget</caption>
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col" className="num">
                  Spend
                </th>
                <th scope="col" className="num">
                  Percent
                </th>
                <th scope="col" className="num">
                  Forecast
                </th>
              </tr>
            </thead>
            <tbody>
              {st.users.map((u) => (
                <tr key={u.user_id} data-user={u.user_id}>
                  <td className="user-id">{u.user_id}</td>
                  <td className="num">{formatUSD(dollars(u.spend_dollars))}</td>
                  <td className="num">{formatPercent(u.percent)}</td>
                  <td className="num">{formatUSD(dollars(u.forecast_dollars))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

/** A budget with its live status (GET /admin/budgets/{id}/status); owners get Edit and Delete. */
export function BudgetCard({
  budget,
  canEdit,
  onEdit,
  onDelete,
  deleting,
}: {
  budget: Budget;
  canEdit: boolean;
  onEdit: () => void;
  onDelete: () => void;
  deleting: boolean;
}) {
  const status = useBudgetStatus(budget.id);
  const st = status.data;
  return (
    <Card className="budget-card" data-testid="budget-card" data-budget-id={budget.id} data-budget-name={budget.name}>
      <CardHeader className="card-header-row">
        <div className="budget-head">
          <CardTitle>{budget.name}</CardTitle>
          <p className="muted small" data-testid="budget-scope">
            {describeScope(budget)} · {describePeriod(budget.period)}
            {st && (
              <>
                {" "}
                · {shortDay(st.period_start)} – {shortDay(st.period_end)}
              </>
            )}
          </p>
        </div>
        {canEdit && (
          <div className="row-actions">
            <Button variant="outline" size="sm" onClick={onEdit} aria-label={`Edit ${budget.name}`} data-testid="budget-edit">
              <Pencil size={14} aria-hidden="true" />
              Edit
            </Button>
            <ConfirmButton
              confirm="Delete budget"
              onConfirm={onDelete}
              busy={deleting}
              label={`Delete ${budget.name}`}
              testId="budget-delete"
            >
              <Trash2 size={14} aria-hidden="true" />
              Delete
            </ConfirmButton>
          </div>
        )}
      </CardHeader>
      <CardContent>
        {status.error ? (
          <ErrorState error={status.error} compact onRetry={() => status.refetch()} />
        ) : !st ? (
          <div className="budget-status">
            <Skeleton width="60%" height={18} />
            <Skeleton width="100%" height={10} />
            <Skeleton width="80%" height={14} />
          </div>
        ) : (
          <StatusBody st={st} name={budget.name} />
        )}
        {budget.webhooks.length > 0 && (
          <ul className="budget-hooks" aria-label="Webhooks">
            {budget.webhooks.map((w) => (
              <li key={w.id}>
                <WebhookIcon size={13} aria-hidden="true" />
                <span className="budget-hook-url">{w.url}</span>
                <Badge tone="neutral">{w.format}</Badge>
              </li>
            ))}
            {budget.notify_anomalies && <li className="muted">Also sends cost anomalies</li>}
          </ul>
        )}
      </CardContent>
    </Card>
  );
}
