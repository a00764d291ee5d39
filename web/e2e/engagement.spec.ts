// The engagement chart on the Users tab (issue 13) shows exactly what
// GET /admin/analytics/engagement answers for the same range, asks for it
// once per view, and stays readable at 375 px.
import { join } from "node:path";
import { formatInt } from "../src/lib/format";
import { formatStickiness } from "../src/lib/engagement";
import type { Engagement } from "../src/lib/types";
import { apiJSON, expect, login, parseFigure, test, utcDay } from "./fixtures";

const shots = join(import.meta.dirname, "..", "test-results");

/** "2026-11-09" → "Nov 9", as the table shows a day. */
function shortDay(day: string): string {
  return new Date(`${day}T00:00:00Z`).toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" });
}

test("the engagement chart's figures equal GET /admin/analytics/engagement for the range; one call; 375 px", async ({ page }) => {
  await login(page, "engagement");
  const r = { start: utcDay(20), end: utcDay(1) };
  const calls: string[] = [];
  page.on("request", (req) => {
    if (new URL(req.url()).pathname === "/admin/analytics/engagement") calls.push(req.url());
  });
  await page.goto(`/admin/analytics?tab=users&start=${r.start}&end=${r.end}`);

  const api = await apiJSON<Engagement>(page.request, "/admin/analytics/engagement", r);
  // The API's own contract, so a wrong chart cannot agree with a wrong API.
  expect(api.daily.map((d) => d.date)).toHaveLength(20);
  expect(api.daily[0].date).toBe(r.start);
  expect(api.daily[19].date).toBe(r.end);
  expect(api.daily.some((d) => d.dau > 0), "demo data has active users in the range").toBe(true);
  for (const d of api.daily) {
    expect(d.dau).toBeLessThanOrEqual(d.wau);
    expect(d.wau).toBeLessThanOrEqual(d.mau);
    expect(d.stickiness).toBeCloseTo(d.mau ? d.dau / d.mau : 0, 3);
  }
  const mean = api.daily.reduce((s, d) => s + d.stickiness, 0) / api.daily.length;
  expect(api.average_stickiness).toBeCloseTo(mean, 3);

  // The figures on the page.
  const card = page.getByTestId("engagement-card");
  await expect(card.getByTestId("engagement-avg-stickiness")).toHaveText(formatStickiness(api.average_stickiness));
  const last = api.daily[api.daily.length - 1];
  await expect(card.getByTestId("engagement-last-dau")).toHaveText(formatInt(last.dau));
  await expect(card.getByTestId("engagement-last-wau")).toHaveText(formatInt(last.wau));
  await expect(card.getByTestId("engagement-last-mau")).toHaveText(formatInt(last.mau));
  const avgShown = parseFigure(await card.getByTestId("engagement-avg-stickiness").innerText());
  expect(Math.abs(avgShown - api.average_stickiness * 100)).toBeLessThanOrEqual(0.05);

  // The charts are drawn, with accessible names that carry the figures.
  await expect(card.locator(".recharts-line")).toHaveCount(3);
  await expect(card.locator(".recharts-area")).toHaveCount(1);
  await expect(card.getByRole("img", { name: /Daily, weekly and monthly active users/ })).toHaveAttribute(
    "aria-label",
    new RegExp(`DAU ${formatInt(last.dau)}, WAU ${formatInt(last.wau)}, MAU ${formatInt(last.mau)}`),
  );

  // Every day of the table, read back off the page.
  await card.getByText("Daily figures").click();
  const rows = card.getByTestId("engagement-row");
  await expect(rows).toHaveCount(api.daily.length);
  for (let i = 0; i < api.daily.length; i++) {
    const d = api.daily[i];
    await expect(rows.nth(i)).toHaveAttribute("data-date", d.date);
    await expect(rows.nth(i).locator("time")).toHaveAttribute("datetime", d.date);
    const cells = rows.nth(i).locator("th, td");
    await expect(cells).toHaveText([shortDay(d.date), formatInt(d.dau), formatInt(d.wau), formatInt(d.mau), formatStickiness(d.stickiness)]);
    const shown = (await cells.allInnerTexts()).slice(1).map(parseFigure);
    expect(shown.slice(0, 3)).toEqual([d.dau, d.wau, d.mau]);
    expect(Math.abs(shown[3] - d.stickiness * 100)).toBeLessThanOrEqual(0.05);
  }

  // One engagement call for this view.
  expect(calls).toHaveLength(1);
  expect(calls[0]).toContain(`start_date=${r.start}&end_date=${r.end}`);

  // Readable at 375 px: no sideways scrolling, both charts in view width.
  await page.setViewportSize({ width: 375, height: 812 });
  await expect(card.locator(".recharts-wrapper")).toHaveCount(2);
  await expect
    .poll(() => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth))
    .toBeLessThanOrEqual(0);
  for (const chart of ["engagement-users-chart", "engagement-stickiness-chart"]) {
    const box = await card.getByTestId(chart).boundingBox();
    expect(box && box.x >= 0 && box.x + box.width <= 375 && box.width > 250, `${chart} fits 375 px`).toBe(true);
  }
  // The open table fits too (no scrolling inside its box).
  const table = card.getByTestId("engagement-details").locator(".table-scroll");
  expect(await table.evaluate((el) => el.scrollWidth - el.clientWidth)).toBeLessThanOrEqual(0);
  await card.screenshot({ path: join(shots, "mobile-engagement.png") });
  expect(calls, "resizing asks again").toHaveLength(1);
});
