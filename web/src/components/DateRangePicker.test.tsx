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

  it("shows one today when the previous month's grid ends with today's week (hidden outside days)", async () => {
    // 2026-11 ends on a Monday: its grid's last week runs to Sunday the 6th
    // of December, rendered as hidden cells marked like the real ones.
    render(<DateRangePicker range={{ start: "2026-11-06", end: "2026-12-06" }} today={parseDay("2026-12-06")!} onChange={vi.fn()} />);
    await userEvent.click(screen.getByTestId("date-range-trigger"));
    const visible = document.querySelectorAll("[data-today]:not([data-hidden])");
    expect(Array.from(visible).map((d) => d.getAttribute("data-day"))).toEqual(["2026-12-06"]);
    expect(visible[0].querySelector("button")?.getAttribute("aria-label")).toContain("Today");
  });
});
