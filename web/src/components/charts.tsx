// Shared chart pieces: axis formatters and a tooltip that matches the cards.
import type { ReactNode } from "react";
import { format } from "date-fns";
import { parseDay } from "../lib/dateRange";
import { CHART } from "../lib/services";
import { Skeleton } from "./ui/skeleton";

export function dayTick(v: string): string {
  const d = parseDay(v);
  return d ? format(d, "MMM d") : v;
}

export function dayLabel(v: unknown): string {
  const d = typeof v === "string" ? parseDay(v) : null;
  return d ? format(d, "EEE, MMM d, yyyy") : String(v ?? "");
}

/** Charts animate unless the browser asks for reduced motion (and in tests). */
export const animate = typeof window !== "undefined" && !window.matchMedia("(prefers-reduced-motion: reduce)").matches;

export const axisProps = {
  stroke: CHART.axis,
  fontSize: 12,
  tickLine: false,
  axisLine: false,
} as const;

export const gridProps = { stroke: CHART.grid, strokeDasharray: "3 3", vertical: false } as const;

interface TooltipItem {
  name?: string | number;
  value?: number | string | readonly (number | string)[];
  color?: string;
  dataKey?: unknown;
  payload?: Record<string, unknown>;
}

/** A tooltip body; `fmt` formats each value. */
export function ChartTooltip({
  active,
  payload,
  label,
  fmt,
  total,
}: {
  active?: boolean;
  payload?: readonly TooltipItem[];
  label?: unknown;
  fmt: (v: number) => string;
  total?: boolean;
}) {
  if (!active || !payload?.length) return null;
  const sum = payload.reduce((s, p) => s + (typeof p.value === "number" ? p.value : 0), 0);
  return (
    <div className="chart-tooltip">
      <p className="chart-tooltip-label">{dayLabel(label)}</p>
      {payload.map((p, i) => (
        <p key={i} className="chart-tooltip-row">
          <span className="swatch" style={{ background: p.color }} />
          <span className="chart-tooltip-name">{p.name}</span>
          <span className="chart-tooltip-value">{typeof p.value === "number" ? fmt(p.value) : String(p.value)}</span>
        </p>
      ))}
      {total && payload.length > 1 && (
        <p className="chart-tooltip-row is-total">
          <span className="swatch" />
          <span className="chart-tooltip-name">All</span>
          <span className="chart-tooltip-value">{fmt(sum)}</span>
        </p>
      )}
    </div>
  );
}

/** Keeps the chart's box while data loads, so the page doesn't jump. */
export function ChartFrame({ loading, height = 300, children }: { loading: boolean; height?: number; children: ReactNode }) {
  if (loading) {
    return (
      <div className="chart-frame" style={{ height }}>
        <Skeleton width="100%" height="100%" />
      </div>
    );
  }
  return (
    <div className="chart-frame" style={{ height }}>
      {children}
    </div>
  );
}

export function Legend({ items }: { items: Array<{ name: string; color: string; value?: ReactNode }> }) {
  return (
    <ul className="legend">
      {items.map((it) => (
        <li key={it.name}>
          <span className="swatch" style={{ background: it.color }} />
          <span>{it.name}</span>
          {it.value != null && <span className="legend-value">{it.value}</span>}
        </li>
      ))}
    </ul>
  );
}
