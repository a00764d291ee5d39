// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { renderWithClient, stubFetch } from "../test/render";
import { ExportMenu, exportFallbackName, exportParams } from "./ExportMenu";

const saved = vi.hoisted(() => [] as string[]);
vi.mock("../lib/api", async (orig) => ({
  ...(await orig<typeof import("../lib/api")>()),
  saveBlob: (_b: Blob, name: string) => saved.push(name),
}));

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  saved.length = 0;
});

const range = { start: "2026-03-01", end: "2026-03-31" };
const base = "/admin/analytics/export?start_date=2026-03-01&end_date=2026-03-31";

describe("ExportMenu", () => {
  it("exports the daily table as before unless another table is chosen", async () => {
    const sent = stubFetch({
      [`GET ${base}&format=csv`]: { status: 200, body: "Date,New Users" },
      [`GET ${base}&format=json&table=users`]: { status: 200, body: { format: "json", table: "users", users: [] } },
      [`GET ${base}&format=csv&table=cohorts`]: { status: 200, body: "cohort,granularity" },
    });
    renderWithClient(<ExportMenu range={range} />);

    fireEvent.click(screen.getByTestId("export-button"));
    await waitFor(() => expect(saved).toEqual(["analytics_2026-03-01_2026-03-31.csv"]));

    fireEvent.click(screen.getByTestId("export-menu-toggle"));
    expect(screen.getByTestId("export-table-daily").getAttribute("aria-checked")).toBe("true");
    fireEvent.click(screen.getByTestId("export-table-users"));
    // Choosing a table keeps the menu open and says what the file holds.
    expect(screen.getByTestId("export-table-users").getAttribute("aria-checked")).toBe("true");
    expect(screen.getByTestId("export-table-daily").getAttribute("aria-checked")).toBe("false");
    expect(screen.getByTestId("export-json").textContent).toBe("JSONPer-user P&L, for scripts");
    fireEvent.click(screen.getByTestId("export-json"));
    await waitFor(() => expect(saved).toHaveLength(2));
    expect(saved[1]).toBe("analytics_users_2026-03-01_2026-03-31.json");

    fireEvent.click(screen.getByTestId("export-menu-toggle"));
    // The choice is remembered while the page is open.
    expect(screen.getByTestId("export-table-users").getAttribute("aria-checked")).toBe("true");
    fireEvent.click(screen.getByTestId("export-table-cohorts"));
    fireEvent.click(screen.getByTestId("export-menu-toggle"));
    fireEvent.click(screen.getByTestId("export-button"));
    await waitFor(() => expect(saved).toHaveLength(3));
    expect(saved[2]).toBe("analytics_cohorts_2026-03-01_2026-03-31.csv");

    expect(sent.map((s) => s.path)).toEqual([
      `${base}&format=csv`,
      `${base}&format=json&table=users`,
      `${base}&format=csv&table=cohorts`,
    ]);
  });

  it("builds the query and the fallback name per table", () => {
    expect(exportParams(range, "daily", "json")).toEqual({ start_date: "2026-03-01", end_date: "2026-03-31", format: "json" });
    expect(exportParams(range, "stories", "csv")).toEqual({ start_date: "2026-03-01", end_date: "2026-03-31", format: "csv", table: "stories" });
    expect(exportFallbackName(range, "daily", "csv")).toBe("analytics_2026-03-01_2026-03-31.csv");
    expect(exportFallbackName(range, "stories", "json")).toBe("analytics_stories_2026-03-01_2026-03-31.json");
  });
});
