// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, screen, waitFor, within } from "@testing-library/react";
import { renderWithClient, stubFetch } from "../../test/render";
import type { StoryCosts as StoryCostsData } from "../../lib/types";
import { StoryCosts, axisMoney, bucketLabel, serviceShares } from "./StoryCosts";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const range = { start: "2026-03-01", end: "2026-03-31" };
const path = "GET /admin/analytics/stories?start_date=2026-03-01&end_date=2026-03-31&limit=10";
const period = { start: "2026-03-01", end: "2026-03-31", days: 31, timezone: "UTC" };

const body: StoryCostsData = {
  stories: 3758,
  completed: 3641,
  failed: 102,
  in_progress: 15,
  cost_cents: 788061.2,
  failed_cost_cents: 2051.7,
  cost_per_completed_story_cents: { mean: 210.3, p50: 188.1, p90: 402.2, p99: 905.0, max: 2210.4 },
  cost_per_audio_minute_cents: 8.27,
  histogram: [
    { from_cents: 0, to_cents: 110.52, stories: 812 },
    { from_cents: 110.52, to_cents: 221.04, stories: 2829 },
  ],
  top: [
    {
      story_id: "s1",
      user_id: "u7",
      date: "2026-03-04",
      status: "completed",
      chapters: 6,
      audio_seconds: 1740,
      cost_cents: 2210.4,
      by_service: { anthropic: 210.4, elevenlabs: 1999.0, s3: 1.0 },
    },
    {
      story_id: "s2",
      user_id: "u8",
      status: "failed",
      chapters: 0,
      audio_seconds: 0,
      cost_cents: 0.4321,
      by_service: { anthropic: 0.4321, elevenlabs: 0, s3: 0 },
    },
  ],
  period,
};

describe("StoryCosts", () => {
  it("shows the KPIs, the distribution and the top stories with their split by service", async () => {
    const sent = stubFetch({ [path]: { status: 200, body } });
    renderWithClient(<StoryCosts range={range} />);
    await waitFor(() => expect(screen.getByTestId("stories-total").textContent).toBe("3,758"));
    const kpi = (id: string) => screen.getByTestId(id).textContent;
    expect(kpi("stories-completed")).toBe("3,64196.9%");
    expect(kpi("stories-failed")).toBe("1022.7%");
    expect(kpi("stories-in-progress")).toBe("15");
    expect(kpi("stories-cost")).toBe("$7,880.61");
    expect(kpi("stories-failed-cost")).toBe("$20.52");
    expect(kpi("stories-per-minute")).toBe("$0.0827");
    expect(kpi("stories-mean")).toBe("$2.10");
    expect(kpi("stories-p50")).toBe("$1.88");
    expect(kpi("stories-p90")).toBe("$4.02");
    expect(kpi("stories-p99")).toBe("$9.05");
    expect(kpi("stories-max")).toBe("$22.10");

    expect(screen.getByRole("img", { name: /completed stories/ }).getAttribute("aria-label")).toBe(
      "Cost of the 3,641 completed stories in 2 buckets from $0.00 to $2.21; most (2,829) cost $1.11–$2.21.",
    );

    const rows = within(screen.getByTestId("stories-top-table")).getAllByTestId("stories-top-row");
    expect(rows.map((r) => r.getAttribute("data-story"))).toEqual(["s1", "s2"]);
    expect(within(rows[0]).getByTestId("stories-top-cost").textContent).toBe("$22.10");
    expect(within(rows[1]).getByTestId("stories-top-cost").textContent).toBe("$0.004321");
    expect(rows[0].textContent).toContain("Completed");
    expect(rows[0].textContent).toContain("29 min");
    expect(rows[0].textContent).toContain("Anthropic $2.10, ElevenLabs $19.99, S3 $0.01");
    // The stacked bar: one segment per service that cost something, widths its share.
    const segs = Array.from(within(rows[0]).getByTestId("story-split").children) as HTMLElement[];
    expect(segs.map((s) => s.getAttribute("data-service"))).toEqual(["anthropic", "elevenlabs", "s3"]);
    expect(parseFloat(segs[1].style.width)).toBeCloseTo((1999 / 2210.4) * 100, 6);
    const segs2 = Array.from(within(rows[1]).getByTestId("story-split").children) as HTMLElement[];
    expect(segs2.map((s) => [s.getAttribute("data-service"), s.style.width])).toEqual([["anthropic", "100%"]]);

    expect(sent.map((s) => `${s.method} ${s.path}`)).toEqual([path]);
  });

  it("shows dashes and no histogram when no story completed", async () => {
    stubFetch({
      [path]: {
        status: 200,
        body: {
          ...body,
          stories: 3,
          completed: 0,
          failed: 1,
          in_progress: 2,
          cost_per_completed_story_cents: { mean: null, p50: null, p90: null, p99: null, max: null },
          cost_per_audio_minute_cents: null,
          histogram: [],
          top: [],
        },
      },
    });
    renderWithClient(<StoryCosts range={range} />);
    await waitFor(() => expect(screen.getByTestId("stories-total").textContent).toBe("3"));
    expect(screen.getByTestId("stories-mean").textContent).toBe("—");
    expect(screen.getByTestId("stories-max").textContent).toBe("—");
    expect(screen.getByTestId("stories-per-minute").textContent).toBe("—");
    expect(screen.getByText("No completed stories in this range.")).toBeTruthy();
    expect(screen.getByText("No stories in this range.")).toBeTruthy();
    expect(screen.queryByTestId("stories-histogram")).toBeNull();
  });

  it("shows the API's reason when refused", async () => {
    stubFetch({ [path]: { status: 403, body: { error: "missing permission VIEW_ANALYTICS" } } });
    renderWithClient(<StoryCosts range={range} />);
    await waitFor(() => expect(screen.getByTestId("error-state").textContent).toContain("missing permission VIEW_ANALYTICS"));
    expect(screen.queryByTestId("stories-kpis")).toBeNull();
  });
});

describe("story helpers", () => {
  it("label a bucket with sub-cent bounds and split a story by service", () => {
    expect(bucketLabel({ from_cents: 0.5, to_cents: 110.52, stories: 1 })).toBe("$0.005–$1.11");
    expect(serviceShares(body.top[0]).map((x) => Math.round(x.pct * 100) / 100)).toEqual([9.52, 90.44, 0.05]);
    expect([axisMoney(0), axisMoney(43.4646), axisMoney(220), axisMoney(123456)]).toEqual(["$0.00", "$0.43", "$2.2", "$1.2K"]);
    expect(serviceShares({ ...body.top[0], by_service: { anthropic: 0, elevenlabs: 0, s3: 0 } }).map((x) => x.pct)).toEqual([0, 0, 0]);
  });
});
