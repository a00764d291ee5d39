// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { UnpricedWarning } from "./UnpricedWarning";

afterEach(cleanup);

const models = [
  { service: "anthropic" as const, model: "claude-x" },
  { service: "elevenlabs" as const, model: "" },
];

describe("UnpricedWarning", () => {
  it("leads an owner to price each named model", async () => {
    const onPrice = vi.fn();
    render(<UnpricedWarning calls={3} models={models} canPrice onPrice={onPrice} />);
    const w = screen.getByTestId("unpriced-warning");
    expect(w.textContent).toContain("3 API calls used unpriced models");
    expect(w.textContent).toContain("Add their prices on the Prices page, then reprice the calls.");
    expect(w.textContent).not.toContain("rebuild");
    // A call without a model cannot be priced by model: no button for it.
    expect(screen.getAllByTestId("unpriced-add-price")).toHaveLength(1);
    await userEvent.click(screen.getByRole("button", { name: "Add a price for claude-x (Anthropic)" }));
    expect(onPrice).toHaveBeenCalledWith({ service: "anthropic", model: "claude-x" });
  });

  it("tells anyone else who can fix it, with no buttons that would fail", () => {
    render(<UnpricedWarning calls={1} models={models} canPrice={false} onPrice={() => {}} />);
    expect(screen.getByTestId("unpriced-ask-owner").textContent).toContain("ask an owner");
    expect(screen.queryByTestId("unpriced-add-price")).toBeNull();
    expect(screen.getByTestId("unpriced-warning").textContent).toContain("1 API call used unpriced models");
  });

  it("is not there without unpriced calls", () => {
    render(<UnpricedWarning calls={0} models={[]} canPrice />);
    expect(screen.queryByTestId("unpriced-warning")).toBeNull();
  });
});
