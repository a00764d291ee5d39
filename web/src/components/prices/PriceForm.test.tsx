// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { emptyDraft } from "../../lib/prices";
import type { PriceEntry } from "../../lib/types";
import { renderWithClient, stubFetch } from "../../test/render";
import { PriceForm } from "./PriceForm";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

async function fillAnthropicRates() {
  const rates: [RegExp, string][] = [
    [/^Input/, "3.00"],
    [/^Output/, "15.00"],
    [/^Cache write \(5 min\)/, "3.75"],
    [/^Cache write \(1 h\)/, "6.00"],
    [/^Cache read/, "0.30"],
  ];
  for (const [label, v] of rates) await userEvent.type(screen.getByLabelText(label), v);
}

describe("PriceForm", () => {
  it("is filled in from the unpriced model and posts the --prices format", async () => {
    const sent = stubFetch({ "POST /admin/prices": { status: 200, body: { added: 1, replaced: 0, entries: [] } } });
    const onSaved = vi.fn();
    renderWithClient(<PriceForm initial={emptyDraft("anthropic", "claude-x", "2026-10-30")} entries={[]} onSaved={onSaved} />);
    expect((screen.getByLabelText("Service") as HTMLSelectElement).value).toBe("anthropic");
    expect((screen.getByLabelText("Model") as HTMLInputElement).value).toBe("claude-x");
    expect((screen.getByLabelText("Effective from") as HTMLInputElement).value).toBe("2026-10-30");
    await fillAnthropicRates();
    await userEvent.click(screen.getByRole("button", { name: "Add price" }));
    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    expect(sent).toHaveLength(1);
    expect(sent[0].body).toEqual({
      entries: [
        {
          service: "anthropic",
          model: "claude-x",
          effective_from: "2026-10-30",
          rates: { input: "3.00", output: "15.00", cache_write_5m: "3.75", cache_write_1h: "6.00", cache_read: "0.30" },
        },
      ],
    });
    expect(screen.getByTestId("price-saved").textContent).toContain("Added the price of claude-x from 2026-10-30");
  });

  it("refuses missing and malformed rates before any request", async () => {
    const sent = stubFetch({});
    renderWithClient(<PriceForm initial={emptyDraft("elevenlabs", "", "2026-10-30")} entries={[]} onSaved={() => {}} />);
    await userEvent.type(screen.getByLabelText(/^Characters/), "$0.30");
    await userEvent.click(screen.getByRole("button", { name: "Add price" }));
    expect(sent).toHaveLength(0);
    expect(screen.getByText("Enter the model id, exactly as the events name it")).toBeTruthy();
    expect(screen.getByText("A price in US dollars, like 3.00 or 0.0004")).toBeTruthy();
    expect(screen.getByLabelText(/^Characters/).getAttribute("aria-invalid")).toBe("true");
  });

  it("switching service asks for that service's rates", async () => {
    stubFetch({});
    renderWithClient(<PriceForm initial={emptyDraft()} entries={[]} onSaved={() => {}} />);
    expect(screen.getByLabelText(/^Input/)).toBeTruthy();
    await userEvent.selectOptions(screen.getByLabelText("Service"), "s3");
    expect(screen.queryByLabelText(/^Input/)).toBeNull();
    expect(screen.getByLabelText(/^Transfer out/)).toBeTruthy();
    expect(screen.getByLabelText(/^Tier 1 requests/)).toBeTruthy();
    expect(screen.getByLabelText(/^Tier 2 requests/)).toBeTruthy();
  });

  it("says when it replaces an entry, and shows the server's refusal", async () => {
    const existing: PriceEntry = {
      service: "elevenlabs",
      model: "eleven_v3",
      effective_from: "2026-01-01",
      rates: { characters: "0.30" },
      source: "built-in",
    };
    stubFetch({ "POST /admin/prices": { status: 400, body: { error: "pricing: entries[0] (elevenlabs/eleven_v3): rate \"characters\" must be at most 1000" } } });
    renderWithClient(<PriceForm initial={{ ...emptyDraft("elevenlabs", "eleven_v3", "2026-01-01") }} entries={[existing]} onSaved={() => {}} />);
    expect(screen.getByTestId("price-replaces").textContent).toBe("Replaces the built-in entry of 2026-01-01.");
    await userEvent.type(screen.getByLabelText(/^Characters/), "5000");
    await userEvent.click(screen.getByRole("button", { name: "Replace price" }));
    expect((await screen.findByRole("alert")).textContent).toContain('rate "characters" must be at most 1000');
  });
});
