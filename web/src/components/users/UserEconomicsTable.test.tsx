// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { QueryClientProvider } from "@tanstack/react-query";
import { renderWithClient, stubFetch } from "../../test/render";
import { ToastProvider } from "../Toast";
import type { Economics, UserEconomics } from "../../lib/types";
import { UserEconomicsTable } from "./UserEconomicsTable";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const range = { start: "2026-03-01", end: "2026-03-31" };
const base = "GET /admin/analytics/users/economics?start_date=2026-03-01&end_date=2026-03-31";
const url = (sort: string, order: string, cursor?: string) =>
  `${base}&sort_by=${sort}&order=${order}&limit=25${cursor ? `&cursor=${cursor}` : ""}`;

const period = { start: "2026-03-01", end: "2026-03-31", days: 31, timezone: "UTC" };
const summary = {
  users: 1840,
  paying_users: 412,
  users_losing_money: 1502,
  loss_cents: -81234.6,
  revenue_cents: 964313,
  cost_cents: 788061.2,
  margin_cents: 176251.8,
};

function user(id: string, revenue: number, cost: number, stories: number, email: string | null = `${id}@x.test`): UserEconomics {
  const margin = Math.round((revenue - cost) * 1e4) / 1e4;
  return {
    user_id: id,
    email,
    revenue_cents: revenue,
    cost_cents: cost,
    margin_cents: margin,
    margin_pct: revenue ? (margin / revenue) * 100 : null,
    stories,
    cost_per_story_cents: stories ? cost / stories : null,
  };
}

function page(users: UserEconomics[], next: string | null, sort = "margin", order = "asc"): Economics {
  return { users, summary, next_cursor: next, sort_by: sort as Economics["sort_by"], order: order as Economics["order"], limit: 25, period };
}

const page1 = page([user("u7", 999, 1432.5187, 12), user("u8", 0, 120.25, 0, null), user("u9", 5000, 1000, 4)], "CUR2");
const page2 = page([user("u10", 999, 10, 1), user("u11", 2000, 5, 2)], "CUR3");
const page3 = page([user("u12", 9999, 1, 1)], null);

function rowTexts() {
  return within(screen.getByTestId("economics-table"))
    .getAllByTestId("economics-row")
    .map((r) => r.getAttribute("data-user"));
}

