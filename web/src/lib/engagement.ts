// Engagement figures (issue 13): how the Users tab shows them.
import { formatPercent } from "./format";

/** A stickiness fraction (DAU / MAU, 0..1) as a percent: 0.1234 → "12.3%". */
export function formatStickiness(f: number | null | undefined): string {
  return f == null ? "—" : formatPercent(f * 100);
}
