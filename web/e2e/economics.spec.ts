// Unit economics on the Users tab (issue 13): the P&L table, the story costs
// and the cohort heatmap show exactly what GET /admin/analytics/users/economics,
// /stories and /cohorts answer for the same range (read with the page's own
// session), paging follows the API's cursor, the export menu writes the
// chosen table, and it all stays readable at 375 px.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { APIRequestContext, Locator } from "@playwright/test";
import { formatCents, formatInt } from "../src/lib/format";
import { formatRetention, retentionPct } from "../src/lib/economics";
import { ECONOMICS_PAGE_SIZE, TOP_STORIES_LIMIT } from "../src/lib/queries";
import type { Cohorts, Economics, StoryCosts } from "../src/lib/types";
import { expect, login, parseFigure, test, utcDay, type Range } from "./fixtures";

const shots = join(import.meta.dirname, "..", "test-results");

async function api<T>(request: APIRequestContext, path: string, r: Range, params: Record<string, string | number> = {}): Promise<T> {
  const q = new URLSearchParams({ start_date: r.start, end_date: r.end });
  for (const [k, v] of Object.entries(params)) q.set(k, String(v));
  const res = await request.get(`${path}?${q}`);
  expect(res.status(), `${path} status: ${await res.text().catch(() => "")}`).toBe(200);
  return (await res.json()) as T;
}

/** "-$1,234.56" → -1234.56 (parseFigure alone does not see the sign before the "$"). */
function parseMoney(s: string): number {
  return parseFigure(s.replace("$", ""));
}

/** The money shown equals the API's cents within the shown precision. */
async function expectMoney(el: Locator, cents: number) {
  await expect(el).toHaveText(formatCents(cents));
  expect(Math.abs(parseMoney(await el.innerText()) - cents / 100)).toBeLessThan(0.005);
}

async function pageUsers(table: Locator): Promise<string[]> {
  return table.getByTestId("economics-row").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-user") ?? ""));
}

