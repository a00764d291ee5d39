import { describe, expect, it } from "vitest";
import {
  FIRST_PAGE,
  cohortLabel,
  currentCursor,
  formatRetention,
  heatColor,
  lifetimeCurve,
  marginBar,
  maxAbsMargin,
  nextPage,
  pageNumber,
  periodHeader,
  previousPage,
  retentionPct,
} from "./economics";
import type { Cohort, UserEconomics } from "./types";

describe("the cursor stack", () => {
  it("pushes next_cursor on Next, pops on Previous, and never pops the first page", () => {
    let s = FIRST_PAGE;
    expect(currentCursor(s)).toBeNull();
    expect(pageNumber(s)).toBe(1);
    s = nextPage(s, "c2");
    s = nextPage(s, "c3");
    expect(s).toEqual([null, "c2", "c3"]);
    expect(currentCursor(s)).toBe("c3");
    expect(pageNumber(s)).toBe(3);
    s = previousPage(s);
    expect(currentCursor(s)).toBe("c2");
    s = previousPage(s);
    expect(s).toEqual([null]);
    expect(previousPage(s)).toBe(s);
  });

  it("stays on the last page when the answer has no next_cursor", () => {
    const s = nextPage(FIRST_PAGE, "c2");
    expect(nextPage(s, null)).toBe(s);
    expect(nextPage(s, "")).toBe(s);
  });
});

describe("marginBar", () => {
  it("grows left for a loss and right for a profit, half the track at the page's largest |margin|", () => {
    expect(marginBar(-433.5187, 867.0374)).toEqual({ sign: "negative", width: 25 });
    expect(marginBar(867.0374, 867.0374)).toEqual({ sign: "positive", width: 50 });
    expect(marginBar(0, 100)).toEqual({ sign: "zero", width: 0 });
    expect(marginBar(5, 0)).toEqual({ sign: "positive", width: 0 });
  });

  it("takes the scale from the page's largest |margin|", () => {
    const u = (margin_cents: number) => ({ margin_cents }) as UserEconomics;
    expect(maxAbsMargin([u(-900.5), u(12), u(400)])).toBe(900.5);
    expect(maxAbsMargin([])).toBe(0);
  });
});

describe("retention", () => {
  it("is retained / size as a whole percent", () => {
    expect(retentionPct(61, 130)).toBeCloseTo(46.923, 3);
    expect(formatRetention(retentionPct(61, 130))).toBe("47%");
    expect(formatRetention(retentionPct(130, 130))).toBe("100%");
    expect(formatRetention(retentionPct(0, 130))).toBe("0%");
    expect(retentionPct(3, 0)).toBeNull();
    expect(formatRetention(null)).toBe("—");
  });

  it("colors a cell darker the higher its percent, with readable text", () => {
    const lo = heatColor(5);
    const hi = heatColor(90);
    expect(lo.alpha).toBeLessThan(hi.alpha);
    expect(lo.color).toBe("#101828");
    expect(hi.color).toBe("#ffffff");
    expect(heatColor(100).background).toBe("rgba(79, 70, 229, 0.9)");
    expect(heatColor(0).background).toBe("rgba(79, 70, 229, 0.06)");
  });

  it("labels cohorts and columns", () => {
    expect(cohortLabel("2026-03-02", "week")).toBe("Mar 2, 2026");
    expect(cohortLabel("2026-03-01", "month")).toBe("Mar 2026");
    expect(periodHeader(0, "week")).toBe("W0");
    expect(periodHeader(3, "month")).toBe("M3");
  });
});

describe("lifetimeCurve", () => {
  const cohorts: Cohort[] = [
    { cohort: "2026-03-02", size: 100, retained: [100, 50, 40], revenue_cents: [1000, 3000, 6000], cost_cents: [500, 1500, 2000] },
    { cohort: "2026-03-09", size: 300, retained: [280, 100], revenue_cents: [6000, 9000], cost_cents: [3000, 4500.5] },
  ];

  it("weights all cohorts by size, counting at k only the cohorts that reached k", () => {
    expect(lifetimeCurve(cohorts)).toEqual([
      { k: 0, revenue: 7000 / 400, cost: 3500 / 400, users: 400 },
      { k: 1, revenue: 12000 / 400, cost: 6000.5 / 400, users: 400 },
      { k: 2, revenue: 6000 / 100, cost: 2000 / 100, users: 100 },
    ]);
  });

  it("follows one cohort when chosen", () => {
    expect(lifetimeCurve(cohorts, "2026-03-09")).toEqual([
      { k: 0, revenue: 20, cost: 10, users: 300 },
      { k: 1, revenue: 30, cost: 4500.5 / 300, users: 300 },
    ]);
    expect(lifetimeCurve(cohorts, "2025-01-01")).toEqual([]);
    expect(lifetimeCurve([])).toEqual([]);
  });
});
