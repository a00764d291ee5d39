import { describe, expect, it } from "vitest";
import { defaultRange, formatDay, presetRange } from "./dateRange";
import { serverToday, serverZone } from "./clock";

describe("serverToday", () => {
  it("is the server's calendar day, whatever the browser's clock says", () => {
    // The browser thinks it is already the 30th (e.g. Auckland, UTC+13).
    const browserNow = () => new Date(2026, 10, 30, 3, 30);
    const today = serverToday({ today: "2026-11-29" }, browserNow);
    expect(formatDay(today)).toBe("2026-11-29");
    expect(defaultRange(today)).toEqual({ start: "2026-10-30", end: "2026-11-29" });
    expect(presetRange(7, today)).toEqual({ start: "2026-11-22", end: "2026-11-29" });
  });

  it("falls back to the browser's day when the server does not say", () => {
    const browserNow = () => new Date(2026, 10, 30, 3, 30);
    expect(formatDay(serverToday({}, browserNow))).toBe("2026-11-30");
    expect(formatDay(serverToday({ today: "not-a-day" }, browserNow))).toBe("2026-11-30");
  });
});

describe("serverZone", () => {
  it("names the zone or nothing", () => {
    expect(serverZone({ timezone: "Europe/Berlin" })).toBe("Europe/Berlin");
    expect(serverZone({ timezone: " " })).toBeNull();
    expect(serverZone({})).toBeNull();
  });
});
