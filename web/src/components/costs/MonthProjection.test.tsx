// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, screen, waitFor } from "@testing-library/react";
import { renderWithClient, stubFetch } from "../../test/render";
import { MonthProjection } from "./MonthProjection";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("MonthProjection", () => {
  it("asks for the month and the 7 days before today, and projects the month's end", async () => {
    const day = (date: string, anthropic: number) => ({ date, anthropic, elevenlabs: 0, s3: 0 });
    const sent = stubFetch({
      "GET /admin/analytics/costs?start_date=2026-11-01&end_date=2026-11-20": {
        status: 200,
        body: {
          daily: [day("2026-11-01", 100), day("2026-11-12", 7), day("2026-11-13", 7), day("2026-11-19", 21), day("2026-11-20", 5)],
        },
      },
    });
    renderWithClient(<MonthProjection today={new Date(2026, 10, 20)} />);
    // Spend Nov 1–20: 140. Nov 13–19: 28 / 7 = 4 a day, 10 days left: 180.
    await waitFor(() => expect(screen.getByTestId("projection-forecast").textContent).toBe("$180.00"));
    expect(screen.getByTestId("projection-spend").textContent).toBe("$140.00");
    expect(screen.getByTestId("projection-rate").textContent).toBe("$4.00");
    expect(screen.getByTestId("projection-days-left").textContent).toBe("10");
    expect(sent).toHaveLength(1);
  });
});
