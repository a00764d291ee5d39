// Anomalous days (GET /admin/anomalies) on the daily cost chart: the
// service's bar segment is outlined, a marker sits on top of the day's stack,
// and a list below the chart says the figures in words (for screen readers
// and for anyone who does not hover).
import { TriangleAlert } from "lucide-react";
import { dollars } from "../../lib/budgets";
import { formatUSD } from "../../lib/format";
import { serviceName } from "../../lib/services";
import type { AnomalyDay, CostDay } from "../../lib/types";
import { dayLabel } from "../charts";
import { shortDay } from "../budgets/BudgetCard";

export function anomalyKey(a: Pick<AnomalyDay, "service" | "date">): string {
  return `${a.service}/${a.date}`;
}

export interface AnomalyDot {
  date: string;
  /** The day's stacked total (dollars): where the marker sits. */
  total: number;
  anomalies: AnomalyDay[];
}

/** One marker per anomalous day that the chart shows, at the top of its stack. */
export function anomalyDots(daily: CostDay[], anomalies: AnomalyDay[]): AnomalyDot[] {
  const out: AnomalyDot[] = [];
  for (const d of daily) {
    const here = anomalies.filter((a) => a.date === d.date);
    if (here.length === 0) continue;
    out.push({ date: d.date, total: d.anthropic + d.elevenlabs + d.s3, anomalies: here });
  }
  return out;
}

function describe(a: AnomalyDay): string {
  return `${serviceName(a.service)} ${formatUSD(dollars(a.cost_dollars))} (usual ${formatUSD(dollars(a.baseline_dollars))}, anomalous above ${formatUSD(dollars(a.threshold_dollars))})`;
}

/** The SVG marker of an anomalous day. */
export function AnomalyMarker({ cx, cy, dot }: { cx?: number; cy?: number; dot: AnomalyDot }) {
  if (cx == null || cy == null) return <g />;
  const y = cy - 12;
  return (
    <g
      className="anomaly-marker"
      data-testid="anomaly-marker"
      data-date={dot.date}
      data-services={dot.anomalies.map((a) => a.service).join(",")}
      role="img"
      aria-label={`Anomaly on ${dayLabel(dot.date)}: ${dot.anomalies.map(describe).join("; ")}`}
    >
      <title>{`Anomaly on ${dayLabel(dot.date)}: ${dot.anomalies.map(describe).join("; ")}`}</title>
      <circle cx={cx} cy={y} r={8} fill="#c01048" stroke="#fff" strokeWidth={1.5} />
      <text x={cx} y={y + 4} textAnchor="middle" fontSize={11} fontWeight={700} fill="#fff">
        !
      </text>
    </g>
  );
}

/** The anomalies of the range, in words. */
export function AnomalyList({ anomalies }: { anomalies: AnomalyDay[] }) {
  if (anomalies.length === 0) {
    return (
      <p className="anomaly-none muted small" data-testid="anomalies-none">
        No anomalous days in this range (a day is anomalous when a service costs more than its median + max(4 × 1.4826 ×
        MAD, 20%, $1.00) of the 28 days before).
      </p>
    );
  }
  return (
    <div className="anomaly-list" data-testid="anomalies">
      <p className="anomaly-list-title">
        <TriangleAlert size={14} aria-hidden="true" /> {anomalies.length} anomalous{" "}
        {anomalies.length === 1 ? "day" : "days"} (cost above median + max(4 × 1.4826 × MAD, 20%, $1.00) of the 28 days before)
      </p>
      <ul>
        {anomalies.map((a) => (
          <li key={anomalyKey(a)} data-testid="anomaly" data-date={a.date} data-service={a.service}>
            <strong>{shortDay(a.date)}</strong> {serviceName(a.service)}{" "}
            <span className="strong" data-testid="anomaly-cost">
              {formatUSD(dollars(a.cost_dollars))}
            </span>{" "}
            <span className="muted">
              usual {formatUSD(dollars(a.baseline_dollars))}, threshold {formatUSD(dollars(a.threshold_dollars))}
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}
