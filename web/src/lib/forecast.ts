// The current month's projection on the Costs tab, by the rule budgets use
// (issue 12): period-end spend = spend so far + (mean daily spend over the
// last 7 complete days) × days left in the period. Computed in whole
// micro-dollars with the server's integer division, so it equals the
// forecast_dollars of a monthly "all spend" budget to the micro-dollar.
import { addDays, differenceInCalendarDays, endOfMonth, startOfMonth } from "date-fns";
import { formatDay, parseDay, type DayRange } from "./dateRange";
import type { CostDay } from "./types";

export const FORECAST_WINDOW = 7;

export interface MonthProjection {
  monthStart: string;
  monthEnd: string;
  today: string;
  /** Spend from the month's first day to today (today so far), dollars. */
  spend: number;
  /** Mean daily spend of the 7 complete days before today, dollars. */
  dailyMean: number;
  daysLeft: number;
  /** Projected spend at the month's end, dollars. */
  forecast: number;
}

/** The days the projection needs: from the earlier of the month's start and 7 days back, to today. */
export function projectionRange(today: Date): DayRange {
  const from = startOfMonth(today);
  const week = addDays(today, -FORECAST_WINDOW);
  return { start: formatDay(week < from ? week : from), end: formatDay(today) };
}

const micros = (v: number) => Math.round(v * 1_000_000);

function dayTotal(d: CostDay): number {
  return micros(d.anthropic) + micros(d.elevenlabs) + micros(d.s3);
}

/** The projection from the daily costs of projectionRange(today). */
export function monthProjection(daily: CostDay[], today: Date): MonthProjection {
  const monthStart = startOfMonth(today);
  const monthEnd = endOfMonth(today);
  const t = formatDay(today);
  const ms = formatDay(monthStart);
  const weekStart = formatDay(addDays(today, -FORECAST_WINDOW));
  let spend = 0;
  let recent = 0;
  for (const d of daily) {
    if (!parseDay(d.date)) continue;
    const c = dayTotal(d);
    if (d.date >= ms && d.date <= t) spend += c;
    if (d.date >= weekStart && d.date < t) recent += c;
  }
  const mean = Math.floor(recent / FORECAST_WINDOW);
  const daysLeft = differenceInCalendarDays(monthEnd, today);
  const forecast = spend + mean * daysLeft;
  return {
    monthStart: ms,
    monthEnd: formatDay(monthEnd),
    today: t,
    spend: spend / 1_000_000,
    dailyMean: mean / 1_000_000,
    daysLeft,
    forecast: forecast / 1_000_000,
  };
}
