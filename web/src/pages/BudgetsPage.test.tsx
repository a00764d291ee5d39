// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { Budget, BudgetAlert, BudgetStatus, Session } from "../lib/types";
import { renderWithClient, stubFetch } from "../test/render";
import { BudgetsPage } from "./BudgetsPage";

const owner: Session = {
  email: "o@x.test",
  role: "owner",
  permissions: ["VIEW_ANALYTICS", "EXPORT_DATA", "MANAGE_ADMINS", "VIEW_AUDIT", "MANAGE_PRICES", "MANAGE_BUDGETS"],
  csrf_token: "c",
  today: "2026-11-20",
  timezone: "UTC",
};
const viewer: Session = { ...owner, email: "v@x.test", role: "viewer", permissions: ["VIEW_ANALYTICS"] };

const claude: Budget = {
  id: 3,
  name: "Claude this month",
  scope: "service",
  scope_value: "anthropic",
  period: "month",
  amount_dollars: "500.00",
  thresholds: [50, 80, 100],
  webhooks: [{ id: 9, url: "https://hooks.example.com/x", format: "standard" }],
  notify_anomalies: false,
  created_at: "2026-11-01T00:00:00Z",
  updated_at: "2026-11-01T00:00:00Z",
};

const status: BudgetStatus = {
  budget: claude,
  period_start: "2026-11-01",
  period_end: "2026-11-30",
  today: "2026-11-20",
  timezone: "UTC",
  spend_dollars: "401.25",
  percent: 80.3,
  remaining_dollars: "98.75",
  thresholds_fired: [50, 80],
  forecast_dollars: "612.40",
  projected_date: "2026-11-24",
};

const alert: BudgetAlert = {
  id: 12,
  key: "b3/2026-11-01/80",
  type: "budget.threshold_crossed",
  budget_id: 3,
  budget_name: "Claude this month",
  user_id: "",
  service: "",
  period_start: "2026-11-01",
  period_end: "2026-11-30",
  threshold_percent: 80,
  body: { type: "budget.threshold_crossed", data: { spend_dollars: "401.25", amount_dollars: "500.00" } },
  created_at: "2026-11-20T10:00:00Z",
  deliveries: [
    {
      id: 1,
      message_id: "msg_1",
      url: "https://hooks.example.com/x",
      format: "standard",
      state: "pending",
      attempts: 2,
      next_attempt_at: "2026-11-20T10:05:00Z",
      delivered_at: null,
      last_error: "HTTP 503",
      attempt_log: [{ at: "2026-11-20T10:01:00Z", status_code: 503, error: "HTTP 503", duration_ms: 12 }],
    },
  ],
};

function routes(extra: Record<string, Parameters<typeof stubFetch>[0][string]> = {}) {
  return {
    "GET /admin/budgets": { status: 200, body: { budgets: [claude] } },
    "GET /admin/budgets/3/status": { status: 200, body: status },
    "GET /admin/alerts?limit=100": { status: 200, body: { alerts: [alert] } },
    ...extra,
  };
}

