// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, render, screen } from "@testing-library/react";
import type { AnomalyDay, CostDay } from "../../lib/types";
import { AnomalyList, AnomalyMarker, anomalyDots } from "./Anomalies";

afterEach(cleanup);

const daily: CostDay[] = [
  { date: "2026-11-10", anthropic: 3, elevenlabs: 2, s3: 0.5 },
  { date: "2026-11-11", anthropic: 3, elevenlabs: 45, s3: 0.5 },
  { date: "2026-11-12", anthropic: 30, elevenlabs: 45.25, s3: 0.5 },
];
const anomalies: AnomalyDay[] = [
  { service: "elevenlabs", date: "2026-11-11", cost_dollars: "45.00", baseline_dollars: "2.00", threshold_dollars: "3.00" },
  { service: "anthropic", date: "2026-11-12", cost_dollars: "30.00", baseline_dollars: "3.00", threshold_dollars: "4.00" },
  { service: "elevenlabs", date: "2026-11-12", cost_dollars: "45.25", baseline_dollars: "2.00", threshold_dollars: "3.00" },
  // Outside the chart's days: not marked.
  { service: "s3", date: "2026-10-01", cost_dollars: "9.00", baseline_dollars: "0.50", threshold_dollars: "1.50" },
];

describe("anomalies on the daily chart", () => {
  it("puts one marker per anomalous day, on top of the day's stack", () => {
    expect(anomalyDots(daily, anomalies).map((d) => [d.date, d.total, d.anomalies.map((a) => a.service)])).toEqual([
      ["2026-11-11", 48.5, ["elevenlabs"]],
      ["2026-11-12", 75.75, ["anthropic", "elevenlabs"]],
    ]);
  });

  it("a marker names the day, services and figures for screen readers", () => {
    const [dot] = anomalyDots(daily, anomalies);
    render(
      <svg>
        <AnomalyMarker cx={40} cy={100} dot={dot} />
      </svg>,
    );
    const m = screen.getByTestId("anomaly-marker");
    expect(m.getAttribute("data-date")).toBe("2026-11-11");
    expect(m.getAttribute("aria-label")).toBe(
      "Anomaly on Wed, Nov 11, 2026: ElevenLabs $45.00 (usual $2.00, anomalous above $3.00)",
    );
  });

  it("lists them in words below the chart", () => {
    render(<AnomalyList anomalies={anomalies.slice(0, 3)} />);
    const items = screen.getAllByTestId("anomaly");
    expect(items.map((li) => li.textContent)).toEqual([
      "Nov 11 ElevenLabs $45.00 usual $2.00, threshold $3.00",
      "Nov 12 Anthropic $30.00 usual $3.00, threshold $4.00",
      "Nov 12 ElevenLabs $45.25 usual $2.00, threshold $3.00",
    ]);
    cleanup();
    render(<AnomalyList anomalies={[]} />);
    expect(screen.getByTestId("anomalies-none")).toBeTruthy();
  });
});
