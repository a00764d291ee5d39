import { describe, expect, it } from "vitest";
import { filenameFrom, parseRetryAfter, query, safeNext } from "./api";

describe("parseRetryAfter", () => {
  const now = Date.UTC(2026, 2, 1, 12, 0, 0);
  it("reads delta-seconds", () => {
    expect(parseRetryAfter("42", now)).toBe(now + 42_000);
    expect(parseRetryAfter(" 2 ", now)).toBe(now + 2_000);
  });
  it("reads an HTTP date", () => {
    expect(parseRetryAfter("Sun, 01 Mar 2026 12:01:00 GMT", now)).toBe(now + 60_000);
  });
  it("ignores missing or junk values", () => {
    expect(parseRetryAfter(null, now)).toBeNull();
    expect(parseRetryAfter("soon", now)).toBeNull();
  });
});

describe("filenameFrom", () => {
  it.each([
    ['attachment; filename="analytics_2026-03-01_2026-03-31.csv"', "analytics_2026-03-01_2026-03-31.csv"],
    ["attachment; filename=analytics_2026-03-01_2026-03-31.csv", "analytics_2026-03-01_2026-03-31.csv"],
    ["attachment; filename*=UTF-8''a%20b.csv", "a b.csv"],
    ['attachment; filename="../../etc/passwd"', ".._.._etc_passwd"],
    ["attachment", null],
    [null, null],
  ])("%s → %s", (cd, want) => {
    expect(filenameFrom(cd)).toBe(want);
  });
});

describe("safeNext", () => {
  it("only returns to the dashboard", () => {
    expect(safeNext("/admin/analytics?start=2026-01-01&end=2026-01-31")).toBe("/admin/analytics?start=2026-01-01&end=2026-01-31");
    expect(safeNext("https://evil.example/admin/analytics")).toBe("/admin/analytics");
    expect(safeNext("//evil.example/admin/analytics")).toBe("/admin/analytics");
    expect(safeNext("/admin/audit")).toBe("/admin/analytics");
    expect(safeNext(null)).toBe("/admin/analytics");
  });
});

describe("query", () => {
  it("skips empty values", () => {
    expect(query({ a: "1", b: "", c: null, d: undefined, e: 0 })).toBe("?a=1&e=0");
    expect(query({})).toBe("");
  });
});
