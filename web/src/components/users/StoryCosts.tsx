// The Stories section of the Users tab (issue 13): GET /admin/analytics/stories.
// Counts by status and cost, the distribution of a completed story's cost
// (mean, p50, p90, p99, max, and a 20-bucket histogram), cost per audio
// minute, and the most expensive stories split by service.
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "../ui/card";
import { Badge } from "../ui/badge";
import { Skeleton } from "../ui/skeleton";
import { cn } from "../ui/cn";
import { ChartFrame, Legend, animate, axisProps, gridProps } from "../charts";
import { ErrorState } from "../ErrorState";
import { formatCents, formatCompact, formatInt, formatMinutes, formatUSDCompact } from "../../lib/format";
import { CHART, SERVICES } from "../../lib/services";
import type { DayRange } from "../../lib/dateRange";
import { TOP_STORIES_LIMIT, useStoryCosts } from "../../lib/queries";
import type { HistogramBucket, StoryCost, StoryCosts as StoryCostsData, StoryStatus } from "../../lib/types";

function Stat({ label, value, testId, note }: { label: string; value?: string; testId: string; note?: string }) {
  return (
    <div className="stat">
      <dt>{label}</dt>
      <dd data-testid={testId}>
        {value ?? <Skeleton width={64} height={20} />}
        {note && <span className="stat-note">{note}</span>}
      </dd>
    </div>
  );
}

const STATUS: Record<StoryStatus, { label: string; tone: "success" | "danger" | "neutral" }> = {
  completed: { label: "Completed", tone: "success" },
  failed: { label: "Failed", tone: "danger" },
  in_progress: { label: "In progress", tone: "neutral" },
};

/** "$1.10–$2.21": a histogram bucket's bounds. */
export function bucketLabel(b: HistogramBucket): string {
  return `${formatCents(b.from_cents)}–${formatCents(b.to_cents)}`;
}

/** The split of a story's cost by service, as percents of its cost (0 when it cost nothing). */
export function serviceShares(s: StoryCost): Array<{ key: string; name: string; color: string; cents: number; pct: number }> {
  const total = s.by_service.anthropic + s.by_service.elevenlabs + s.by_service.s3;
  return SERVICES.map((x) => {
    const cents = s.by_service[x.key];
    return { key: x.key, name: x.name, color: x.color, cents, pct: total > 0 ? (cents / total) * 100 : 0 };
  });
}

/** Axis ticks: cents as short dollars ("$0.43", "$2.2", "$1.2k"). */
export function axisMoney(cents: number): string {
  const d = cents / 100;
  return Math.abs(d) < 1 ? `$${d.toFixed(2)}` : formatUSDCompact(d);
}

function HistogramTooltip({ active, payload }: { active?: boolean; payload?: ReadonlyArray<{ payload?: HistogramBucket }> }) {
  const b = active ? payload?.[0]?.payload : undefined;
  if (!b) return null;
  return (
    <div className="chart-tooltip">
      <p className="chart-tooltip-label">{bucketLabel(b)}</p>
      <p className="chart-tooltip-row">
        <span className="swatch" style={{ background: CHART.primary }} />
        <span className="chart-tooltip-name">Completed stories</span>
        <span className="chart-tooltip-value">{formatInt(b.stories)}</span>
      </p>
    </div>
  );
}

function describeHistogram(d: StoryCostsData): string {
  const h = d.histogram;
  if (!h.length) return "No completed stories in this range.";
  const peak = h.reduce((m, b) => (b.stories > m.stories ? b : m), h[0]);
  return (
    `Cost of the ${formatInt(d.completed)} completed stories in ${h.length} buckets from ${formatCents(h[0].from_cents)} ` +
    `to ${formatCents(h[h.length - 1].to_cents)}; most (${formatInt(peak.stories)}) cost ${bucketLabel(peak)}.`
  );
}

function ServiceSplitBar({ s }: { s: StoryCost }) {
  const shares = serviceShares(s);
  return (
    <span
      className="split-bar"
      data-testid="story-split"
      title={shares.map((x) => `${x.name} ${formatCents(x.cents)}`).join(", ")}
    >
      {shares.map((x) =>
        x.pct > 0 ? <span key={x.key} className="split-seg" data-service={x.key} style={{ width: `${x.pct}%`, background: x.color }} /> : null,
      )}
    </span>
  );
}

