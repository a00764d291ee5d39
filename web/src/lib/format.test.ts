import { describe, expect, it } from "vitest";
import { formatCents, formatCompact, formatInt, formatMinutes, formatPercent, formatShare, formatUSD, formatUSDCompact } from "./format";

describe("formatUSD", () => {
  it.each([
    ["zero", 0, "$0.00"],
    ["whole dollars get cents", 12, "$12.00"],
    ["thousands are grouped", 12345.678, "$12,345.68"],
    ["a dollar rounds to cents", 1.004999, "$1.00"],
    ["under a dollar keeps sub-cent digits", 0.4231, "$0.4231"],
    ["under a dollar trims to cents when exact", 0.42, "$0.42"],
    ["under a dollar rounds past four decimals", 0.123456, "$0.1235"],
    ["under a cent is never $0.00", 0.0042, "$0.0042"],
    ["one micro-dollar", 0.000001, "$0.000001"],
    ["micro-dollars exactly", 0.000123, "$0.000123"],
    ["half a cent", 0.005, "$0.005"],
    ["negative", -3.5, "-$3.50"],
    ["negative sub-cent", -0.0042, "-$0.0042"],
  ])("%s: %d → %s", (_name, v, want) => {
    expect(formatUSD(v)).toBe(want);
  });

  it("shows a non-zero amount below a micro-dollar as such, not $0.00", () => {
    expect(formatUSD(0.0000001)).toBe("<$0.000001");
  });

  it("shows missing values as a dash", () => {
    expect(formatUSD(undefined)).toBe("—");
    expect(formatUSD(null)).toBe("—");
    expect(formatUSD(Number.NaN)).toBe("—");
  });

  it("never shows $0.00 for any non-zero micro-dollar amount", () => {
    for (let micros = 1; micros < 20000; micros += 7) {
      const s = formatUSD(micros / 1e6);
      expect(s, `${micros} micros`).not.toBe("$0.00");
      expect(s).toMatch(/^\$0\.\d+$/);
    }
  });
});

describe("formatCents", () => {
  it.each([
    [0, "$0.00"],
    [1234.5678, "$12.35"],
    [42.5678, "$0.4257"],
    [123456.78, "$1,234.57"],
    [0.42, "$0.0042"],
    [0.0001, "$0.000001"],
    [100, "$1.00"],
  ])("%d cents → %s", (c, want) => {
    expect(formatCents(c)).toBe(want);
  });
});

describe("other formats", () => {
  it("formats integers with separators", () => {
    expect(formatInt(1234567)).toBe("1,234,567");
    expect(formatInt(0)).toBe("0");
  });
  it("formats percentages with one decimal", () => {
    expect(formatPercent(12.345)).toBe("12.3%");
    expect(formatPercent(12.345, { signed: true })).toBe("+12.3%");
    expect(formatPercent(-4, { signed: true })).toBe("-4.0%");
    expect(formatPercent(-0.01)).toBe("0.0%");
    expect(formatPercent(0, { signed: true })).toBe("0.0%");
  });
  it("formats audio minutes", () => {
    expect(formatMinutes(1234.4)).toBe("1,234 min");
    expect(formatMinutes(0.25)).toBe("0.3 min");
    expect(formatMinutes(0)).toBe("0 min");
  });
  it("compacts axis money but keeps sub-dollar precision", () => {
    expect(formatUSDCompact(0)).toBe("$0");
    expect(formatUSDCompact(1500)).toBe("$1.5K");
    expect(formatUSDCompact(0.0042)).toBe("$0.0042");
  });
});

describe("formatShare", () => {
  it("never rounds a real share to 0.0%", () => {
    expect(formatShare(0.001)).toBe("<0.1%");
    expect(formatShare(0)).toBe("0.0%");
    expect(formatShare(12.34)).toBe("12.3%");
  });
});

describe("formatCompact", () => {
  it("keeps axis ticks distinct", () => {
    expect([1000, 1250, 1500, 1750, 2000].map(formatCompact)).toEqual(["1K", "1.25K", "1.5K", "1.75K", "2K"]);
    expect(formatCompact(19_612_345)).toBe("19.6M");
    expect(formatCompact(42)).toBe("42");
  });
});
