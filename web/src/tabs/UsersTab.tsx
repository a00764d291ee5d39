import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "../components/ui/card";
import { Skeleton } from "../components/ui/skeleton";
import { cn } from "../components/ui/cn";
import { ChartFrame, ChartTooltip, Legend, animate, axisProps, dayTick, gridProps } from "../components/charts";
import { ErrorState } from "../components/ErrorState";
import { EngagementChart } from "../components/users/EngagementChart";
import { UserEconomicsTable } from "../components/users/UserEconomicsTable";
import { StoryCosts } from "../components/users/StoryCosts";
import { CohortHeatmap } from "../components/users/CohortHeatmap";
import { formatCompact, formatInt, formatMinutes, formatPercent, formatUSD } from "../lib/format";
import { CHART } from "../lib/services";
import type { DayRange } from "../lib/dateRange";
import { TOP_USERS_LIMIT, useTopUsers } from "../lib/queries";
import type { TopUsersSort, UserGrowth } from "../lib/types";

const SORTS: Array<{ key: TopUsersSort; label: string }> = [
  { key: "cost", label: "Cost" },
  { key: "stories", label: "Stories" },
  { key: "api_calls", label: "API calls" },
];

function Summary({ label, value }: { label: string; value?: string }) {
  return (
    <div className="summary">
      <span className="summary-label">{label}</span>
      <span className="summary-value">{value ?? <Skeleton width={56} height={20} />}</span>
    </div>
  );
}

export function UsersTab({
  growth,
  range,
  sortBy,
  onSortBy,
}: {
  growth?: UserGrowth;
  range: DayRange;
  sortBy: TopUsersSort;
  onSortBy: (s: TopUsersSort) => void;
}) {
  const top = useTopUsers(range, sortBy, true);

  return (
    <div className="stack">
      <Card>
        <CardHeader className="card-header-row">
          <div>
            <CardTitle>User Growth</CardTitle>
            <CardDescription>Total users (all signups to date, left axis) and users active each day (right axis)</CardDescription>
          </div>
          <Legend
            items={[
              { name: "Total users", color: CHART.primary },
              { name: "Active users", color: CHART.revenue },
            ]}
          />
        </CardHeader>
        <CardContent>
          <div className="summary-row">
            <Summary label="Before range" value={growth && formatInt(growth.users_before)} />
            <Summary label="At end" value={growth && formatInt(growth.users_at_end)} />
            <Summary label="Signups" value={growth && formatInt(growth.total_new)} />
            <Summary label="Churned" value={growth && formatInt(growth.total_churned)} />
            <Summary label="Active in range" value={growth && formatInt(growth.active_users)} />
            <Summary label="Growth" value={growth && formatPercent(growth.growth_rate, { signed: true })} />
          </div>
          <ChartFrame loading={!growth}>
            <ResponsiveContainer width="100%" height="100%">
              <LineChart data={growth?.daily ?? []} margin={{ top: 8, right: 0, left: -8, bottom: 0 }}>
                <CartesianGrid {...gridProps} />
                <XAxis dataKey="date" tickFormatter={dayTick} minTickGap={24} {...axisProps} />
                <YAxis yAxisId="total" tickFormatter={formatCompact} width={48} allowDecimals={false} domain={["auto", "auto"]} {...axisProps} />
                <YAxis yAxisId="active" orientation="right" tickFormatter={formatCompact} width={44} allowDecimals={false} {...axisProps} />
                <Tooltip content={<ChartTooltip fmt={formatInt} />} cursor={{ stroke: CHART.muted, strokeDasharray: "3 3" }} />
                <Line yAxisId="total" type="monotone" dataKey="total_users" name="Total users" stroke={CHART.primary} strokeWidth={2} dot={false} isAnimationActive={animate} />
                <Line yAxisId="active" type="monotone" dataKey="active_users" name="Active users" stroke={CHART.revenue} strokeWidth={2} dot={false} isAnimationActive={animate} />
              </LineChart>
            </ResponsiveContainer>
          </ChartFrame>
        </CardContent>
      </Card>

      <EngagementChart range={range} />

      <UserEconomicsTable range={range} />

      <StoryCosts range={range} />

      <CohortHeatmap range={range} />

      <Card>
        <CardHeader className="card-header-row">
          <div>
            <CardTitle>Top Users</CardTitle>
            <CardDescription>The {TOP_USERS_LIMIT} heaviest users in this range</CardDescription>
          </div>
          <div className="segmented" role="group" aria-label="Sort top users by">
            {SORTS.map((s) => (
              <button
                key={s.key}
                type="button"
                className={cn("segmented-item", sortBy === s.key && "is-active")}
                aria-pressed={sortBy === s.key}
                onClick={() => onSortBy(s.key)}
                data-testid={`sort-${s.key}`}
              >
                {s.label}
              </button>
            ))}
          </div>
        </CardHeader>
        <CardContent className="flush">
          {top.error ? (
            <div className="pad">
              <ErrorState error={top.error} onRetry={() => top.refetch()} compact />
            </div>
          ) : !top.data ? (
            <div className="table-skeleton">
              {Array.from({ length: 6 }, (_, i) => (
                <Skeleton key={i} height={18} />
              ))}
            </div>
          ) : top.data.length === 0 ? (
            <p className="empty">No user activity in this range.</p>
          ) : (
            <div className={cn("table-scroll", top.isPlaceholderData && "is-stale")}>
              <table className="table" data-testid="top-users-table">
                <thead>
                  <tr>
                    <th scope="col" className="rank hide-sm">#</th>
                    <th scope="col">User</th>
                    <th scope="col" className="num" aria-sort={sortBy === "stories" ? "descending" : undefined}>
                      Stories
                    </th>
                    <th scope="col" className="num" aria-sort={sortBy === "api_calls" ? "descending" : undefined}>
                      API calls
                    </th>
                    <th scope="col" className="num hide-sm">Audio</th>
                    <th scope="col" className="num" aria-sort={sortBy === "cost" ? "descending" : undefined}>
                      Cost
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {top.data.map((u, i) => (
                    <tr key={u.user_id}>
                      <td className="rank hide-sm">{i + 1}</td>
                      <td>
                        <div className="user-cell">
                          <span className="user-email" title={u.email ?? undefined}>{u.email ?? <span className="muted">no email</span>}</span>
                          <span className="user-id">{u.user_id}</span>
                        </div>
                      </td>
                      <td className={cn("num", sortBy === "stories" && "strong")}>{formatInt(u.stories)}</td>
                      <td className={cn("num", sortBy === "api_calls" && "strong")}>{formatInt(u.api_calls)}</td>
                      <td className="num hide-sm">{formatMinutes(u.audio_minutes)}</td>
                      <td className={cn("num", sortBy === "cost" && "strong")}>{formatUSD(u.cost_dollars)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </CardContent>
      </Card>
    </div>
  );
}