export function StoryCosts({ range }: { range: DayRange }) {
  const q = useStoryCosts(range, true);
  const d = q.data;
  const dist = d?.cost_per_completed_story_cents;
  const share = (n: number) => (d && d.stories > 0 ? `${((n / d.stories) * 100).toFixed(1)}%` : undefined);

  return (
    <Card data-testid="stories-card">
      <CardHeader className="card-header-row">
        <div>
          <CardTitle>Story Costs</CardTitle>
          <CardDescription>Stories begun in this range: what each cost to make, and where the money went</CardDescription>
        </div>
      </CardHeader>
      <CardContent>
        {q.error ? (
          <ErrorState error={q.error} onRetry={() => q.refetch()} compact />
        ) : (
          <div className={cn("stack-sm", "stale-fade", q.isPlaceholderData && "is-stale")}>
            <dl className="stat-grid" data-testid="stories-kpis">
              <Stat label="Stories" value={d && formatInt(d.stories)} testId="stories-total" />
              <Stat label="Completed" value={d && formatInt(d.completed)} testId="stories-completed" note={d && share(d.completed)} />
              <Stat label="Failed" value={d && formatInt(d.failed)} testId="stories-failed" note={d && share(d.failed)} />
              <Stat label="In progress" value={d && formatInt(d.in_progress)} testId="stories-in-progress" />
              <Stat label="Cost" value={d && formatCents(d.cost_cents)} testId="stories-cost" />
              <Stat label="Spent on failed" value={d && formatCents(d.failed_cost_cents)} testId="stories-failed-cost" />
              <Stat label="Per audio minute" value={d && formatCents(d.cost_per_audio_minute_cents)} testId="stories-per-minute" />
              <Stat label="Mean per completed" value={dist && formatCents(dist.mean)} testId="stories-mean" />
              <Stat label="Median (p50)" value={dist && formatCents(dist.p50)} testId="stories-p50" />
              <Stat label="p90" value={dist && formatCents(dist.p90)} testId="stories-p90" />
              <Stat label="p99" value={dist && formatCents(dist.p99)} testId="stories-p99" />
              <Stat label="Most expensive" value={dist && formatCents(dist.max)} testId="stories-max" />
            </dl>

            <div>
              <p className="section-subtitle">Cost per completed story</p>
              {d && d.histogram.length === 0 ? (
                <p className="empty">No completed stories in this range.</p>
              ) : (
                <ChartFrame loading={!d} height={220}>
                  <div role="img" aria-label={d && describeHistogram(d)} className="engagement-chart" data-testid="stories-histogram">
                    <ResponsiveContainer width="100%" height="100%">
                      <BarChart data={d?.histogram ?? []} margin={{ top: 8, right: 4, left: -8, bottom: 0 }} barCategoryGap={1}>
                        <CartesianGrid {...gridProps} />
                        <XAxis
                          dataKey="from_cents"
                          tickFormatter={axisMoney}
                          minTickGap={16}
                          {...axisProps}
                        />
                        <YAxis tickFormatter={formatCompact} width={44} allowDecimals={false} {...axisProps} />
                        <Tooltip content={<HistogramTooltip />} cursor={{ fill: "rgba(79, 70, 229, 0.06)" }} />
                        <Bar dataKey="stories" name="Completed stories" fill={CHART.primary} radius={[3, 3, 0, 0]} isAnimationActive={animate} />
                      </BarChart>
                    </ResponsiveContainer>
                  </div>
                </ChartFrame>
              )}
            </div>

            <div>
              <div className="section-row">
                <p className="section-subtitle">The {TOP_STORIES_LIMIT} most expensive stories</p>
                <Legend items={SERVICES.map((s) => ({ name: s.name, color: s.color }))} />
              </div>
              {!d ? (
                <div className="table-skeleton">
                  {Array.from({ length: 4 }, (_, i) => (
                    <Skeleton key={i} height={18} />
                  ))}
                </div>
              ) : d.top.length === 0 ? (
                <p className="empty">No stories in this range.</p>
              ) : (
                <div className="table-scroll">
                  <table className="table" data-testid="stories-top-table">
                    <caption className="sr-only">The most expensive stories of the range, with their cost by service</caption>
                    <thead>
                      <tr>
                        <th scope="col">Story</th>
                        <th scope="col" className="hide-sm">Status</th>
                        <th scope="col" className="num hide-sm">Chapters</th>
                        <th scope="col" className="num hide-sm">Audio</th>
                        <th scope="col">By service</th>
                        <th scope="col" className="num">Cost</th>
                      </tr>
                    </thead>
                    <tbody>
                      {d.top.map((s) => (
                        <tr key={s.story_id} data-testid="stories-top-row" data-story={s.story_id}>
                          <td>
                            <div className="user-cell">
                              <span className="user-email mono" title={s.story_id}>{s.story_id}</span>
                              <span className="user-id">{s.user_id}</span>
                            </div>
                          </td>
                          <td className="hide-sm">
                            <Badge tone={STATUS[s.status]?.tone ?? "neutral"}>{STATUS[s.status]?.label ?? s.status}</Badge>
                          </td>
                          <td className="num hide-sm">{formatInt(s.chapters)}</td>
                          <td className="num hide-sm">{formatMinutes(s.audio_seconds / 60)}</td>
                          <td>
                            <ServiceSplitBar s={s} />
                            <span className="sr-only">
                              {serviceShares(s)
                                .map((x) => `${x.name} ${formatCents(x.cents)}`)
                                .join(", ")}
                            </span>
                          </td>
                          <td className="num strong" data-testid="stories-top-cost">
                            {formatCents(s.cost_cents)}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </div>
          </div>
        )}
      </CardContent>
    </Card>
  );
}
