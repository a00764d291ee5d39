// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { parseDay } from "../lib/dateRange";
import type { PriceCatalog, Session } from "../lib/types";
import { renderWithClient, stubFetch } from "../test/render";
import { PricesPage } from "./PricesPage";

const owner: Session = {
  email: "o@x.test",
  role: "owner",
  permissions: ["VIEW_ANALYTICS", "EXPORT_DATA", "MANAGE_ADMINS", "VIEW_AUDIT", "MANAGE_PRICES"],
  csrf_token: "c",
  today: "2026-11-29",
  timezone: "UTC",
};
const analyst: Session = { ...owner, email: "a@x.test", role: "analyst", permissions: ["VIEW_ANALYTICS", "EXPORT_DATA"] };

const catalog: PriceCatalog = {
  entries: [
    { service: "anthropic", model: "claude-haiku-4-5", effective_from: "2025-10-15", rates: { input: "1.00", output: "5.00", cache_write_5m: "1.25", cache_write_1h: "2.00", cache_read: "0.10" }, source: "built-in" },
    { service: "anthropic", model: "claude-y", effective_from: "2026-01-01", rates: { input: "1.00", output: "5.00", cache_write_5m: "1.25", cache_write_1h: "2.00", cache_read: "0.10" }, source: "database" },
  ],
  unpriced: [
    { service: "anthropic", model: "claude-x", calls: 3 },
    { service: "anthropic", model: "claude-y", calls: 2 },
  ],
};

beforeEach(() => {
  window.scrollTo = () => {};
  Element.prototype.scrollIntoView = () => {};
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  window.history.replaceState(null, "", "/");
});

describe("PricesPage", () => {
  it("fills the form and the reprice scope from the warning's link", async () => {
    stubFetch({ "GET /admin/prices": { status: 200, body: catalog } });
    window.history.replaceState(null, "", "/admin/analytics?page=prices&service=anthropic&model=claude-x&since=2026-10-30&until=2026-11-29");
    renderWithClient(<PricesPage session={owner} today={parseDay("2026-11-29")!} />);
    const form = await screen.findByTestId("price-form");
    expect((within(form).getByLabelText("Model") as HTMLInputElement).value).toBe("claude-x");
    expect((within(form).getByLabelText("Effective from") as HTMLInputElement).value).toBe("2026-10-30");
    const reprice = screen.getByTestId("reprice-form");
    expect((within(reprice).getByLabelText(/^Since/) as HTMLInputElement).value).toBe("2026-10-30");
    expect((within(reprice).getByLabelText(/^Until/) as HTMLInputElement).value).toBe("2026-11-29");
    expect((within(reprice).getByLabelText(/^Model/) as HTMLInputElement).value).toBe("claude-x");
  });

  it("a new price starts today (the server's) when nothing is asked", async () => {
    stubFetch({ "GET /admin/prices": { status: 200, body: catalog } });
    renderWithClient(<PricesPage session={owner} today={parseDay("2026-11-29")!} />);
    const form = await screen.findByTestId("price-form");
    expect((within(form).getByLabelText("Effective from") as HTMLInputElement).value).toBe("2026-11-29");
  });

  it("offers a price for an unpriced model, and a reprice for one that has a price now", async () => {
    stubFetch({ "GET /admin/prices": { status: 200, body: catalog } });
    renderWithClient(<PricesPage session={owner} today={parseDay("2026-11-29")!} />);
    const list = await screen.findByTestId("prices-unpriced");
    expect(list.textContent).toContain("2 models have unpriced calls (5 in all, counted at $0)");
    const x = list.querySelector('li[data-model="claude-x"]') as HTMLElement;
    const y = list.querySelector('li[data-model="claude-y"]') as HTMLElement;
    expect(within(y).queryByRole("button", { name: "Add a price for claude-y" })).toBeNull();
    await userEvent.click(within(y).getByRole("button", { name: "Reprice the calls of claude-y" }));
    await waitFor(() =>
      expect((within(screen.getByTestId("reprice-form")).getByLabelText(/^Model/) as HTMLInputElement).value).toBe("claude-y"),
    );
    await userEvent.click(within(x).getByRole("button", { name: "Add a price for claude-x" }));
    await waitFor(() => expect((within(screen.getByTestId("price-form")).getByLabelText("Model") as HTMLInputElement).value).toBe("claude-x"));
  });

  it("shows the catalog with sources, and removes only database entries", async () => {
    stubFetch({ "GET /admin/prices": { status: 200, body: catalog } });
    renderWithClient(<PricesPage session={owner} today={parseDay("2026-11-29")!} />);
    const table = await screen.findByTestId("price-table");
    const builtIn = table.querySelector('tr[data-model="claude-haiku-4-5"]') as HTMLElement;
    const db = table.querySelector('tr[data-model="claude-y"]') as HTMLElement;
    expect(within(builtIn).getByTestId("price-source").textContent).toBe("Built-in");
    expect(within(db).getByTestId("price-source").textContent).toBe("Database");
    expect(within(builtIn).queryByRole("button", { name: /^Remove/ })).toBeNull();
    expect(within(db).getByRole("button", { name: "Remove the price of claude-y from 2026-01-01" })).toBeTruthy();
  });

  it("non-owners see the catalog and who to ask, and no forms", async () => {
    stubFetch({ "GET /admin/prices": { status: 200, body: catalog } });
    renderWithClient(<PricesPage session={analyst} today={parseDay("2026-11-29")!} />);
    expect((await screen.findByTestId("prices-unpriced")).textContent).toContain("ask an owner");
    expect(screen.queryByTestId("price-form")).toBeNull();
    expect(screen.queryByTestId("reprice-form")).toBeNull();
    expect(screen.queryByRole("button", { name: /^Add a price/ })).toBeNull();
    expect(screen.queryByRole("button", { name: /^Remove/ })).toBeNull();
  });
});
