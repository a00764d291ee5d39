// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { parseDay } from "../lib/dateRange";
import { DateRangePicker } from "./DateRangePicker";

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe("DateRangePicker", () => {
  it("takes today from its prop (the server), not from the browser's clock", async () => {
    // The browser's clock says the 30th; the server says the 29th.
    vi.useFakeTimers({ now: new Date(2026, 10, 30, 3, 30), toFake: ["Date"] });
    const onChange = vi.fn();
    render(<DateRangePicker range={{ start: "2026-10-30", end: "2026-11-29" }} today={parseDay("2026-11-29")!} onChange={onChange} />);
    expect(screen.getByTestId("date-range-trigger").textContent).toContain("Last 30 days");
    await userEvent.click(screen.getByTestId("date-range-trigger"));
    const today = document.querySelectorAll("[data-today]");
    expect(Array.from(today).map((d) => d.getAttribute("data-day"))).toEqual(["2026-11-29"]);
    expect(document.querySelector('[data-day="2026-11-30"]')?.getAttribute("data-disabled")).toBe("true");
    await userEvent.click(screen.getByRole("button", { name: "Last 7 days" }));
    expect(onChange).toHaveBeenCalledWith({ start: "2026-11-22", end: "2026-11-29" });
  });
});
