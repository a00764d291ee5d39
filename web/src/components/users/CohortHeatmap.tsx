// Signup cohorts on the Users tab (issue 13): GET /admin/analytics/cohorts.
// A retention heatmap (row = the week or month users signed up, column k =
// the k-th period after it, cell = retained[k] / size) and the lifetime
// revenue and cost curves per cohort user: all cohorts weighted by size, or
// one cohort chosen from the list.
import { useState } from "react";
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "../ui/card";
import { Skeleton } from "../ui/skeleton";
import { cn } from "../ui/cn";
import { ChartFrame, Legend, animate, axisProps, gridProps } from "../charts";
import { ErrorState } from "../ErrorState";
import { formatCents, formatInt, formatUSDCompact } from "../../lib/format";
import { CHART } from "../../lib/services";
import type { DayRange } from "../../lib/dateRange";
import { cohortLabel, formatRetention, heatColor, lifetimeCurve, periodHeader, retentionPct, type LifetimePoint } from "../../lib/economics";
import { useCohorts } from "../../lib/queries";
import type { CohortGranularity, Cohorts } from "../../lib/types";

const GRANULARITIES: Array<{ key: CohortGranularity; label: string }> = [
  { key: "week", label: "Weekly" },
  { key: "month", label: "Monthly" },
];

