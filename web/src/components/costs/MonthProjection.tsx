import { TrendingUp } from "lucide-react";
import { shortDay } from "../budgets/BudgetCard";
import { formatInt, formatUSD } from "../../lib/format";
import { monthProjection, projectionRange } from "../../lib/forecast";
import { useCosts } from "../../lib/queries";
import { ErrorState } from "../ErrorState";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "../ui/card";
import { Skeleton } from "../ui/skeleton";

/**
 * The current month's projection: spend so far plus the mean daily spend of
 * the last 7 complete days for each day left (the budgets' forecast rule),
 * whatever range the rest of the tab shows. "Today" is the server's.
 */
export function MonthProjection({ today }: { today: Date }) {
  const range = projectionRange(today);
  const costs = useCosts(range, true);
  const p = costs.data ? monthProjection(costs.data.daily, today) : null;
  const share = p && p.forecast > 0 ? Math.min(100, (p.spend / p.forecast) * 100) : 0;
  return (
    <Card data-testid="month-projection">
      <CardHeader className="card-header-row">
        <div>
          <CardTitle>This month's projection</CardTitle>
          <CardDescription>
            Spend so far + the mean daily spend of the last 7 complete days × days left
            {p && ` (${shortDay(p.monthStart)} – ${shortDay(p.monthEnd)})`}
          </CardDescription>
        </div>
        <TrendingUp size={18} className="muted-icon" aria-hidden="true" />
      </CardHeader>
      <CardContent>
        {costs.error ? (
          <ErrorState error={costs.error} compact onRetry={() => costs.refetch()} />
        ) : (
          <>
            <div className="summary-row">
              <div className="summary">
                <span className="summary-label">So far (to {p ? shortDay(p.today) : "today"})</span>
                <span className="summary-value" data-testid="projection-spend">
                  {p ? formatUSD(p.spend) : <Skeleton width={64} height={20} />}
                </span>
              </div>
              <div className="summary">
                <span className="summary-label">Projected by {p ? shortDay(p.monthEnd) : "month end"}</span>
                <span className="summary-value" data-testid="projection-forecast" data-dollars={p ? p.forecast.toFixed(6) : undefined}>
                  {p ? formatUSD(p.forecast) : <Skeleton width={64} height={20} />}
                </span>
              </div>
              <div className="summary">
                <span className="summary-label">Daily rate (last 7 days)</span>
                <span className="summary-value" data-testid="projection-rate">
                  {p ? formatUSD(p.dailyMean) : <Skeleton width={64} height={20} />}
                </span>
              </div>
              <div className="summary">
                <span className="summary-label">Days left</span>
                <span className="summary-value" data-testid="projection-days-left">
                  {p ? formatInt(p.daysLeft) : <Skeleton width={24} height={20} />}
                </span>
              </div>
            </div>
            {p && (
              <div
                className="projection-bar"
                role="img"
                aria-label={`${formatUSD(p.spend)} spent of ${formatUSD(p.forecast)} projected for the month`}
              >
                <span className="projection-bar-fill" style={{ width: `${share}%` }} />
              </div>
            )}
          </>
        )}
      </CardContent>
    </Card>
  );
}
