// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, screen, waitFor, within } from "@testing-library/react";
import { renderWithClient, stubFetch } from "../../test/render";
import { formatStickiness } from "../../lib/engagement";
import { EngagementChart } from "./EngagementChart";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const range = { start: "2026-11-01", end: "2026-11-03" };
const path = "GET /admin/analytics/engagement?start_date=2026-11-01&end_date=2026-11-03";

describe("formatStickiness", () => {
  it("shows the fraction as a percent with one decimal", () => {
    expect(formatStickiness(0.1234)).toBe("12.3%");
    expect(formatStickiness(0)).toBe("0.0%");
    expect(formatStickiness(1)).toBe("100.0%");
    expect(formatStickiness(null)).toBe("—");
  });
});

describe("EngagementChart", () => {
  it("asks once for the range and shows the average stickiness, the last day and every day's figures", async () => {
    const sent = stubFetch({
      [path]: {
        status: 200,
        body: {
          daily: [
            { date: "2026-11-01", dau: 0, wau: 0, mau: 0, stickiness: 0 },
            { date: "2026-11-02", dau: 40, wau: 120, mau: 400, stickiness: 0.1 },
            { date: "2026-11-03", dau: 1234, wau: 2500, mau: 5000, stickiness: 0.2468 },
          ],
          average_stickiness: 0.1156,
          period: { start: "2026-11-01", end: "2026-11-03", days: 3, timezone: "UTC" },
        },
      },
    });
    renderWithClient(<EngagementChart range={range} />);
    await waitFor(() => expect(screen.getByTestId("engagement-avg-stickiness").textContent).toBe("11.6%"));
    expect(screen.getByTestId("engagement-last-dau").textContent).toBe("1,234");
    expect(screen.getByTestId("engagement-last-wau").textContent).toBe("2,500");
    expect(screen.getByTestId("engagement-last-mau").textContent).toBe("5,000");
    expect(screen.getByText("DAU on Nov 3")).toBeTruthy();

    const rows = within(screen.getByTestId("engagement-table")).getAllByTestId("engagement-row");
    expect(rows.map((r) => Array.from(r.children, (c) => c.textContent))).toEqual([
      ["Nov 1", "0", "0", "0", "0.0%"],
      ["Nov 2", "40", "120", "400", "10.0%"],
      ["Nov 3", "1,234", "2,500", "5,000", "24.7%"],
    ]);
    expect(rows.map((r) => r.getAttribute("data-date"))).toEqual(["2026-11-01", "2026-11-02", "2026-11-03"]);

    // The charts have accessible names that carry the figures.
    const users = screen.getByRole("img", { name: /Daily, weekly and monthly active users/ });
    expect(users.getAttribute("aria-label")).toContain("DAU 1,234, WAU 2,500, MAU 5,000");
    expect(users.getAttribute("aria-label")).toContain("Highest DAU 1,234 on Tue, Nov 3, 2026");
    const stick = screen.getByRole("img", { name: /Stickiness \(DAU \/ MAU\)/ });
    expect(stick.getAttribute("aria-label")).toContain("average 11.6%, 24.7% on Tue, Nov 3, 2026");

    expect(sent.map((s) => `${s.method} ${s.path}`)).toEqual([path]);
  });

  it("shows the API's reason when the call is refused", async () => {
    stubFetch({ [path]: { status: 403, body: { error: "missing permission VIEW_ANALYTICS" } } });
    renderWithClient(<EngagementChart range={range} />);
    await waitFor(() => expect(screen.getByTestId("error-state").textContent).toContain("missing permission VIEW_ANALYTICS"));
    expect(screen.queryByTestId("engagement-table")).toBeNull();
  });
});
