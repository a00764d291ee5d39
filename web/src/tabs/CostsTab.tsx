import { Bar, BarChart, CartesianGrid, Cell, Pie, PieChart, ReferenceDot, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "../components/ui/card";
import { Badge } from "../components/ui/badge";
import { Skeleton } from "../components/ui/skeleton";
import { ChartFrame, ChartTooltip, Legend, animate, axisProps, dayTick, gridProps } from "../components/charts";
import { formatBytes, formatCompact, formatInt, formatShare, formatUSD, formatUSDCompact } from "../lib/format";
import { SERVICES, serviceColor, serviceName } from "../lib/services";
import { sourceLabel } from "../lib/prices";
import type { AnomalyDay, CostBreakdown, ModelCost, PriceRef } from "../lib/types";
import { AnomalyList, anomalyDots, anomalyKey, AnomalyMarker } from "../components/costs/Anomalies";
import { MonthProjection } from "../components/costs/MonthProjection";
import { ErrorState } from "../components/ErrorState";

function usage(m: ModelCost): string {
  const parts: string[] = [];
  if (m.input_tokens) parts.push(`${formatCompact(m.input_tokens)} in`);
  if (m.output_tokens) parts.push(`${formatCompact(m.output_tokens)} out`);
  const cache = m.cache_creation_input_tokens + m.cache_read_input_tokens;
  if (cache) parts.push(`${formatCompact(cache)} cache`);
  if (m.characters) parts.push(`${formatCompact(m.characters)} chars`);
  if (m.bytes_transferred) parts.push(formatBytes(m.bytes_transferred));
  if (m.requests) parts.push(`${formatCompact(m.requests)} req`);
  return parts.join(" · ") || "—";
}

function ShareBar({ pct, color }: { pct: number; color: string }) {
  return (
    <span className="share">
      <span className="share-track">
        <span className="share-fill" style={{ width: `${Math.min(100, Math.max(0, pct))}%`, background: color }} />
      </span>
      <span className="share-label">{formatShare(pct)}</span>
    </span>
  );
}

/** "priced by the built-in price of 2025-09-29; cost sent with the event" */
function pricedBy(refs: PriceRef[], model: string): string {
  const parts = refs.map((r) =>
    r.source === "caller"
      ? "cost sent with the event"
      : `${sourceLabel(r.source).toLowerCase()} price${r.model && r.model !== model ? ` of ${r.model}` : ""} from ${r.effective_from}`,
  );
  return `Priced by ${parts.join("; ")}`;
}

function TableSkeleton({ rows = 5, cols = 5 }: { rows?: number; cols?: number }) {
  return (
    <div className="table-skeleton">
      {Array.from({ length: rows }, (_, i) => (
        <div key={i} className="table-skeleton-row" style={{ gridTemplateColumns: `2fr repeat(${cols - 1}, 1fr)` }}>
          {Array.from({ length: cols }, (_, j) => (
            <Skeleton key={j} height={14} />
          ))}
        </div>
      ))}
    </div>
  );
}

export function CostsTab({
  costs,
  anomalies,
  today,
  anomalyError,
}: {
  costs?: CostBreakdown;
  /** GET /admin/anomalies for the same range: marked on the daily chart. */
  anomalies?: AnomalyDay[];
  /** The server's today: shows the current month's projection. */
  today?: Date;
  /** Why the anomalies could not be loaded (the chart is shown without marks). */
  anomalyError?: unknown;
}) {
  const b = costs?.breakdown;
  const odd = new Set((anomalies ?? []).map(anomalyKey));
  const dots = anomalyDots(costs?.daily ?? [], anomalies ?? []);
  const pie = SERVICES.map((s) => ({ key: s.key, name: s.name, color: s.color, value: b?.[s.key].cost_dollars ?? 0 }));
  const hasCost = pie.some((p) => p.value > 0);

  return (
    <div className="stack">
      <div className="grid-2">
        <Card>
          <CardHeader>
            <CardTitle>Cost Breakdown</CardTitle>
            <CardDescription>By service</CardDescription>
          </CardHeader>
          <CardContent>
            <ChartFrame loading={!costs} height={220}>
              <div className="donut">
                <ResponsiveContainer width="100%" height="100%">
                  <PieChart>
                    <Pie
                      data={hasCost ? pie : [{ key: "none", name: "No cost", color: "#e5e7eb", value: 1 }]}
                      dataKey="value"
                      nameKey="name"
                      cx="50%"
                      cy="50%"
                      innerRadius="62%"
                      outerRadius="92%"
                      paddingAngle={hasCost ? 2 : 0}
                      stroke="none"
                      isAnimationActive={animate}
                    >
                      {(hasCost ? pie : [{ color: "#e5e7eb" }]).map((p, i) => (
                        <Cell key={i} fill={p.color} />
                      ))}
                    </Pie>
                    {hasCost && (
                      <Tooltip
                        content={({ active, payload }) =>
                          active && payload?.length ? (
                            <div className="chart-tooltip">
                              <p className="chart-tooltip-row">
                                <span className="swatch" style={{ background: payload[0].payload.color }} />
                                <span className="chart-tooltip-name">{payload[0].name}</span>
                                <span className="chart-tooltip-value">{formatUSD(Number(payload[0].value))}</span>
                              </p>
                            </div>
                          ) : null
                        }
                      />
                    )}
                  </PieChart>
                </ResponsiveContainer>
                <div className="donut-center" aria-hidden="true">
                  <span className="donut-center-value">{b && formatUSD(b.total.cost_dollars)}</span>
                  <span className="donut-center-label">all services</span>
                </div>
              </div>
            </ChartFrame>
            <ul className="service-list">
              {SERVICES.map((s) => (
                <li key={s.key} data-testid={`service-${s.key}`}>
                  <span className="swatch" style={{ background: s.color }} />
                  <span className="service-name">{s.name}</span>
                  <span className="service-pct">{b ? formatShare(b[s.key].percentage) : <Skeleton width={40} height={14} />}</span>
                  <span className="service-cost">{b ? formatUSD(b[s.key].cost_dollars) : <Skeleton width={64} height={14} />}</span>
                </li>
              ))}
            </ul>
          </CardContent>
        </Card>

        <Card>
          <CardHeader className="card-header-row">
            <div>
              <CardTitle>Daily Costs</CardTitle>
              <CardDescription>Stacked by service</CardDescription>
            </div>
            <Legend
              items={[
                ...SERVICES.map((s) => ({ name: s.name, color: s.color })),
                ...(dots.length > 0 ? [{ name: "Anomaly", color: "#c01048" }] : []),
              ]}
            />
          </CardHeader>
          <CardContent>
            <ChartFrame loading={!costs} height={330}>
              <ResponsiveContainer width="100%" height="100%">
                <BarChart data={costs?.daily ?? []} margin={{ top: 8, right: 8, left: -8, bottom: 0 }}>
                  <CartesianGrid {...gridProps} />
                  <XAxis dataKey="date" tickFormatter={dayTick} minTickGap={24} {...axisProps} />
                  <YAxis tickFormatter={formatUSDCompact} width={56} {...axisProps} />
                  <Tooltip content={<ChartTooltip fmt={formatUSD} total />} cursor={{ fill: "rgba(99,102,241,0.06)" }} />
                  {SERVICES.map((s, i) => (
                    <Bar
                      key={s.key}
                      dataKey={s.key}
                      name={s.name}
                      stackId="cost"
                      fill={s.color}
                      radius={i === SERVICES.length - 1 ? [3, 3, 0, 0] : 0}
                      isAnimationActive={animate}
                    >
                      {(costs?.daily ?? []).map((d) =>
                        odd.has(`${s.key}/${d.date}`) ? (
                          <Cell key={d.date} fill={s.color} stroke="#c01048" strokeWidth={2} />
                        ) : (
                          <Cell key={d.date} fill={s.color} />
                        ),
                      )}
                    </Bar>
                  ))}
                  {dots.map((d) => (
                    <ReferenceDot
                      key={d.date}
                      x={d.date}
                      y={d.total}
                      r={7}
                      ifOverflow="extendDomain"
                      shape={(props) => <AnomalyMarker cx={props.cx} cy={props.cy} dot={d} />}
                    />
                  ))}
                </BarChart>
              </ResponsiveContainer>
            </ChartFrame>
            {anomalyError ? (
              <ErrorState error={anomalyError} compact title="Anomalies could not be loaded" />
            ) : (
              anomalies && <AnomalyList anomalies={anomalies} />
            )}
          </CardContent>
        </Card>
      </div>

      {today && <MonthProjection today={today} />}

      <Card>
        <CardHeader>
          <CardTitle>By Model</CardTitle>
          <CardDescription>Every service and model that was called in this range, most expensive first</CardDescription>
        </CardHeader>
        <CardContent className="flush">
          {!costs ? (
            <TableSkeleton cols={6} />
          ) : costs.by_model.length === 0 ? (
            <p className="empty">No API calls in this range.</p>
          ) : (
            <div className="table-scroll">
              <table className="table" data-testid="model-table">
                <thead>
                  <tr>
                    <th scope="col">Model</th>
                    <th scope="col" className="num">Calls</th>
                    <th scope="col" className="num">Errors</th>
                    <th scope="col">Usage</th>
                    <th scope="col" className="num">Cost</th>
                    <th scope="col">Share</th>
                  </tr>
                </thead>
                <tbody>
                  {costs.by_model.map((m) => (
                    <tr key={`${m.service}/${m.model}`} className={m.unpriced_calls > 0 ? "is-warning" : undefined}>
                      <td>
                        <div className="model-cell">
                          <span className="swatch" style={{ background: serviceColor(m.service) }} />
                          <div>
                            <div className="model-name">{m.model || "(no model)"}</div>
                            <div className="model-service">{serviceName(m.service)}</div>
                            {m.priced_by && m.priced_by.length > 0 && (
                              <div className="model-service" data-testid="priced-by">
                                {pricedBy(m.priced_by, m.model)}
                              </div>
                            )}
                          </div>
                          {m.unpriced_calls > 0 && (
                            <Badge tone="warning" title="No price in the catalog: counted at $0">
                              {formatInt(m.unpriced_calls)} unpriced
                            </Badge>
                          )}
                        </div>
                      </td>
                      <td className="num">{formatInt(m.calls)}</td>
                      <td className="num">{m.errors ? formatInt(m.errors) : <span className="muted">0</span>}</td>
                      <td className="usage">{usage(m)}</td>
                      <td className="num strong">{formatUSD(m.cost_dollars)}</td>
                      <td>
                        <ShareBar pct={m.percentage} color={serviceColor(m.service)} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </CardContent>
      </Card>

      {costs && costs.by_operation.length > 0 && (
        <Card>
          <CardHeader>
            <CardTitle>By Operation</CardTitle>
            <CardDescription>What the calls were for</CardDescription>
          </CardHeader>
          <CardContent className="flush">
            <div className="table-scroll">
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">Operation</th>
                    <th scope="col" className="num">Calls</th>
                    <th scope="col" className="num">Errors</th>
                    <th scope="col" className="num">Cost</th>
                    <th scope="col">Share</th>
                  </tr>
                </thead>
                <tbody>
                  {costs.by_operation.map((o) => (
                    <tr key={`${o.service}/${o.operation}`}>
                      <td>
                        <div className="model-cell">
                          <span className="swatch" style={{ background: serviceColor(o.service) }} />
                          <div>
                            <div className="model-name">{o.operation || "(none)"}</div>
                            <div className="model-service">{serviceName(o.service)}</div>
                          </div>
                        </div>
                      </td>
                      <td className="num">{formatInt(o.calls)}</td>
                      <td className="num">{o.errors ? formatInt(o.errors) : <span className="muted">0</span>}</td>
                      <td className="num strong">{formatUSD(o.cost_dollars)}</td>
                      <td>
                        <ShareBar pct={o.percentage} color={serviceColor(o.service)} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </CardContent>
        </Card>
      )}
    </div>
  );
}