test("the P&L table shows the API's summary and rows, and pages with its cursor without repeats", async ({ page }) => {
  await login(page, "economics");
  const r: Range = { start: utcDay(30), end: utcDay(1) };
  const calls: string[] = [];
  page.on("request", (req) => {
    const u = new URL(req.url());
    if (u.pathname === "/admin/analytics/users/economics") calls.push(u.search);
  });
  await page.goto(`/admin/analytics?tab=users&start=${r.start}&end=${r.end}`);

  const first = await api<Economics>(page.request, "/admin/analytics/users/economics", r, {
    sort_by: "margin",
    order: "asc",
    limit: ECONOMICS_PAGE_SIZE,
  });
  // The API's own contract, so a wrong table cannot agree with a wrong API.
  expect(first.summary.users, "demo data fills more than one page").toBeGreaterThan(ECONOMICS_PAGE_SIZE);
  expect(first.users).toHaveLength(ECONOMICS_PAGE_SIZE);
  expect(first.next_cursor).toBeTruthy();
  for (let i = 1; i < first.users.length; i++) expect(first.users[i - 1].margin_cents).toBeLessThanOrEqual(first.users[i].margin_cents);
  for (const u of first.users) expect(u.margin_cents).toBeCloseTo(u.revenue_cents - u.cost_cents, 3);
  expect(first.summary.margin_cents).toBeCloseTo(first.summary.revenue_cents - first.summary.cost_cents, 3);

  const card = page.getByTestId("economics-card");
  const table = card.getByTestId("economics-table");
  await expect(table).toHaveAttribute("data-page", "1");

  // The summary cards.
  await expect(card.getByTestId("economics-users")).toHaveText(formatInt(first.summary.users));
  expect(parseFigure(await card.getByTestId("economics-users").innerText())).toBe(first.summary.users);
  await expect(card.getByTestId("economics-paying")).toHaveText(formatInt(first.summary.paying_users));
  await expect(card.getByTestId("economics-losing")).toHaveText(formatInt(first.summary.users_losing_money));
  await expectMoney(card.getByTestId("economics-loss"), first.summary.loss_cents);
  await expectMoney(card.getByTestId("economics-revenue"), first.summary.revenue_cents);
  await expectMoney(card.getByTestId("economics-cost"), first.summary.cost_cents);
  await expectMoney(card.getByTestId("economics-margin"), first.summary.margin_cents);

  // The rows: the API's users in the API's order, each margin as the API says, the bar's sign with it.
  await expect.poll(() => pageUsers(table)).toEqual(first.users.map((u) => u.user_id));
  const rows = table.getByTestId("economics-row");
  for (const i of [0, 1, first.users.length - 1]) {
    const u = first.users[i];
    const row = rows.nth(i);
    await expectMoney(row.getByTestId("economics-row-margin"), u.margin_cents);
    await expectMoney(row.getByTestId("economics-row-revenue"), u.revenue_cents);
    await expectMoney(row.getByTestId("economics-row-cost"), u.cost_cents);
    await expect(row.getByTestId("economics-row-stories")).toHaveText(formatInt(u.stories));
    await expect(row.getByTestId("margin-bar")).toHaveAttribute(
      "data-sign",
      u.margin_cents < 0 ? "negative" : u.margin_cents > 0 ? "positive" : "zero",
    );
  }

  // Page 2: what the API gives for next_cursor, none of page 1's users.
  const second = await api<Economics>(page.request, "/admin/analytics/users/economics", r, {
    sort_by: "margin",
    order: "asc",
    limit: ECONOMICS_PAGE_SIZE,
    cursor: first.next_cursor!,
  });
  await card.getByTestId("economics-next").click();
  await expect(table).toHaveAttribute("data-page", "2");
  const shown2 = await pageUsers(table);
  expect(shown2).toEqual(second.users.map((u) => u.user_id));
  expect(shown2.length).toBeGreaterThan(0);
  expect(shown2.filter((id) => first.users.some((u) => u.user_id === id)), "no user on both pages").toEqual([]);
  expect(new Set(shown2).size).toBe(shown2.length);
  await expectMoney(rows.first().getByTestId("economics-row-margin"), second.users[0].margin_cents);
  expect(second.users[0].margin_cents).toBeGreaterThanOrEqual(first.users[first.users.length - 1].margin_cents);
  await expect(card.getByTestId("economics-page-status")).toHaveText(
    `Page 2: users ${ECONOMICS_PAGE_SIZE + 1}–${ECONOMICS_PAGE_SIZE + second.users.length} of ${formatInt(first.summary.users)}`,
  );

  // Previous: page 1 again, from the cache.
  await card.getByTestId("economics-prev").click();
  await expect(table).toHaveAttribute("data-page", "1");
  await expect.poll(() => pageUsers(table)).toEqual(first.users.map((u) => u.user_id));

  // Sorting by cost: the biggest spenders first, as the API sorts them.
  const byCost = await api<Economics>(page.request, "/admin/analytics/users/economics", r, {
    sort_by: "cost",
    order: "desc",
    limit: ECONOMICS_PAGE_SIZE,
  });
  await card.getByTestId("economics-sort-cost").click();
  await expect(card.getByTestId("economics-sort-cost").locator("xpath=ancestor::th")).toHaveAttribute("aria-sort", "descending");
  await expect.poll(() => pageUsers(table)).toEqual(byCost.users.map((u) => u.user_id));
  await expectMoney(rows.first().getByTestId("economics-row-cost"), byCost.users[0].cost_cents);

  expect(calls.map((c) => new URLSearchParams(c).get("cursor") ?? "")).toEqual(["", first.next_cursor, ""]);
  expect(calls.every((c) => c.includes(`start_date=${r.start}&end_date=${r.end}`))).toBe(true);
});

