import { describe, expect, it } from "vitest";
import { monthProjection, projectionRange } from "./forecast";
import type { CostDay } from "./types";

const day = (date: string, anthropic: number, elevenlabs = 0, s3 = 0): CostDay => ({ date, anthropic, elevenlabs, s3 });

describe("monthProjection", () => {
  it("early in a month, reads the last 7 days from the month before", () => {
    // Today Nov 3: the window is Oct 27 – Nov 2.
    expect(projectionRange(new Date(2026, 10, 3))).toEqual({ start: "2026-10-27", end: "2026-11-03" });
    expect(projectionRange(new Date(2026, 10, 20))).toEqual({ start: "2026-11-01", end: "2026-11-20" });
  });

  it("is spend so far + mean of the 7 complete days before today × days left", () => {
    const today = new Date(2026, 10, 3); // Nov 3; 27 days left (Nov 4 – Nov 30)
    const daily = [
      day("2026-10-27", 1),
      day("2026-10-28", 2),
      day("2026-10-29", 3),
      day("2026-10-30", 4),
      day("2026-10-31", 5),
      day("2026-11-01", 6, 0.5),
      day("2026-11-02", 7, 0, 0.25),
      day("2026-11-03", 10), // today: counts in spend, not in the mean
    ];
    const p = monthProjection(daily, today);
    // spend Nov 1–3: 6.5 + 7.25 + 10 = 23.75; window Oct 27 – Nov 2: 28.75 / 7
    // = 4.107142857… → 4.107142 (whole micro-dollars, truncated like the server).
    expect(p).toMatchObject({ monthStart: "2026-11-01", monthEnd: "2026-11-30", today: "2026-11-03", daysLeft: 27 });
    expect(p.spend).toBe(23.75);
    expect(p.dailyMean).toBe(4.107142);
    expect(p.forecast).toBe(23.75 + 4.107142 * 27);
    expect(p.forecast.toFixed(6)).toBe("134.642834");
  });

  it("on the month's last day has nothing left to project", () => {
    const p = monthProjection([day("2026-11-29", 100), day("2026-11-30", 1)], new Date(2026, 10, 30));
    expect(p.daysLeft).toBe(0);
    expect(p.forecast).toBe(p.spend);
  });
});
