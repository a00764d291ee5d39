// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { renderWithClient, stubFetch } from "../../test/render";
import type { Cohorts } from "../../lib/types";
import { CohortHeatmap } from "./CohortHeatmap";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const range = { start: "2026-03-01", end: "2026-03-22" };
const base = "GET /admin/analytics/cohorts?start_date=2026-03-01&end_date=2026-03-22";
const period = { start: "2026-03-01", end: "2026-03-22", days: 22, timezone: "UTC" };

const weeks: Cohorts = {
  granularity: "week",
  cohorts: [
    { cohort: "2026-03-02", size: 130, retained: [130, 61, 48], revenue_cents: [12987, 20974, 22000], cost_cents: [4512.3, 7710.2, 9000.1] },
    { cohort: "2026-03-09", size: 70, retained: [63, 7], revenue_cents: [7000, 9000], cost_cents: [2100, 3000] },
    { cohort: "2026-03-16", size: 40, retained: [38], revenue_cents: [1999], cost_cents: [800.5] },
  ],
  unattributed_users: 12,
  period,
};

const months: Cohorts = {
  granularity: "month",
  cohorts: [{ cohort: "2026-03-01", size: 240, retained: [200], revenue_cents: [30000], cost_cents: [12000] }],
  unattributed_users: 12,
  period,
};

function cells(cohort: string) {
  const row = screen.getAllByTestId("cohort-row").find((r) => r.getAttribute("data-cohort") === cohort)!;
  return within(row).queryAllByTestId("cohort-cell");
}

describe("CohortHeatmap", () => {
  it("shows retained[k] / size per cell, darker for more, and a triangle of periods", async () => {
    const sent = stubFetch({ [`${base}&period=week`]: { status: 200, body: weeks } });
    renderWithClient(<CohortHeatmap range={range} />);
    await waitFor(() => expect(screen.getAllByTestId("cohort-row")).toHaveLength(3));

    const first = cells("2026-03-02");
    expect(first.map((c) => c.textContent)).toEqual(["100%", "47%", "37%"]);
    expect(first[1].getAttribute("title")).toBe("61 of 130 users (46.9%)");
    expect(cells("2026-03-09").map((c) => c.textContent)).toEqual(["90%", "10%"]);
    expect(cells("2026-03-16").map((c) => c.textContent)).toEqual(["95%"]);
    // Color intensity follows the percent.
    const alpha = (el: HTMLElement) => Number(/rgba\(79, 70, 229, ([\d.]+)\)/.exec(el.style.background)?.[1]);
    expect(alpha(first[0])).toBeGreaterThan(alpha(first[1]));
    expect(alpha(first[1])).toBeGreaterThan(alpha(cells("2026-03-09")[1]));

    const head = within(screen.getByTestId("cohort-heatmap")).getAllByRole("columnheader").map((h) => h.textContent);
    expect(head).toEqual(["Cohort", "Users", "W0", "W1", "W2"]);
    expect(screen.getAllByTestId("cohort-row")[0].querySelector("time")?.textContent).toBe("Mar 2, 2026");
    expect(screen.getAllByTestId("cohort-size").map((c) => c.textContent)).toEqual(["130", "70", "40"]);
    expect(screen.getByTestId("cohorts-unattributed").textContent).toContain("12 active users");

    // Lifetime per user, all cohorts weighted by size: by W2 only the first cohort counts.
    expect(screen.getByTestId("cohorts-ltv").textContent).toBe("$1.69"); // 22000 / 130 cents
    expect(screen.getByTestId("cohorts-cts").textContent).toBe("$0.6923"); // 9000.1 / 130 cents
    expect(screen.getByTestId("cohorts-curve").getAttribute("aria-label")).toContain("all cohorts weighted by size");

    // One cohort chosen: its own curve.
    fireEvent.change(screen.getByTestId("cohorts-curve-select"), { target: { value: "2026-03-09" } });
    expect(screen.getByTestId("cohorts-ltv").textContent).toBe("$1.29"); // 9000 / 70
    expect(screen.getByTestId("cohorts-curve").getAttribute("aria-label")).toContain("the Mar 9, 2026 cohort");
    expect(sent.map((s) => s.path)).toEqual([`${base.slice(4)}&period=week`]);
  });

  it("switches to months with the toggle", async () => {
    const sent = stubFetch({
      [`${base}&period=week`]: { status: 200, body: weeks },
      [`${base}&period=month`]: { status: 200, body: months },
    });
    renderWithClient(<CohortHeatmap range={range} />);
    await waitFor(() => expect(screen.getAllByTestId("cohort-row")).toHaveLength(3));
    fireEvent.click(screen.getByTestId("cohorts-month"));
    await waitFor(() => expect(screen.getAllByTestId("cohort-row")).toHaveLength(1));
    expect(screen.getByTestId("cohorts-month").getAttribute("aria-pressed")).toBe("true");
    expect(cells("2026-03-01").map((c) => c.textContent)).toEqual(["83%"]);
    expect(screen.getAllByTestId("cohort-row")[0].querySelector("time")?.textContent).toBe("Mar 2026");
    expect(within(screen.getByTestId("cohort-heatmap")).getAllByRole("columnheader").map((h) => h.textContent)).toEqual(["Cohort", "Users", "M0"]);
    expect(sent.map((s) => s.path.split("period=")[1])).toEqual(["week", "month"]);
  });

  it("says when no cohort starts in the range", async () => {
    stubFetch({ [`${base}&period=week`]: { status: 200, body: { ...weeks, cohorts: [], unattributed_users: 0 } } });
    renderWithClient(<CohortHeatmap range={range} />);
    await waitFor(() => expect(screen.getByTestId("cohorts-empty").textContent).toBe("No weekly signup cohort starts in this range."));
    expect(screen.queryByTestId("cohort-heatmap")).toBeNull();
  });

  it("shows the API's reason when refused", async () => {
    stubFetch({ [`${base}&period=week`]: { status: 429, body: { error: "Rate limit exceeded: 30 analytics requests per minute" } } });
    renderWithClient(<CohortHeatmap range={range} />);
    await waitFor(() => expect(screen.getByTestId("error-state").textContent).toContain("Rate limit exceeded"));
  });
});