beforeEach(() => {
  window.scrollTo = () => {};
  Element.prototype.scrollIntoView = () => {};
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("BudgetsPage", () => {
  it("shows each budget's progress, forecast, projected day and fired thresholds, and the alert deliveries", async () => {
    stubFetch(routes());
    renderWithClient(<BudgetsPage session={viewer} />);
    const card = await screen.findByTestId("budget-card");
    await waitFor(() => expect(within(card).getByTestId("budget-percent").textContent).toBe("80.3%"));
    expect(within(card).getByTestId("budget-spend").textContent).toBe("$401.25");
    expect(within(card).getByTestId("budget-amount").textContent).toBe("$500.00");
    expect(within(card).getByTestId("budget-remaining").textContent).toBe("$98.75");
    expect(within(card).getByTestId("budget-forecast").textContent).toBe("$612.40");
    expect(within(card).getByTestId("budget-projected").textContent).toBe("Reaches 100% on Nov 24 at the last 7 days' rate");
    expect(within(card).getByTestId("budget-scope").textContent).toBe("Service: Anthropic · Monthly · Nov 1 – Nov 30");
    const bar = within(card).getByRole("progressbar");
    expect(bar.getAttribute("aria-valuenow")).toBe("80.3");
    expect(bar.getAttribute("aria-label")).toBe("Claude this month: spend as a share of the budget");
    expect(within(card).getByTestId("budget-threshold-50").dataset.fired).toBe("true");
    expect(within(card).getByTestId("budget-threshold-80").dataset.fired).toBe("true");
    expect(within(card).getByTestId("budget-threshold-100").dataset.fired).toBe("false");

    const row = await screen.findByTestId("alert-row");
    expect(within(row).getByTestId("alert-threshold").textContent).toBe("80%");
    const d = within(row).getByTestId("alert-delivery");
    expect(d.dataset.state).toBe("pending");
    expect(within(d).getByTestId("delivery-attempts").textContent).toBe("2 attempts · HTTP 503");
    expect(d.textContent).toContain("next try Nov 20, 2026 10:05");
  });

  it("a viewer gets no create, edit or delete controls", async () => {
    stubFetch(routes());
    renderWithClient(<BudgetsPage session={viewer} />);
    await screen.findByTestId("budget-card");
    expect(screen.queryByTestId("budget-new")).toBeNull();
    expect(screen.queryByTestId("budget-edit")).toBeNull();
    expect(screen.queryByTestId("budget-delete")).toBeNull();
    expect(screen.getByTestId("budgets-readonly").textContent).toContain("Only an owner");
  });

  it("an owner creates a budget and sees each webhook secret once", async () => {
    let created = false;
    const made: Budget = {
      ...claude,
      id: 4,
      name: "Per user",
      scope: "each_user",
      scope_value: "",
      period: "day",
      amount_dollars: "2.50",
      webhooks: [{ id: 11, url: "https://hooks.example.com/y", format: "standard", secret: "whsec_c2VjcmV0" }],
    };
    const sent = stubFetch(
      routes({
        "GET /admin/budgets": () => ({ status: 200, body: { budgets: created ? [claude, { ...made, webhooks: [{ ...made.webhooks[0], secret: undefined }] }] : [claude] } }),
        "POST /admin/budgets": () => {
          created = true;
          return { status: 201, body: made };
        },
        "GET /admin/budgets/4/status": { status: 200, body: { ...status, budget: made, percent: 0, thresholds_fired: [], users: [] } },
      }),
    );
    renderWithClient(<BudgetsPage session={owner} />);
    await userEvent.click(await screen.findByTestId("budget-new"));
    const form = screen.getByTestId("budget-form");
    await userEvent.type(within(form).getByLabelText("Name"), "Per user");
    await userEvent.selectOptions(within(form).getByLabelText("Scope"), "each_user");
    expect(within(form).queryByLabelText(/User id|Model id/)).toBeNull();
    await userEvent.selectOptions(within(form).getByLabelText("Period"), "day");
    await userEvent.type(within(form).getByLabelText(/^Amount/), "2.50");
    await userEvent.click(within(form).getByTestId("budget-add-webhook"));
    await userEvent.type(within(form).getByLabelText("Webhook 1 URL"), "https://hooks.example.com/y");
    await userEvent.click(within(form).getByRole("button", { name: "Create budget" }));
    const secrets = await screen.findByTestId("webhook-secrets");
    expect(within(secrets).getByTestId("webhook-secret-value").textContent).toBe("whsec_c2VjcmV0");
    const post = sent.find((r) => r.method === "POST");
    expect(post?.headers["x-csrf-token"]).toBeDefined();
    expect(post?.body).toEqual({
      name: "Per user",
      scope: "each_user",
      scope_value: "",
      period: "day",
      amount_dollars: "2.50",
      thresholds: [50, 80, 100],
      webhooks: [{ url: "https://hooks.example.com/y", format: "standard" }],
    });
    await waitFor(() => expect(screen.getAllByTestId("budget-card")).toHaveLength(2));
    await userEvent.click(within(secrets).getByRole("button", { name: "Done" }));
    expect(screen.queryByTestId("webhook-secrets")).toBeNull();
    expect(screen.queryByText("whsec_c2VjcmV0")).toBeNull();
  });

  it("refuses a bad amount before sending, and shows the server's refusal", async () => {
    const sent = stubFetch(routes({ "POST /admin/budgets": { status: 400, body: { error: "webhooks[0].url: resolves to a private address" } } }));
    renderWithClient(<BudgetsPage session={owner} />);
    await userEvent.click(await screen.findByTestId("budget-new"));
    const form = screen.getByTestId("budget-form");
    await userEvent.type(within(form).getByLabelText("Name"), "All");
    await userEvent.type(within(form).getByLabelText(/^Amount/), "$5");
    await userEvent.click(within(form).getByRole("button", { name: "Create budget" }));
    expect(within(form).getByText("An amount in US dollars, like 500.00 (at most six decimals)")).toBeTruthy();
    expect(sent.filter((r) => r.method === "POST")).toHaveLength(0);
    await userEvent.clear(within(form).getByLabelText(/^Amount/));
    await userEvent.type(within(form).getByLabelText(/^Amount/), "5");
    await userEvent.click(within(form).getByTestId("budget-add-webhook"));
    await userEvent.type(within(form).getByLabelText("Webhook 1 URL"), "http://10.0.0.1/hook");
    await userEvent.click(within(form).getByRole("button", { name: "Create budget" }));
    expect((await within(form).findByRole("alert")).textContent).toContain("resolves to a private address");
  });

  it("an owner edits with PATCH (only what changed) and deletes in two clicks", async () => {
    const sent = stubFetch(
      routes({
        "PATCH /admin/budgets/3": { status: 200, body: { ...claude, amount_dollars: "750.00" } },
        "DELETE /admin/budgets/3": { status: 204 },
      }),
    );
    renderWithClient(<BudgetsPage session={owner} />);
    await userEvent.click(await screen.findByTestId("budget-edit"));
    const form = screen.getByTestId("budget-form");
    expect((within(form).getByLabelText("Scope") as HTMLSelectElement).disabled).toBe(true);
    const amount = within(form).getByLabelText(/^Amount/) as HTMLInputElement;
    expect(amount.value).toBe("500.00");
    await userEvent.clear(amount);
    await userEvent.type(amount, "750.00");
    await userEvent.click(within(form).getByRole("button", { name: "Save changes" }));
    await screen.findByTestId("budget-notice");
    const patch = sent.find((r) => r.method === "PATCH");
    expect(patch?.path).toBe("/admin/budgets/3");
    expect(patch?.body).toEqual({ amount_dollars: "750.00" });
    expect(screen.queryByTestId("webhook-secrets")).toBeNull();

    await userEvent.click(screen.getByTestId("budget-delete"));
    expect(sent.filter((r) => r.method === "DELETE")).toHaveLength(0);
    await userEvent.click(screen.getByTestId("budget-delete-confirm"));
    await waitFor(() => expect(sent.filter((r) => r.method === "DELETE").map((r) => r.path)).toEqual(["/admin/budgets/3"]));
    expect((await screen.findByTestId("budget-notice")).textContent).toBe("Deleted “Claude this month”. Its alert history stays.");
  });
});
