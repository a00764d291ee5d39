// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, screen, waitFor, within } from "@testing-library/react";
import type { Budget, BudgetStatus } from "../../lib/types";
import { renderWithClient, stubFetch } from "../../test/render";
import { BudgetCard } from "./BudgetCard";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const each: Budget = {
  id: 5,
  name: "Per reader per day",
  scope: "each_user",
  scope_value: "",
  period: "day",
  amount_dollars: "2.00",
  thresholds: [80, 100],
  webhooks: [{ id: 1, url: "https://hooks.slack.com/services/x", format: "slack" }],
  notify_anomalies: true,
  created_at: "2026-11-01T00:00:00Z",
  updated_at: "2026-11-01T00:00:00Z",
};

const user = (id: string, spend: string, percent: number) => ({
  user_id: id,
  spend_dollars: spend,
  percent,
  remaining_dollars: "0.00",
  thresholds_fired: percent >= 100 ? [80, 100] : [80],
  forecast_dollars: spend,
  projected_date: percent >= 100 ? "2026-11-20" : null,
});

describe("BudgetCard", () => {
  it("an each_user budget leads with its highest user and lists those over the lowest threshold", async () => {
    const st: BudgetStatus = {
      budget: each,
      period_start: "2026-11-20",
      period_end: "2026-11-20",
      today: "2026-11-20",
      timezone: "UTC",
      ...user("u42", "2.50", 125),
      users: [user("u42", "2.50", 125), user("u7", "1.70", 85)],
    };
    stubFetch({ "GET /admin/budgets/5/status": { status: 200, body: st } });
    renderWithClient(<BudgetCard budget={each} canEdit={false} onEdit={() => {}} onDelete={() => {}} deleting={false} />);
    await waitFor(() => expect(screen.getByTestId("budget-percent").textContent).toBe("125.0%"));
    expect(screen.getByTestId("budget-each-user-lead").textContent).toBe("Highest: u42 (2 users at or over 80%)");
    expect(screen.getByTestId("budget-scope").textContent).toBe("Each user · Daily · Nov 20 – Nov 20");
    expect(screen.getByTestId("budget-projected").textContent).toBe("Reached 100% on Nov 20");
    // The bar stops at 100% but says the real figure.
    const bar = screen.getByRole("progressbar");
    expect(bar.getAttribute("aria-valuenow")).toBe("100");
    expect(bar.getAttribute("aria-valuetext")).toBe("125.0%");
    const rows = within(screen.getByTestId("budget-users")).getAllByRole("row").slice(1);
    expect(rows.map((r) => r.textContent)).toEqual(["u42$2.50125.0%$2.50", "u7$1.7085.0%$1.70"]);
    expect(screen.getByText("Also sends cost anomalies")).toBeTruthy();
    expect(screen.queryByTestId("budget-edit")).toBeNull();
  });
});
