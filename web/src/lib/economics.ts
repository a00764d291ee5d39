// Unit economics on the Users tab (issue 13): the P&L table's cursor stack
// and margin bars, the cohort heatmap's percentages and colors, and the
// lifetime revenue and cost curves. Pure functions, tested in economics.test.ts.
import { format } from "date-fns";
import { parseDay } from "./dateRange";
import type { Cohort, CohortGranularity, UserEconomics } from "./types";

// ---------- Paging ----------

/**
 * The P&L table's pages as a stack of cursors: element i is the cursor that
 * reads page i + 1 (null for the first page); the last element is the page
 * shown. "Next" pushes the answer's next_cursor, "Previous" pops.
 */
export type CursorStack = readonly (string | null)[];

export const FIRST_PAGE: CursorStack = [null];

export function currentCursor(s: CursorStack): string | null {
  return s[s.length - 1] ?? null;
}

/** The stack after "Next"; unchanged when there is no next page. */
export function nextPage(s: CursorStack, next: string | null | undefined): CursorStack {
  return next ? [...s, next] : s;
}

/** The stack after "Previous"; the first page stays the first page. */
export function previousPage(s: CursorStack): CursorStack {
  return s.length > 1 ? s.slice(0, -1) : s;
}

/** 1-based page number. */
export function pageNumber(s: CursorStack): number {
  return s.length;
}

// ---------- Margin bars ----------

export type Sign = "negative" | "zero" | "positive";

export function signOf(v: number): Sign {
  return v < 0 ? "negative" : v > 0 ? "positive" : "zero";
}

/** The largest |margin| on a page: the scale of its margin bars. */
export function maxAbsMargin(users: readonly UserEconomics[]): number {
  return users.reduce((m, u) => Math.max(m, Math.abs(u.margin_cents)), 0);
}

/**
 * A margin bar grows from the middle of its track: left (red) for a loss,
 * right (green) for a profit. `width` is the percent of the whole track,
 * 0..50, proportional to |margin| / scale.
 */
export function marginBar(margin: number, scale: number): { sign: Sign; width: number } {
  const sign = signOf(margin);
  if (sign === "zero" || !(scale > 0)) return { sign, width: 0 };
  return { sign, width: Math.min(1, Math.abs(margin) / scale) * 50 };
}

// ---------- Cohorts ----------

/** retained / size as a percent 0..100; null for an empty cohort. */
export function retentionPct(retained: number, size: number): number | null {
  return size > 0 ? (retained / size) * 100 : null;
}

/** A heatmap cell's text: a whole percent ("47%"). */
export function formatRetention(p: number | null): string {
  return p == null ? "—" : `${Math.round(p)}%`;
}

/**
 * A heatmap cell's background: the accent color with an opacity that grows
 * with the percent (0% is a faint tint, 100% nearly solid); dark text on
 * light cells, white on dark ones.
 */
export function heatColor(p: number | null): { background: string; color: string; alpha: number } {
  if (p == null) return { background: "transparent", color: "inherit", alpha: 0 };
  const f = Math.max(0, Math.min(1, p / 100));
  const alpha = Math.round((0.06 + 0.84 * f) * 100) / 100;
  return { background: `rgba(79, 70, 229, ${alpha})`, color: alpha > 0.5 ? "#ffffff" : "#101828", alpha };
}

/** "Mar 2, 2026" for a week cohort, "Mar 2026" for a month. */
export function cohortLabel(day: string, g: CohortGranularity): string {
  const d = parseDay(day);
  if (!d) return day;
  return format(d, g === "month" ? "MMM yyyy" : "MMM d, yyyy");
}

/** A heatmap column's short header: "W0", "M3". */
export function periodHeader(k: number, g: CohortGranularity): string {
  return `${g === "month" ? "M" : "W"}${k}`;
}

export interface LifetimePoint {
  k: number;
  /** Cumulative revenue per cohort user through period k, in cents. */
  revenue: number;
  /** Cumulative cost per cohort user through period k, in cents. */
  cost: number;
  /** Users of the cohorts that reached period k (the denominator). */
  users: number;
}

/**
 * Lifetime revenue and cost per cohort user, period by period. For one
 * cohort: revenue_cents[k] / size. For all (`cohort` null): the cohorts that
 * have reached period k, weighted by size, i.e. Σ revenue_cents[k] / Σ size
 * over those cohorts, so a later k averages fewer (older) cohorts.
 */
export function lifetimeCurve(cohorts: readonly Cohort[], cohort: string | null = null): LifetimePoint[] {
  const use = cohort == null ? cohorts : cohorts.filter((c) => c.cohort === cohort);
  const n = use.reduce((m, c) => Math.max(m, c.retained.length), 0);
  const out: LifetimePoint[] = [];
  for (let k = 0; k < n; k++) {
    let users = 0;
    let revenue = 0;
    let cost = 0;
    for (const c of use) {
      if (k >= c.revenue_cents.length || c.size <= 0) continue;
      users += c.size;
      revenue += c.revenue_cents[k];
      cost += c.cost_cents[k];
    }
    if (users > 0) out.push({ k, revenue: revenue / users, cost: cost / users, users });
  }
  return out;
}
