import { Area, AreaChart, CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "../components/ui/card";
import { Skeleton } from "../components/ui/skeleton";
import { ChartFrame, ChartTooltip, Legend, animate, axisProps, dayTick, gridProps } from "../components/charts";
import { formatCompact, formatInt, formatPercent, formatUSD, formatUSDCompact } from "../lib/format";
import { CHART } from "../lib/services";
import type { DashboardMetrics } from "../lib/types";

function Stat({ label, value, note }: { label: string; value?: string; note?: string }) {
  return (
    <div className="stat">
      <dt>{label}</dt>
      <dd>
        {value ?? <Skeleton width={64} height={22} />}
        {note && <span className="stat-note">{note}</span>}
      </dd>
    </div>
  );
}

const rate = (part: number, whole: number) => (whole > 0 ? formatPercent((part / whole) * 100) : undefined);

export function UsageTab({ dashboard }: { dashboard?: DashboardMetrics }) {
  const t = dashboard?.totals;
  const daily = dashboard?.daily ?? [];
  return (
    <div className="stack">
      <Card>
        <CardHeader className="card-header-row">
          <div>
            <CardTitle>Stories Over Time</CardTitle>
            <CardDescription>Stories created per day</CardDescription>
          </div>
          {t && (
            <div className="header-figure">
              <span className="header-figure-value">{formatInt(t.stories_created)}</span>
              <span className="header-figure-label">in range</span>
            </div>
          )}
        </CardHeader>
        <CardContent>
          <ChartFrame loading={!dashboard}>
            <ResponsiveContainer width="100%" height="100%">
              <AreaChart data={daily} margin={{ top: 8, right: 8, left: -8, bottom: 0 }}>
                <defs>
                  <linearGradient id="storiesFill" x1="0" y1="0" x2="0" y2="1">
                    <stop offset="0%" stopColor={CHART.primary} stopOpacity={0.28} />
                    <stop offset="100%" stopColor={CHART.primary} stopOpacity={0.02} />
                  </linearGradient>
                </defs>
                <CartesianGrid {...gridProps} />
                <XAxis dataKey="date" tickFormatter={dayTick} minTickGap={24} {...axisProps} />
                <YAxis tickFormatter={formatCompact} width={48} allowDecimals={false} {...axisProps} />
                <Tooltip content={<ChartTooltip fmt={formatInt} />} cursor={{ stroke: CHART.muted, strokeDasharray: "3 3" }} />
                <Area
                  type="monotone"
                  dataKey="stories"
                  name="Stories"
                  stroke={CHART.primary}
                  strokeWidth={2}
                  fill="url(#storiesFill)"
                  isAnimationActive={animate}
                />
              </AreaChart>
            </ResponsiveContainer>
          </ChartFrame>
        </CardContent>
      </Card>

      <Card>
        <CardHeader>
          <CardTitle>Activity</CardTitle>
          <CardDescription>What the platform did in this range</CardDescription>
        </CardHeader>
        <CardContent>
          <dl className="stat-grid">
            <Stat label="Stories completed" value={t && formatInt(t.stories_completed)} note={t && rate(t.stories_completed, t.stories_created)} />
            <Stat label="Stories failed" value={t && formatInt(t.stories_failed)} note={t && rate(t.stories_failed, t.stories_created)} />
            <Stat label="Chapters" value={t && formatInt(t.total_chapters)} />
            <Stat label="Active users" value={t && formatInt(t.active_users)} />
            <Stat label="Churned users" value={t && formatInt(t.churned_users)} />
            <Stat label="API requests" value={t && formatInt(t.api_requests)} />
            <Stat label="API errors" value={t && formatInt(t.api_errors)} note={t && rate(t.api_errors, t.api_requests)} />
            <Stat
              label="Cost per story"
              value={t && (t.stories_created > 0 ? formatUSD(t.total_cost_cents / 100 / t.stories_created) : "—")}
            />
          </dl>
        </CardContent>
      </Card>

      <Card>
        <CardHeader className="card-header-row">
          <div>
            <CardTitle>Revenue and Spend</CardTitle>
            <CardDescription>Per day, in US dollars</CardDescription>
          </div>
          <Legend
            items={[
              { name: "Revenue", color: CHART.revenue },
              { name: "Spend", color: CHART.cost },
            ]}
          />
        </CardHeader>
        <CardContent>
          <ChartFrame loading={!dashboard} height={240}>
            <ResponsiveContainer width="100%" height="100%">
              <LineChart data={daily} margin={{ top: 8, right: 8, left: -8, bottom: 0 }}>
                <CartesianGrid {...gridProps} />
                <XAxis dataKey="date" tickFormatter={dayTick} minTickGap={24} {...axisProps} />
                <YAxis tickFormatter={formatUSDCompact} width={56} {...axisProps} />
                <Tooltip content={<ChartTooltip fmt={formatUSD} />} cursor={{ stroke: CHART.muted, strokeDasharray: "3 3" }} />
                <Line type="monotone" dataKey="revenue" name="Revenue" stroke={CHART.revenue} strokeWidth={2} dot={false} isAnimationActive={animate} />
                <Line type="monotone" dataKey="cost" name="Spend" stroke={CHART.cost} strokeWidth={2} dot={false} isAnimationActive={animate} />
              </LineChart>
            </ResponsiveContainer>
          </ChartFrame>
        </CardContent>
      </Card>
    </div>
  );
}