function Heatmap({ data }: { data: Cohorts }) {
  const g = data.granularity;
  const cols = data.cohorts.reduce((m, c) => Math.max(m, c.retained.length), 0);
  const unit = g === "month" ? "month" : "week";
  return (
    <div className="table-scroll heatmap-scroll" data-testid="cohort-heatmap-scroll">
      <table className="table heatmap" data-testid="cohort-heatmap">
        <caption className="sr-only">
          Share of each {unit}'s signups active in that {unit} (column 0) and each {unit} after
        </caption>
        <thead>
          <tr>
            <th scope="col">Cohort</th>
            <th scope="col" className="num">Users</th>
            {Array.from({ length: cols }, (_, k) => (
              <th key={k} scope="col" className="num heat-head" title={k === 0 ? `The signup ${unit}` : `${k} ${unit}${k === 1 ? "" : "s"} later`}>
                {periodHeader(k, g)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {data.cohorts.map((c) => (
            <tr key={c.cohort} data-testid="cohort-row" data-cohort={c.cohort}>
              <th scope="row" className="heat-cohort">
                <time dateTime={c.cohort}>{cohortLabel(c.cohort, g)}</time>
              </th>
              <td className="num" data-testid="cohort-size">{formatInt(c.size)}</td>
              {Array.from({ length: cols }, (_, k) => {
                if (k >= c.retained.length) return <td key={k} className="heat-cell is-future" aria-hidden="true" />;
                const p = retentionPct(c.retained[k], c.size);
                const h = heatColor(p);
                return (
                  <td
                    key={k}
                    className="num heat-cell"
                    data-testid="cohort-cell"
                    data-k={k}
                    title={`${formatInt(c.retained[k])} of ${formatInt(c.size)} users (${p == null ? "—" : p.toFixed(1) + "%"})`}
                    style={{ background: h.background, color: h.color }}
                  >
                    {formatRetention(p)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function CurveTooltip({
  active,
  payload,
  g,
}: {
  active?: boolean;
  payload?: ReadonlyArray<{ name?: string; value?: number; color?: string; payload?: LifetimePoint }>;
  g: CohortGranularity;
}) {
  const p = active ? payload?.[0]?.payload : undefined;
  if (!p) return null;
  return (
    <div className="chart-tooltip">
      <p className="chart-tooltip-label">
        {periodHeader(p.k, g)} · {formatInt(p.users)} users
      </p>
      {payload?.map((x, i) => (
        <p key={i} className="chart-tooltip-row">
          <span className="swatch" style={{ background: x.color }} />
          <span className="chart-tooltip-name">{x.name}</span>
          <span className="chart-tooltip-value">{formatCents(x.value)}</span>
        </p>
      ))}
    </div>
  );
}

function describeCurve(points: LifetimePoint[], who: string): string {
  const last = points[points.length - 1];
  if (!last) return "No cohort data.";
  return (
    `Lifetime revenue and cost per user, ${who}: after ${last.k + 1} periods ${formatCents(last.revenue)} revenue ` +
    `and ${formatCents(last.cost)} cost per user.`
  );
}

export function CohortHeatmap({ range }: { range: DayRange }) {
  const [period, setPeriod] = useState<CohortGranularity>("week");
  const [selected, setSelected] = useState<string>("");
  const q = useCohorts(range, period, true);
  const d = q.data;
  const chosen = d?.cohorts.some((c) => c.cohort === selected) ? selected : "";
  const curve = d ? lifetimeCurve(d.cohorts, chosen || null) : [];
  const g = d?.granularity ?? period;
  const who = chosen ? `the ${cohortLabel(chosen, g)} cohort` : "all cohorts weighted by size";
  const last = curve[curve.length - 1];

  return (
    <Card data-testid="cohorts-card">
      <CardHeader className="card-header-row">
        <div>
          <CardTitle>Signup Cohorts</CardTitle>
          <CardDescription>
            Users grouped by the {period} they signed up (cohorts that start in this range): how many stay active, and
            what they bring in and cost over time
          </CardDescription>
        </div>
        <div className="segmented" role="group" aria-label="Cohort period">
          {GRANULARITIES.map((x) => (
            <button
              key={x.key}
              type="button"
              className={cn("segmented-item", period === x.key && "is-active")}
              aria-pressed={period === x.key}
              onClick={() => setPeriod(x.key)}
              data-testid={`cohorts-${x.key}`}
            >
              {x.label}
            </button>
          ))}
        </div>
      </CardHeader>
      <CardContent>
        {q.error ? (
          <ErrorState error={q.error} onRetry={() => q.refetch()} compact />
        ) : !d ? (
          <div className="table-skeleton">
            {Array.from({ length: 5 }, (_, i) => (
              <Skeleton key={i} height={18} />
            ))}
          </div>
        ) : d.cohorts.length === 0 ? (
          <p className="empty" data-testid="cohorts-empty">
            No {period}ly signup cohort starts in this range
            {d.unattributed_users > 0 ? ` (${formatInt(d.unattributed_users)} active users have no signup on record)` : ""}.
          </p>
        ) : (
          <div className={cn("stack-sm", "stale-fade", q.isPlaceholderData && "is-stale")} data-granularity={d.granularity}>
            <Heatmap data={d} />
            {d.unattributed_users > 0 && (
              <p className="muted small" data-testid="cohorts-unattributed">
                {formatInt(d.unattributed_users)} active users in this range have no signup on record and are in no cohort.
              </p>
            )}
            <div className="section-row">
              <p className="section-subtitle">Lifetime revenue and cost per user</p>
              <label className="inline-field">
                <span className="sr-only">Cohort for the curves</span>
                <select
                  className="select-sm"
                  value={chosen}
                  onChange={(ev) => setSelected(ev.target.value)}
                  data-testid="cohorts-curve-select"
                >
                  <option value="">All cohorts</option>
                  {d.cohorts.map((c) => (
                    <option key={c.cohort} value={c.cohort}>
                      {cohortLabel(c.cohort, g)}
                    </option>
                  ))}
                </select>
              </label>
            </div>
            <div className="summary-row">
              <div className="summary">
                <span className="summary-label">Revenue per user{last ? ` by ${periodHeader(last.k, g)}` : ""}</span>
                <span className="summary-value" data-testid="cohorts-ltv">{formatCents(last?.revenue)}</span>
              </div>
              <div className="summary">
                <span className="summary-label">Cost per user{last ? ` by ${periodHeader(last.k, g)}` : ""}</span>
                <span className="summary-value" data-testid="cohorts-cts">{formatCents(last?.cost)}</span>
              </div>
              <Legend
                items={[
                  { name: "Revenue per user", color: CHART.revenue },
                  { name: "Cost per user", color: CHART.cost },
                ]}
              />
            </div>
            <ChartFrame loading={false} height={220}>
              <div role="img" aria-label={describeCurve(curve, who)} className="engagement-chart" data-testid="cohorts-curve">
                <ResponsiveContainer width="100%" height="100%">
                  <LineChart data={curve} margin={{ top: 8, right: 4, left: -8, bottom: 0 }}>
                    <CartesianGrid {...gridProps} />
                    <XAxis dataKey="k" tickFormatter={(k: number) => periodHeader(k, g)} minTickGap={12} {...axisProps} />
                    <YAxis tickFormatter={(v: number) => formatUSDCompact(v / 100)} width={52} {...axisProps} />
                    <Tooltip content={<CurveTooltip g={g} />} cursor={{ stroke: CHART.muted, strokeDasharray: "3 3" }} />
                    <Line type="monotone" dataKey="revenue" name="Revenue per user" stroke={CHART.revenue} strokeWidth={2} dot={false} isAnimationActive={animate} />
                    <Line type="monotone" dataKey="cost" name="Cost per user" stroke={CHART.cost} strokeWidth={2} dot={false} isAnimationActive={animate} />
                  </LineChart>
                </ResponsiveContainer>
              </div>
            </ChartFrame>
          </div>
        )}
      </CardContent>
    </Card>
  );
}
