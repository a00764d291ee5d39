// The per-user P&L on the Users tab (issue 13): GET
// /admin/analytics/users/economics. The summary covers every user of the
// range; the table is one page of them, biggest losers first by default,
// sortable by margin, cost, revenue and stories in either order, paged with
// the API's cursor (Previous pops a stack of cursors, Next pushes). Margin
// comes right after the user so that at 375 px the two stay in view while
// the rest of the table scrolls inside its box.
import { useState } from "react";
import { ArrowDown, ArrowUp, ChevronLeft, ChevronRight } from "lucide-react";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "../ui/card";
import { Button } from "../ui/button";
import { Skeleton } from "../ui/skeleton";
import { cn } from "../ui/cn";
import { ErrorState } from "../ErrorState";
import { formatCents, formatInt, formatPercent } from "../../lib/format";
import type { DayRange } from "../../lib/dateRange";
import {
  FIRST_PAGE,
  currentCursor,
  marginBar,
  maxAbsMargin,
  nextPage,
  pageNumber,
  previousPage,
  type CursorStack,
} from "../../lib/economics";
import { ECONOMICS_PAGE_SIZE, useUserEconomics } from "../../lib/queries";
import type { EconomicsSort, EconomicsSummary, SortOrder, UserEconomics } from "../../lib/types";

/** The order a column sorts in when first chosen: losers first for margin, the biggest first otherwise. */
export const DEFAULT_ORDER: Record<EconomicsSort, SortOrder> = { margin: "asc", cost: "desc", revenue: "desc", stories: "desc" };

function SummaryCard({ label, value, testId, tone }: { label: string; value?: string; testId: string; tone?: "danger" | "success" }) {
  return (
    <div className="stat">
      <dt>{label}</dt>
      <dd className={cn(tone && `tone-text-${tone}`)} data-testid={testId}>
        {value ?? <Skeleton width={64} height={20} />}
      </dd>
    </div>
  );
}

function Summary({ s }: { s?: EconomicsSummary }) {
  return (
    <dl className="stat-grid economics-summary" data-testid="economics-summary">
      <SummaryCard label="Users" value={s && formatInt(s.users)} testId="economics-users" />
      <SummaryCard label="Paying" value={s && formatInt(s.paying_users)} testId="economics-paying" />
      <SummaryCard label="Losing money" value={s && formatInt(s.users_losing_money)} testId="economics-losing" />
      <SummaryCard label="Total loss" value={s && formatCents(s.loss_cents)} testId="economics-loss" tone={s && s.loss_cents < 0 ? "danger" : undefined} />
      <SummaryCard label="Revenue" value={s && formatCents(s.revenue_cents)} testId="economics-revenue" />
      <SummaryCard label="Cost" value={s && formatCents(s.cost_cents)} testId="economics-cost" />
      <SummaryCard
        label="Margin"
        value={s && formatCents(s.margin_cents)}
        testId="economics-margin"
        tone={s ? (s.margin_cents < 0 ? "danger" : s.margin_cents > 0 ? "success" : undefined) : undefined}
      />
    </dl>
  );
}

/** A bar from the middle of its track: left and red for a loss, right and green for a profit. */
export function MarginBar({ margin, scale }: { margin: number; scale: number }) {
  const b = marginBar(margin, scale);
  return (
    <span className="margin-track" aria-hidden="true" data-testid="margin-bar" data-sign={b.sign}>
      <span className={cn("margin-fill", `is-${b.sign}`)} style={{ width: `${b.width}%` }} />
    </span>
  );
}

function SortHeader({
  k,
  label,
  sortBy,
  order,
  onSort,
  className,
}: {
  k: EconomicsSort;
  label: string;
  sortBy: EconomicsSort;
  order: SortOrder;
  onSort: (k: EconomicsSort) => void;
  className?: string;
}) {
  const active = sortBy === k;
  const Icon = order === "asc" ? ArrowUp : ArrowDown;
  return (
    <th scope="col" className={cn("num", className)} aria-sort={active ? (order === "asc" ? "ascending" : "descending") : undefined}>
      <button type="button" className="sort-button" onClick={() => onSort(k)} data-testid={`economics-sort-${k}`}>
        {label}
        {active && <Icon size={12} aria-hidden="true" />}
      </button>
    </th>
  );
}

function Row({ u, scale, sortBy }: { u: UserEconomics; scale: number; sortBy: EconomicsSort }) {
  return (
    <tr data-testid="economics-row" data-user={u.user_id}>
      <td>
        <div className="user-cell">
          <span className="user-email" title={u.email ?? undefined}>
            {u.email ?? <span className="muted">no email</span>}
          </span>
          <span className="user-id">{u.user_id}</span>
        </div>
      </td>
      <td className={cn("num", sortBy === "margin" && "strong")}>
        <span className="margin-cell">
          <MarginBar margin={u.margin_cents} scale={scale} />
          <span className={cn(u.margin_cents < 0 && "tone-text-danger")} data-testid="economics-row-margin">
            {formatCents(u.margin_cents)}
          </span>
        </span>
      </td>
      <td className={cn("num", sortBy === "revenue" && "strong")} data-testid="economics-row-revenue">
        {formatCents(u.revenue_cents)}
      </td>
      <td className={cn("num", sortBy === "cost" && "strong")} data-testid="economics-row-cost">
        {formatCents(u.cost_cents)}
      </td>
      <td className="num hide-sm" data-testid="economics-row-margin-pct">
        {formatPercent(u.margin_pct, { signed: true })}
      </td>
      <td className={cn("num", sortBy === "stories" && "strong")} data-testid="economics-row-stories">
        {formatInt(u.stories)}
      </td>
      <td className="num hide-sm" data-testid="economics-row-cost-per-story">
        {formatCents(u.cost_per_story_cents)}
      </td>
    </tr>
  );
}

