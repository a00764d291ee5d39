import { describe, expect, it } from "vitest";
import { pageHref, readPage } from "./nav";

describe("pages in the URL", () => {
  it("reads the page, analytics by default", () => {
    expect(readPage("")).toBe("analytics");
    expect(readPage("?page=prices")).toBe("prices");
    expect(readPage("?page=admins&start=2026-01-01")).toBe("admins");
    expect(readPage("?page=nope")).toBe("analytics");
  });

  it("keeps the range when switching pages and drops the other page's parameters", () => {
    const here = "?start=2026-01-01&end=2026-01-31&tab=costs";
    expect(pageHref(here, "prices", { service: "anthropic", model: "claude-x" })).toBe(
      "/admin/analytics?start=2026-01-01&end=2026-01-31&tab=costs&page=prices&service=anthropic&model=claude-x",
    );
    expect(pageHref("?start=2026-01-01&end=2026-01-31&page=prices&service=anthropic&model=claude-x", "analytics")).toBe(
      "/admin/analytics?start=2026-01-01&end=2026-01-31",
    );
    expect(pageHref("?page=prices&model=x", "admins")).toBe("/admin/analytics?page=admins");
    expect(pageHref("", "analytics")).toBe("/admin/analytics");
  });

  it("skips empty parameters", () => {
    expect(pageHref("", "prices", { service: "s3", model: "", since: undefined })).toBe("/admin/analytics?page=prices&service=s3");
  });
});