test("story costs and the cohort heatmap show the API's figures; the Users tab fits 375 px", async ({ page }) => {
  await login(page, "storycosts");
  const r: Range = { start: utcDay(30), end: utcDay(1) };
  await page.goto(`/admin/analytics?tab=users&start=${r.start}&end=${r.end}`);

  const s = await api<StoryCosts>(page.request, "/admin/analytics/stories", r, { limit: TOP_STORIES_LIMIT });
  expect(s.stories, "demo data has stories in the range").toBeGreaterThan(0);
  expect(s.completed + s.failed + s.in_progress).toBe(s.stories);
  expect(s.top.length).toBe(Math.min(TOP_STORIES_LIMIT, s.stories));

  const stories = page.getByTestId("stories-card");
  await expect(stories.getByTestId("stories-total")).toHaveText(formatInt(s.stories));
  expect(parseFigure(await stories.getByTestId("stories-total").innerText())).toBe(s.stories);
  await expect(stories.getByTestId("stories-completed")).toContainText(formatInt(s.completed));
  await expect(stories.getByTestId("stories-failed")).toContainText(formatInt(s.failed));
  await expect(stories.getByTestId("stories-in-progress")).toHaveText(formatInt(s.in_progress));
  await expectMoney(stories.getByTestId("stories-cost"), s.cost_cents);
  await expect(stories.getByTestId("stories-failed-cost")).toHaveText(formatCents(s.failed_cost_cents));
  await expect(stories.getByTestId("stories-per-minute")).toHaveText(formatCents(s.cost_per_audio_minute_cents));
  const d = s.cost_per_completed_story_cents;
  for (const [id, v] of [["mean", d.mean], ["p50", d.p50], ["p90", d.p90], ["p99", d.p99], ["max", d.max]] as const) {
    await expect(stories.getByTestId(`stories-${id}`)).toHaveText(formatCents(v));
  }
  // The top stories: the API's, most expensive first, the first one's cost exact to the shown cent.
  const top = stories.getByTestId("stories-top-row");
  await expect(top).toHaveCount(s.top.length);
  expect(await top.evaluateAll((rows) => rows.map((x) => x.getAttribute("data-story")))).toEqual(s.top.map((x) => x.story_id));
  await expectMoney(top.first().getByTestId("stories-top-cost"), s.top[0].cost_cents);
  if (s.completed > 0) {
    // At most 20 contiguous buckets (log-scale widths on the real server) holding every completed story.
    expect(s.histogram.length).toBeGreaterThan(0);
    expect(s.histogram.length).toBeLessThanOrEqual(20);
    for (let i = 1; i < s.histogram.length; i++) expect(s.histogram[i].from_cents).toBe(s.histogram[i - 1].to_cents);
    expect(s.histogram.reduce((n, b) => n + b.stories, 0)).toBe(s.completed);
    expect(s.histogram[0].from_cents).toBeLessThanOrEqual(d.p50!);
    expect(s.histogram[s.histogram.length - 1].to_cents).toBeGreaterThan(d.max!);
    expect(await stories.getByTestId("stories-histogram").getAttribute("aria-label")).toContain(
      `${formatInt(s.completed)} completed stories in ${s.histogram.length} buckets from ${formatCents(s.histogram[0].from_cents)} ` +
        `to ${formatCents(s.histogram[s.histogram.length - 1].to_cents)};`,
    );
    await expect(stories.locator(".recharts-bar-rectangle").first()).toBeVisible();
  }

  // Cohorts, weekly: each cell is retained[k] / size.
  const co = await api<Cohorts>(page.request, "/admin/analytics/cohorts", r, { period: "week" });
  expect(co.granularity).toBe("week");
  expect(co.cohorts.length, "demo data has weekly signup cohorts in 30 days").toBeGreaterThan(0);
  const heat = page.getByTestId("cohorts-card");
  const rows = heat.getByTestId("cohort-row");
  await expect(rows).toHaveCount(co.cohorts.length);
  const c0 = co.cohorts[0];
  expect(c0.retained).toHaveLength(co.cohorts.length);
  const row0 = rows.first();
  await expect(row0).toHaveAttribute("data-cohort", c0.cohort);
  await expect(row0.getByTestId("cohort-size")).toHaveText(formatInt(c0.size));
  const cells0 = row0.getByTestId("cohort-cell");
  await expect(cells0).toHaveText(c0.retained.map((n) => formatRetention(retentionPct(n, c0.size))));
  const k = Math.min(1, c0.retained.length - 1);
  const shownPct = parseFigure(await cells0.nth(k).innerText());
  expect(Math.abs(shownPct - (c0.retained[k] / c0.size) * 100)).toBeLessThanOrEqual(0.5);
  await expect(cells0.nth(k)).toHaveAttribute("title", `${formatInt(c0.retained[k])} of ${formatInt(c0.size)} users (${((c0.retained[k] / c0.size) * 100).toFixed(1)}%)`);
  // The lifetime figures for the first cohort alone.
  await heat.getByTestId("cohorts-curve-select").selectOption(c0.cohort);
  await expectMoney(heat.getByTestId("cohorts-ltv"), c0.revenue_cents[c0.revenue_cents.length - 1] / c0.size);
  await expectMoney(heat.getByTestId("cohorts-cts"), c0.cost_cents[c0.cost_cents.length - 1] / c0.size);
  await expect(heat.locator(".recharts-line")).toHaveCount(2);

  // Monthly.
  const months = await api<Cohorts>(page.request, "/admin/analytics/cohorts", r, { period: "month" });
  await heat.getByTestId("cohorts-month").click();
  if (months.cohorts.length === 0) {
    await expect(heat.getByTestId("cohorts-empty")).toBeVisible();
  } else {
    await expect(heat.locator("[data-granularity='month']")).toBeVisible();
    await expect(rows).toHaveCount(months.cohorts.length);
    const m0 = months.cohorts[0];
    await expect(rows.first().getByTestId("cohort-cell")).toHaveText(m0.retained.map((n) => formatRetention(retentionPct(n, m0.size))));
  }
  await heat.getByTestId("cohorts-week").click();
  await expect(rows).toHaveCount(co.cohorts.length);

  await page.screenshot({ path: join(shots, "desktop-users-economics.png"), fullPage: true });

  // 375 px: the page does not scroll sideways; wide tables scroll inside their own box.
  await page.setViewportSize({ width: 375, height: 812 });
  await expect(page.getByTestId("economics-table")).toBeVisible();
  await expect
    .poll(() => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth))
    .toBeLessThanOrEqual(0);
  for (const id of ["economics-card", "stories-card", "cohorts-card"]) {
    const box = await page.getByTestId(id).boundingBox();
    expect(box && box.x >= 0 && box.x + box.width <= 375, `${id} fits 375 px`).toBe(true);
  }
  for (const id of ["economics-table", "stories-top-table", "cohort-heatmap"]) {
    const scroller = page.getByTestId(id).locator("xpath=ancestor::div[contains(@class,'table-scroll')][1]");
    const box = await scroller.boundingBox();
    expect(box && box.x >= 0 && box.x + box.width <= 375, `${id}'s scroll box fits 375 px`).toBe(true);
  }
  // The P&L's key columns stay in view without scrolling: user, revenue, cost, margin.
  const marginCell = page.getByTestId("economics-row").first().getByTestId("economics-row-margin");
  const mb = await marginCell.boundingBox();
  expect(mb && mb.x + mb.width <= 375, "margin visible at 375 px").toBe(true);
  const chart = await page.getByTestId("stories-histogram").boundingBox();
  expect(chart && chart.width > 250 && chart.x + chart.width <= 375, "histogram fits 375 px").toBe(true);
  await page.getByTestId("economics-card").screenshot({ path: join(shots, "mobile-economics.png") });
  await page.getByTestId("stories-card").screenshot({ path: join(shots, "mobile-stories.png") });
  await page.getByTestId("cohorts-card").screenshot({ path: join(shots, "mobile-cohorts.png") });
});

