import { describe, expect, it } from "vitest";
import { credentialState, formatWhen, sortCredentials } from "./admins";

const now = Date.parse("2026-11-29T12:00:00Z");

describe("credentialState", () => {
  it("revoked wins, then expiry, else active", () => {
    expect(credentialState({ revoked_at: "2026-11-01T00:00:00Z", expires_at: "2027-01-01T00:00:00Z" }, now)).toBe("revoked");
    expect(credentialState({ revoked_at: null, expires_at: "2026-11-29T11:59:59Z" }, now)).toBe("expired");
    expect(credentialState({ revoked_at: null, expires_at: "2026-11-29T12:00:01Z" }, now)).toBe("active");
    expect(credentialState({ revoked_at: null, expires_at: null }, now)).toBe("active");
  });
});

describe("formatWhen", () => {
  it("says Never for null and keeps an unreadable value as it is", () => {
    expect(formatWhen(null)).toBe("Never");
    expect(formatWhen(undefined, "—")).toBe("—");
    expect(formatWhen("soon")).toBe("soon");
    expect(formatWhen("2026-11-29T12:00:00Z")).toMatch(/^Nov (29|30), 2026 \d\d:\d\d$/);
  });
  it("uses the reporting zone when given", () => {
    expect(formatWhen("2026-11-29T12:05:00Z", "Never", "UTC")).toBe("Nov 29, 2026 12:05");
    expect(formatWhen("2026-11-29T12:05:00Z", "Never", "Pacific/Auckland")).toBe("Nov 30, 2026 01:05");
    expect(formatWhen("2026-11-29T00:05:00Z", "Never", "America/New_York")).toBe("Nov 28, 2026 19:05");
  });
});

describe("sortCredentials", () => {
  it("puts live credentials first, newest first", () => {
    const c = (id: number, created: string, revoked: string | null = null) => ({ id, created_at: created, revoked_at: revoked, expires_at: null });
    const got = sortCredentials([c(1, "2026-01-01T00:00:00Z"), c(2, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"), c(3, "2026-02-01T00:00:00Z")], now);
    expect(got.map((x) => x.id)).toEqual([3, 1, 2]);
  });
});
