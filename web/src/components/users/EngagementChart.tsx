// The engagement chart on the Users tab (issue 13): DAU, WAU and MAU per day,
// and stickiness (DAU / MAU) in a small companion chart, with the range's
// average stickiness as a figure. The daily figures are also a table (for
// screen readers, and for the end-to-end test to compare with the API).
import { Area, AreaChart, CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "../ui/card";
import { Skeleton } from "../ui/skeleton";
import { cn } from "../ui/cn";
import { ChartFrame, ChartTooltip, Legend, animate, axisProps, dayLabel, dayTick, gridProps } from "../charts";
import { ErrorState } from "../ErrorState";
import { formatCompact, formatInt, formatPercent } from "../../lib/format";
import { CHART } from "../../lib/services";
import type { DayRange } from "../../lib/dateRange";
import { formatStickiness } from "../../lib/engagement";
import { useEngagement } from "../../lib/queries";
import type { Engagement } from "../../lib/types";

export const ENGAGEMENT_COLORS = { dau: CHART.primary, wau: CHART.primarySoft, mau: CHART.revenue, stickiness: "#d97706" };

function Figure({ label, value, testId }: { label: string; value?: string; testId: string }) {
  return (
    <div className="summary">
      <span className="summary-label">{label}</span>
      <span className="summary-value" data-testid={testId}>
        {value ?? <Skeleton width={56} height={20} />}
      </span>
    </div>
  );
}

/** What the charts show, in words, for the charts' accessible names. */
function describe(e: Engagement): { users: string; stickiness: string } {
  const n = e.daily.length;
  const last = e.daily[n - 1];
  if (!last) return { users: "No days in this range.", stickiness: "No days in this range." };
  const from = dayLabel(e.daily[0].date);
  const to = dayLabel(last.date);
  const peak = e.daily.reduce((m, d) => (d.dau > m.dau ? d : m), e.daily[0]);
  return {
    users:
      `Daily, weekly and monthly active users from ${from} to ${to}. ` +
      `On ${to}: DAU ${formatInt(last.dau)}, WAU ${formatInt(last.wau)}, MAU ${formatInt(last.mau)}. ` +
      `Highest DAU ${formatInt(peak.dau)} on ${dayLabel(peak.date)}.`,
    stickiness:
      `Stickiness (DAU / MAU) from ${from} to ${to}: average ${formatStickiness(e.average_stickiness)}, ` +
      `${formatStickiness(last.stickiness)} on ${to}.`,
  };
}

export function EngagementChart({ range }: { range: DayRange }) {
  const q = useEngagement(range, true);
  const e = q.data;
  const last = e?.daily[e.daily.length - 1];
  const words = e && describe(e);
  const pct = e?.daily.map((d) => ({ date: d.date, stickiness: d.stickiness * 100 })) ?? [];

  return (
    <Card data-testid="engagement-card">
      <CardHeader className="card-header-row">
        <div>
          <CardTitle>Engagement</CardTitle>
          <CardDescription>
            Users with an event on the day (DAU), in the 7 days (WAU) and in the 30 days (MAU) ending that day; stickiness is DAU / MAU
          </CardDescription>
        </div>
        <Legend
          items={[
            { name: "DAU", color: ENGAGEMENT_COLORS.dau },
            { name: "WAU", color: ENGAGEMENT_COLORS.wau },
            { name: "MAU", color: ENGAGEMENT_COLORS.mau },
            { name: "Stickiness", color: ENGAGEMENT_COLORS.stickiness },
          ]}
        />
      </CardHeader>
      <CardContent>
        {q.error ? (
          <ErrorState error={q.error} onRetry={() => q.refetch()} compact />
        ) : (
          <div className={cn("engagement-body", q.isPlaceholderData && "is-stale")}>
            <div className="summary-row">
              <Figure label="Average stickiness" value={e && formatStickiness(e.average_stickiness)} testId="engagement-avg-stickiness" />
              <Figure label={last ? `DAU on ${dayTick(last.date)}` : "DAU"} value={e && (last ? formatInt(last.dau) : "—")} testId="engagement-last-dau" />
              <Figure label={last ? `WAU on ${dayTick(last.date)}` : "WAU"} value={e && (last ? formatInt(last.wau) : "—")} testId="engagement-last-wau" />
              <Figure label={last ? `MAU on ${dayTick(last.date)}` : "MAU"} value={e && (last ? formatInt(last.mau) : "—")} testId="engagement-last-mau" />
            </div>
            <ChartFrame loading={!e} height={260}>
              <div role="img" aria-label={words?.users} data-testid="engagement-users-chart" className="engagement-chart">
                <ResponsiveContainer width="100%" height="100%">
                  <LineChart data={e?.daily ?? []} margin={{ top: 8, right: 4, left: -8, bottom: 0 }}>
                    <CartesianGrid {...gridProps} />
                    <XAxis dataKey="date" tickFormatter={dayTick} minTickGap={24} {...axisProps} />
                    <YAxis tickFormatter={formatCompact} width={48} allowDecimals={false} {...axisProps} />
                    <Tooltip content={<ChartTooltip fmt={formatInt} />} cursor={{ stroke: CHART.muted, strokeDasharray: "3 3" }} />
                    <Line type="monotone" dataKey="mau" name="MAU" stroke={ENGAGEMENT_COLORS.mau} strokeWidth={2} dot={false} isAnimationActive={animate} />
                    <Line type="monotone" dataKey="wau" name="WAU" stroke={ENGAGEMENT_COLORS.wau} strokeWidth={2} dot={false} isAnimationActive={animate} />
                    <Line type="monotone" dataKey="dau" name="DAU" stroke={ENGAGEMENT_COLORS.dau} strokeWidth={2} dot={false} isAnimationActive={animate} />
                  </LineChart>
                </ResponsiveContainer>
              </div>
            </ChartFrame>
            <p className="engagement-subtitle">Stickiness (DAU / MAU)</p>
            <ChartFrame loading={!e} height={130}>
              <div role="img" aria-label={words?.stickiness} data-testid="engagement-stickiness-chart" className="engagement-chart">
                <ResponsiveContainer width="100%" height="100%">
                  <AreaChart data={pct} margin={{ top: 8, right: 4, left: -8, bottom: 0 }}>
                    <CartesianGrid {...gridProps} />
                    <XAxis dataKey="date" tickFormatter={dayTick} minTickGap={24} {...axisProps} />
                    <YAxis tickFormatter={(v: number) => `${v}%`} width={48} domain={[0, "auto"]} tickCount={3} {...axisProps} />
                    <Tooltip content={<ChartTooltip fmt={(v) => formatPercent(v)} />} cursor={{ stroke: CHART.muted, strokeDasharray: "3 3" }} />
                    <Area
                      type="monotone"
                      dataKey="stickiness"
                      name="Stickiness"
                      stroke={ENGAGEMENT_COLORS.stickiness}
                      fill={ENGAGEMENT_COLORS.stickiness}
                      fillOpacity={0.12}
                      strokeWidth={2}
                      dot={false}
                      isAnimationActive={animate}
                    />
                  </AreaChart>
                </ResponsiveContainer>
              </div>
            </ChartFrame>
            {e && (
              <details className="engagement-details" data-testid="engagement-details">
                <summary>Daily figures</summary>
                <div className="table-scroll">
                  <table className="table" data-testid="engagement-table">
                    <caption className="sr-only">Engagement per day</caption>
                    <thead>
                      <tr>
                        <th scope="col">Day</th>
                        <th scope="col" className="num">DAU</th>
                        <th scope="col" className="num">WAU</th>
                        <th scope="col" className="num">MAU</th>
                        <th scope="col" className="num">Stickiness</th>
                      </tr>
                    </thead>
                    <tbody>
                      {e.daily.map((d) => (
                        <tr key={d.date} data-testid="engagement-row" data-date={d.date}>
                          <th scope="row">
                            <time dateTime={d.date} title={dayLabel(d.date)}>
                              {dayTick(d.date)}
                            </time>
                          </th>
                          <td className="num">{formatInt(d.dau)}</td>
                          <td className="num">{formatInt(d.wau)}</td>
                          <td className="num">{formatInt(d.mau)}</td>
                          <td className="num">{formatStickiness(d.stickiness)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </details>
            )}
          </div>
        )}
      </CardContent>
    </Card>
  );
}