test("the export menu writes the chosen table, as the API does", async ({ page }) => {
  await login(page, "econexport");
  const r: Range = { start: utcDay(20), end: utcDay(2) };
  await page.goto(`/admin/analytics?tab=users&start=${r.start}&end=${r.end}`);
  await expect(page.getByTestId("economics-table").or(page.getByText("No user had revenue or cost in this range."))).toBeVisible();

  await page.getByTestId("export-menu-toggle").click();
  await page.getByTestId("export-table-users").click();
  await expect(page.getByTestId("export-table-users")).toHaveAttribute("aria-checked", "true");
  const csvDownload = page.waitForEvent("download");
  await page.getByTestId("export-csv").click();
  const csv = await csvDownload;
  expect(csv.suggestedFilename()).toBe(`analytics_users_${r.start}_${r.end}.csv`);
  const file = await readFile(await csv.path(), "utf8");
  const apiCsv = await page.request.get(`/admin/analytics/export?start_date=${r.start}&end_date=${r.end}&format=csv&table=users`);
  expect(apiCsv.status()).toBe(200);
  expect(file).toBe(await apiCsv.text());
  expect(file.split("\n")[0]).toBe("user_id,email,revenue_cents,cost_cents,margin_cents,margin_pct,stories,cost_per_story_cents");

  await page.getByTestId("export-menu-toggle").click();
  await page.getByTestId("export-table-stories").click();
  const jsonDownload = page.waitForEvent("download");
  await page.getByRole("menuitem", { name: /JSON/ }).click();
  const json = JSON.parse(await readFile(await (await jsonDownload).path(), "utf8"));
  const apiJson = await page.request.get(`/admin/analytics/export?start_date=${r.start}&end_date=${r.end}&format=json&table=stories`);
  expect(json).toEqual(await apiJson.json());
  expect(json.table).toBe("stories");
});