export function UserEconomicsTable({ range }: { range: DayRange }) {
  const [sortBy, setSortBy] = useState<EconomicsSort>("margin");
  const [order, setOrder] = useState<SortOrder>("asc");
  // The cursor stack belongs to its range (the API refuses another range's
  // cursor): a new range reads its first page in the same render, never the
  // old range's cursor.
  const rangeKey = `${range.start}|${range.end}`;
  const [paging, setPaging] = useState<{ key: string; stack: CursorStack }>({ key: rangeKey, stack: FIRST_PAGE });
  const stack = paging.key === rangeKey ? paging.stack : FIRST_PAGE;
  const setStack = (next: CursorStack | ((s: CursorStack) => CursorStack)) =>
    setPaging((p) => {
      const cur = p.key === rangeKey ? p.stack : FIRST_PAGE;
      return { key: rangeKey, stack: typeof next === "function" ? next(cur) : next };
    });

  const q = useUserEconomics(range, sortBy, order, currentCursor(stack), true);
  const e = q.data;
  const page = pageNumber(stack);
  const scale = e ? maxAbsMargin(e.users) : 0;

  const onSort = (k: EconomicsSort) => {
    if (k === sortBy) setOrder((o) => (o === "asc" ? "desc" : "asc"));
    else {
      setSortBy(k);
      setOrder(DEFAULT_ORDER[k]);
    }
    setStack(FIRST_PAGE);
  };

  const first = (page - 1) * ECONOMICS_PAGE_SIZE + 1;
  const shown = e && !q.isPlaceholderData ? e.users.length : 0;

  return (
    <Card data-testid="economics-card">
      <CardHeader>
        <CardTitle>Profit &amp; Loss per User</CardTitle>
        <CardDescription>
          Revenue (payments − refunds) against the cost of each user's API calls in this range; biggest losers first
        </CardDescription>
      </CardHeader>
      <CardContent className="flush">
        {q.error ? (
          <div className="pad">
            <ErrorState error={q.error} onRetry={() => q.refetch()} compact />
          </div>
        ) : (
          <>
            <div className="pad">
              <Summary s={e?.summary} />
            </div>
            {!e ? (
              <div className="table-skeleton">
                {Array.from({ length: 6 }, (_, i) => (
                  <Skeleton key={i} height={18} />
                ))}
              </div>
            ) : e.users.length === 0 && page === 1 ? (
              <p className="empty">No user had revenue or cost in this range.</p>
            ) : (
              <>
                <div className={cn("table-scroll", q.isPlaceholderData && "is-stale")}>
                  <table className="table economics-table" data-testid="economics-table" data-page={q.isPlaceholderData ? undefined : page}>
                    <caption className="sr-only">
                      Profit and loss per user, sorted by {sortBy} {order === "asc" ? "ascending" : "descending"}, page {page}
                    </caption>
                    <thead>
                      <tr>
                        <th scope="col">User</th>
                        <SortHeader k="margin" label="Margin" sortBy={sortBy} order={order} onSort={onSort} />
                        <SortHeader k="revenue" label="Revenue" sortBy={sortBy} order={order} onSort={onSort} />
                        <SortHeader k="cost" label="Cost" sortBy={sortBy} order={order} onSort={onSort} />
                        <th scope="col" className="num hide-sm">
                          Margin %
                        </th>
                        <SortHeader k="stories" label="Stories" sortBy={sortBy} order={order} onSort={onSort} />
                        <th scope="col" className="num hide-sm">
                          Cost / story
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {e.users.map((u) => (
                        <Row key={u.user_id} u={u} scale={scale} sortBy={sortBy} />
                      ))}
                    </tbody>
                  </table>
                </div>
                <div className="pager">
                  <span className="muted" data-testid="economics-page-status">
                    {shown > 0
                      ? `Page ${page}: users ${formatInt(first)}–${formatInt(first + shown - 1)} of ${formatInt(e.summary.users)}`
                      : `Page ${page}`}
                  </span>
                  <div className="pager-buttons">
                    <Button
                      variant="outline"
                      size="sm"
                      onClick={() => setStack(previousPage)}
                      disabled={page === 1 || q.isFetching}
                      data-testid="economics-prev"
                    >
                      <ChevronLeft size={14} aria-hidden="true" />
                      Previous
                    </Button>
                    <Button
                      variant="outline"
                      size="sm"
                      onClick={() => setStack((s) => nextPage(s, e.next_cursor))}
                      disabled={!e.next_cursor || q.isFetching}
                      data-testid="economics-next"
                    >
                      Next
                      <ChevronRight size={14} aria-hidden="true" />
                    </Button>
                  </div>
                </div>
              </>
            )}
          </>
        )}
      </CardContent>
    </Card>
  );
}
