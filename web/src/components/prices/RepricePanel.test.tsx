// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { RepriceResult } from "../../lib/types";
import { renderWithClient, stubFetch } from "../../test/render";
import { RepricePanel, repriceBody, validateScope } from "./RepricePanel";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const result = (dryRun: boolean): RepriceResult => ({
  dry_run: dryRun,
  calls_examined: 3,
  calls_repriced: 2,
  unpriced_before: 2,
  unpriced_after: 0,
  old_cost_cents: 1.5,
  new_cost_cents: 452.1016,
  by_model: [
    { service: "anthropic", model: "claude-x", calls: 2, calls_repriced: 2, old_cost_cents: 0, new_cost_cents: 450.6016, unpriced_before: 2, unpriced_after: 0 },
    { service: "anthropic", model: "claude-haiku-4-5", calls: 1, calls_repriced: 0, old_cost_cents: 1.5, new_cost_cents: 1.5, unpriced_before: 0, unpriced_after: 0 },
  ],
});

describe("repriceBody / validateScope", () => {
  it("leaves empty fields out", () => {
    expect(repriceBody({ since: "", until: "", model: " " }, true)).toEqual({ dry_run: true });
    expect(repriceBody({ since: "2026-01-01", until: "2026-01-31", model: "m" }, false)).toEqual({
      dry_run: false,
      since: "2026-01-01",
      until: "2026-01-31",
      model: "m",
    });
  });
  it("refuses an inverted or impossible scope", () => {
    expect(validateScope({ since: "2026-02-01", until: "2026-01-01", model: "" })).toBe("Until must be on or after Since");
    expect(validateScope({ since: "2026-02-30", until: "", model: "" })).toMatch(/^Since: invalid date/);
    expect(validateScope({ since: "", until: "", model: "" })).toBeNull();
  });
});

describe("RepricePanel", () => {
  it("previews first, then applies exactly the previewed scope", async () => {
    const sent = stubFetch({
      "POST /admin/prices/reprice": (req) => ({ status: 200, body: result((req.body as { dry_run: boolean }).dry_run) }),
    });
    const { client } = renderWithClient(<RepricePanel initial={{ since: "2026-10-30", until: "2026-11-29", model: "claude-x" }} />);
    const invalidate = vi.spyOn(client, "invalidateQueries");
    const apply = screen.getByRole("button", { name: "Apply reprice" });
    expect((apply as HTMLButtonElement).disabled).toBe(true);

    await userEvent.click(screen.getByRole("button", { name: "Preview (dry run)" }));
    const preview = await screen.findByTestId("reprice-preview");
    expect(sent[0].body).toEqual({ dry_run: true, since: "2026-10-30", until: "2026-11-29", model: "claude-x" });
    expect(preview.textContent).toContain("Dry run: nothing was changed.");
    expect(within(preview).getByTestId("reprice-new-cost").textContent).toBe("$4.52");
    const row = preview.querySelector('tr[data-model="claude-x"]') as HTMLElement;
    expect(row.textContent).toContain("2 → 0");
    expect(row.textContent).toContain("+$4.51");
    expect((preview.querySelector('tr[data-model="claude-haiku-4-5"]') as HTMLElement).textContent).toContain("no change");
    expect(invalidate).not.toHaveBeenCalled();

    await waitFor(() => expect((apply as HTMLButtonElement).disabled).toBe(false));
    await userEvent.click(apply);
    await screen.findByTestId("reprice-applied");
    expect(sent[1].body).toEqual({ dry_run: false, since: "2026-10-30", until: "2026-11-29", model: "claude-x" });
    // Every figure a price can change is refetched.
    const keys = invalidate.mock.calls.map((c) => JSON.stringify(c[0]?.queryKey));
    for (const k of ["prices", "dashboard", "costs", "growth", "top-users"]) expect(keys).toContain(JSON.stringify([k]));
  });

  it("a scope changed after the preview must be previewed again", async () => {
    stubFetch({ "POST /admin/prices/reprice": { status: 200, body: result(true) } });
    renderWithClient(<RepricePanel initial={{ since: "", until: "", model: "claude-x" }} />);
    await userEvent.click(screen.getByRole("button", { name: "Preview (dry run)" }));
    await screen.findByTestId("reprice-preview");
    const apply = screen.getByRole("button", { name: "Apply reprice" }) as HTMLButtonElement;
    await waitFor(() => expect(apply.disabled).toBe(false));
    await userEvent.type(screen.getByLabelText(/^Model/), "-2");
    expect(apply.disabled).toBe(true);
    expect(screen.getByText("Scope changed: preview again")).toBeTruthy();
  });

  it("shows the server's reason when it refuses", async () => {
    stubFetch({ "POST /admin/prices/reprice": { status: 403, body: { error: "permission denied: MANAGE_ADMINS required" } } });
    renderWithClient(<RepricePanel initial={{ since: "", until: "", model: "" }} />);
    await userEvent.click(screen.getByRole("button", { name: "Preview (dry run)" }));
    expect((await screen.findByTestId("error-state")).textContent).toContain("permission denied: MANAGE_ADMINS required");
  });
});