describe("UserEconomicsTable", () => {
  it("shows the summary and each user's P&L, with a red bar for a loss and a green one for a profit", async () => {
    const sent = stubFetch({ [url("margin", "asc")]: { status: 200, body: page1 } });
    renderWithClient(<UserEconomicsTable range={range} />);
    await waitFor(() => expect(screen.getByTestId("economics-users").textContent).toBe("1,840"));
    expect(screen.getByTestId("economics-paying").textContent).toBe("412");
    expect(screen.getByTestId("economics-losing").textContent).toBe("1,502");
    expect(screen.getByTestId("economics-loss").textContent).toBe("-$812.35");
    expect(screen.getByTestId("economics-revenue").textContent).toBe("$9,643.13");
    expect(screen.getByTestId("economics-cost").textContent).toBe("$7,880.61");
    expect(screen.getByTestId("economics-margin").textContent).toBe("$1,762.52");

    const rows = within(screen.getByTestId("economics-table")).getAllByTestId("economics-row");
    expect(rows.map((r) => Array.from(r.children, (c) => c.textContent))).toEqual([
      ["u7@x.testu7", "-$4.34", "$9.99", "$14.33", "-43.4%", "12", "$1.19"],
      ["no emailu8", "-$1.20", "$0.00", "$1.20", "—", "0", "—"],
      ["u9@x.testu9", "$40.00", "$50.00", "$10.00", "+80.0%", "4", "$2.50"],
    ]);
    // Bars: sign from the margin, length relative to the page's largest |margin| (u9's $40.00).
    const bars = screen.getAllByTestId("margin-bar");
    expect(bars.map((b) => b.getAttribute("data-sign"))).toEqual(["negative", "negative", "positive"]);
    const fills = bars.map((b) => b.firstElementChild as HTMLElement);
    expect(fills.map((f) => f.className)).toEqual(["margin-fill is-negative", "margin-fill is-negative", "margin-fill is-positive"]);
    expect(parseFloat(fills[0].style.width)).toBeCloseTo((433.5187 / 4000) * 50, 3);
    expect(fills[2].style.width).toBe("50%");
    expect(screen.getByTestId("economics-page-status").textContent).toBe("Page 1: users 1–3 of 1,840");
    expect(screen.getByTestId("economics-sort-margin").closest("th")?.getAttribute("aria-sort")).toBe("ascending");
    expect(sent.map((s) => `${s.method} ${s.path}`)).toEqual([url("margin", "asc")]);
  });

  it("pages with the cursor: Next sends next_cursor, Previous goes back through the stack", async () => {
    const sent = stubFetch({
      [url("margin", "asc")]: { status: 200, body: page1 },
      [url("margin", "asc", "CUR2")]: { status: 200, body: page2 },
      [url("margin", "asc", "CUR3")]: { status: 200, body: page3 },
    });
    renderWithClient(<UserEconomicsTable range={range} />);
    await waitFor(() => expect(rowTexts()).toEqual(["u7", "u8", "u9"]));
    expect((screen.getByTestId("economics-prev") as HTMLButtonElement).disabled).toBe(true);

    fireEvent.click(screen.getByTestId("economics-next"));
    await waitFor(() => expect(rowTexts()).toEqual(["u10", "u11"]));
    await waitFor(() => expect(screen.getByTestId("economics-page-status").textContent).toBe("Page 2: users 26–27 of 1,840"));

    fireEvent.click(screen.getByTestId("economics-next"));
    await waitFor(() => expect(rowTexts()).toEqual(["u12"]));
    await waitFor(() => expect(screen.getByTestId("economics-table").getAttribute("data-page")).toBe("3"));
    expect((screen.getByTestId("economics-next") as HTMLButtonElement).disabled).toBe(true);

    fireEvent.click(screen.getByTestId("economics-prev"));
    await waitFor(() => expect(rowTexts()).toEqual(["u10", "u11"]));
    await waitFor(() => expect((screen.getByTestId("economics-prev") as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(screen.getByTestId("economics-prev"));
    await waitFor(() => expect(rowTexts()).toEqual(["u7", "u8", "u9"]));

    // Going back is answered from the cache: each page was asked for once.
    expect(sent.map((s) => s.path.replace(/^.*limit=25/, ""))).toEqual(["", "&cursor=CUR2", "&cursor=CUR3"]);
  });

  it("sorts by a column (its default order first, then the other), back on page 1", async () => {
    const sent = stubFetch({
      [url("margin", "asc")]: { status: 200, body: page1 },
      [url("margin", "asc", "CUR2")]: { status: 200, body: page2 },
      [url("cost", "desc")]: { status: 200, body: page([user("u1", 0, 9000, 3)], null, "cost", "desc") },
      [url("cost", "asc")]: { status: 200, body: page([user("u2", 0, 1, 1)], null, "cost", "asc") },
    });
    renderWithClient(<UserEconomicsTable range={range} />);
    await waitFor(() => expect(rowTexts()).toEqual(["u7", "u8", "u9"]));
    fireEvent.click(screen.getByTestId("economics-next"));
    await waitFor(() => expect(rowTexts()).toEqual(["u10", "u11"]));

    fireEvent.click(screen.getByTestId("economics-sort-cost"));
    await waitFor(() => expect(rowTexts()).toEqual(["u1"]));
    expect(screen.getByTestId("economics-sort-cost").closest("th")?.getAttribute("aria-sort")).toBe("descending");
    await waitFor(() => expect(screen.getByTestId("economics-page-status").textContent).toBe("Page 1: users 1–1 of 1,840"));

    fireEvent.click(screen.getByTestId("economics-sort-cost"));
    await waitFor(() => expect(rowTexts()).toEqual(["u2"]));
    expect(screen.getByTestId("economics-sort-cost").closest("th")?.getAttribute("aria-sort")).toBe("ascending");
    expect(sent.map((s) => s.path)).toEqual([url("margin", "asc"), url("margin", "asc", "CUR2"), url("cost", "desc"), url("cost", "asc")].map((u) => u.slice(4)));
  });

  it("a new range starts on its first page, never sending the old range's cursor", async () => {
    const other = "GET /admin/analytics/users/economics?start_date=2026-02-01&end_date=2026-02-28";
    const sent = stubFetch({
      [url("margin", "asc")]: { status: 200, body: page1 },
      [url("margin", "asc", "CUR2")]: { status: 200, body: page2 },
      [`${other}&sort_by=margin&order=asc&limit=25`]: { status: 200, body: page3 },
    });
    const { rerender, client } = renderWithClient(<UserEconomicsTable range={range} />);
    await waitFor(() => expect(rowTexts()).toEqual(["u7", "u8", "u9"]));
    fireEvent.click(screen.getByTestId("economics-next"));
    await waitFor(() => expect(rowTexts()).toEqual(["u10", "u11"]));
    rerender(
      <QueryClientProvider client={client}>
        <ToastProvider>
          <UserEconomicsTable range={{ start: "2026-02-01", end: "2026-02-28" }} />
        </ToastProvider>
      </QueryClientProvider>,
    );
    await waitFor(() => expect(rowTexts()).toEqual(["u12"]));
    expect(screen.getByTestId("economics-table").getAttribute("data-page")).toBe("1");
    expect(sent.map((s) => s.path)).toEqual([url("margin", "asc"), url("margin", "asc", "CUR2"), `${other}&sort_by=margin&order=asc&limit=25`].map((u) => u.slice(4)));
  });

  it("says so when no user had revenue or cost", async () => {
    stubFetch({ [url("margin", "asc")]: { status: 200, body: { ...page([], null), summary: { ...summary, users: 0 } } } });
    renderWithClient(<UserEconomicsTable range={range} />);
    await waitFor(() => expect(screen.getByText("No user had revenue or cost in this range.")).toBeTruthy());
    expect(screen.getByTestId("economics-users").textContent).toBe("0");
    expect(screen.queryByTestId("economics-table")).toBeNull();
  });

  it("shows the API's reason when refused", async () => {
    stubFetch({ [url("margin", "asc")]: { status: 400, body: { error: "Date range cannot exceed 366 days" } } });
    renderWithClient(<UserEconomicsTable range={range} />);
    await waitFor(() => expect(screen.getByTestId("error-state").textContent).toContain("Date range cannot exceed 366 days"));
    expect(screen.queryByTestId("economics-summary")).toBeNull();
  });
});
