import { describe, expect, it } from "vitest";
import {
  MSG_DATE_FORMAT,
  MSG_END_BEFORE_START,
  MSG_RANGE_TOO_LONG,
  describeRange,
  matchPreset,
  parseDay,
  presetRange,
  rangeDays,
  rangeFromSearch,
  searchWithRange,
  validateRange,
} from "./dateRange";

describe("validateRange", () => {
  it.each([
    ["a single day", "2026-03-01", "2026-03-01", null],
    ["30 days", "2026-03-01", "2026-03-31", null],
    ["exactly 365 days apart (366 calendar days)", "2024-01-01", "2024-12-31", null],
    ["365 days apart across a leap day", "2023-03-01", "2024-02-29", null],
    ["366 days apart", "2023-01-01", "2024-01-02", MSG_RANGE_TOO_LONG],
    ["the seed's gate 2 range", "2023-01-01", "2024-12-31", MSG_RANGE_TOO_LONG],
    ["400 days", "2025-01-01", "2026-02-05", MSG_RANGE_TOO_LONG],
    ["end one day before start", "2026-03-02", "2026-03-01", MSG_END_BEFORE_START],
    ["end a year before start", "2026-03-01", "2025-03-01", MSG_END_BEFORE_START],
    ["bad start format", "2026-3-1", "2026-03-31", MSG_DATE_FORMAT],
    ["impossible date", "2026-02-30", "2026-03-31", MSG_DATE_FORMAT],
    ["empty end", "2026-03-01", "", MSG_DATE_FORMAT],
  ])("%s", (_name, start, end, want) => {
    expect(validateRange(start, end)).toBe(want);
  });

  it("uses the API's exact messages", () => {
    expect(MSG_RANGE_TOO_LONG).toBe("Date range cannot exceed 365 days");
    expect(MSG_END_BEFORE_START).toBe("End date must be after start date");
    expect(MSG_DATE_FORMAT).toBe("Invalid date format (expected YYYY-MM-DD)");
  });

  it("counts calendar days, not 24-hour periods, across DST changes", () => {
    // 2026-03-08 is a US DST switch; a naive ms/86400000 count is off by an hour.
    expect(validateRange("2025-03-08", "2026-03-08")).toBeNull();
    expect(validateRange("2025-03-07", "2026-03-08")).toBe(MSG_RANGE_TOO_LONG);
  });
});

describe("parseDay", () => {
  it("is strict", () => {
    expect(parseDay("2026-03-01")?.getDate()).toBe(1);
    expect(parseDay("2026-13-01")).toBeNull();
    expect(parseDay("20260301")).toBeNull();
    expect(parseDay("2026-03-01T00:00")).toBeNull();
  });
});

describe("presets", () => {
  const today = new Date(2026, 2, 31); // 2026-03-31 local
  it("count back N days from today, like the seed and the API default", () => {
    expect(presetRange(7, today)).toEqual({ start: "2026-03-24", end: "2026-03-31" });
    expect(presetRange(30, today)).toEqual({ start: "2026-03-01", end: "2026-03-31" });
    expect(presetRange(365, today)).toEqual({ start: "2025-03-31", end: "2026-03-31" });
  });
  it("are all valid ranges", () => {
    for (const n of [7, 30, 90, 365]) {
      const r = presetRange(n, today);
      expect(validateRange(r.start, r.end)).toBeNull();
      expect(rangeDays(r)).toBe(n + 1);
      expect(matchPreset(r, today)).toBe(n);
    }
  });
});

describe("URL state", () => {
  const today = new Date(2026, 2, 31);
  it("reads start and end", () => {
    expect(rangeFromSearch("?start=2026-01-01&end=2026-01-31", today)).toEqual({
      range: { start: "2026-01-01", end: "2026-01-31" },
      error: null,
    });
  });
  it("defaults like the API", () => {
    expect(rangeFromSearch("", today).range).toEqual({ start: "2026-03-01", end: "2026-03-31" });
    expect(rangeFromSearch("?end=2026-02-28", today).range).toEqual({ start: "2026-01-29", end: "2026-02-28" });
  });
  it("keeps an invalid range with its reason", () => {
    expect(rangeFromSearch("?start=2025-01-01&end=2026-02-05", today).error).toBe(MSG_RANGE_TOO_LONG);
    expect(rangeFromSearch("?start=nope&end=2026-02-05", today).error).toBe(MSG_DATE_FORMAT);
  });
  it("writes the range and keeps other parameters", () => {
    expect(searchWithRange("?tab=costs", { start: "2026-01-01", end: "2026-01-31" })).toBe(
      "?tab=costs&start=2026-01-01&end=2026-01-31",
    );
  });
  it("describes ranges", () => {
    expect(describeRange({ start: "2026-03-01", end: "2026-03-31" })).toBe("Mar 1 – Mar 31, 2026");
    expect(describeRange({ start: "2025-12-01", end: "2026-01-31" })).toBe("Dec 1, 2025 – Jan 31, 2026");
    expect(describeRange({ start: "2026-03-01", end: "2026-03-01" })).toBe("Mar 1, 2026");
  });
});
