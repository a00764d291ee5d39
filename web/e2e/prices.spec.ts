// Issue 10 C: a late price reaches the numbers. An api_call to a model no
// catalog knows is ingested (counted at $0, flagged); an owner follows the
// warning to the Prices page, enters the price, previews and applies a
// reprice, and the dashboard's figures then include the call's exact cost.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { formatCents } from "../src/lib/format";
import type { CostBreakdown, DashboardMetrics, PriceCatalog, RepriceResult } from "../src/lib/types";
import { apiJSON, expect, login, secrets, test, utcDay } from "./fixtures";

// 1,234,567 input tokens at $3.00/MTok + 54,321 output tokens at $15.00/MTok
// = $3.703701 + $0.814815 = $4.518516 = 451.8516 cents, exactly.
const INPUT_TOKENS = 1_234_567;
const OUTPUT_TOKENS = 54_321;
const RATES = { Input: "3.00", Output: "15.00", "Cache write (5 min)": "3.75", "Cache write (1 h)": "6.00", "Cache read": "0.30" };
const EXPECTED_CENTS = 451.8516;

const shots = join(import.meta.dirname, "..", "test-results");

test("unpriced warning → Prices page → price → dry run → reprice → the cost is in the figures", async ({ page }) => {
  // A week long before the demo data (90 days), so this call is the range's only one.
  const range = { start: utcDay(203), end: utcDay(197) };
  const model = `claude-e2e-${randomBytes(4).toString("hex")}`;
  const ingest = await page.request.post("/v1/events", {
    headers: { Authorization: `Bearer ${secrets().ingestKey}` },
    data: {
      events: [
        {
          id: `e2e-unpriced-${model}`,
          type: "api_call",
          timestamp: `${utcDay(200)}T12:00:00Z`,
          service: "anthropic",
          operation: "chapter",
          model,
          input_tokens: INPUT_TOKENS,
          output_tokens: OUTPUT_TOKENS,
          status: "ok",
        },
      ],
    },
  });
  expect(ingest.status()).toBe(200);
  expect(await ingest.json()).toMatchObject({ accepted: 1, rejected: [] });

  await login(page, "pricer");
  const before = await apiJSON<DashboardMetrics>(page.request, "/admin/analytics/dashboard", range);
  expect(before.totals.unpriced_calls).toBe(1);
  expect(before.totals.total_cost_cents).toBe(0);

  // The warning, and the way to the Prices page with the model filled in.
  await page.goto(`/admin/analytics?start=${range.start}&end=${range.end}`);
  const warning = page.getByTestId("unpriced-warning");
  await expect(warning).toContainText("1 API call used unpriced models");
  await expect(warning).toContainText(model);
  await expect(page.getByTestId("kpi-cost-value")).toHaveText(formatCents(0));
  await warning.getByRole("button", { name: `Add a price for ${model} (Anthropic)` }).click();

  await expect(page).toHaveURL(/[?&]page=prices(&|$)/);
  await expect(page.getByRole("heading", { level: 1, name: "Prices" })).toBeVisible();
  const unpricedList = page.getByTestId("prices-unpriced");
  await expect(unpricedList.locator(`li[data-model="${model}"]`)).toContainText("1 call");
  const form = page.getByTestId("price-form");
  await expect(form.getByLabel("Service")).toHaveValue("anthropic");
  await expect(form.getByLabel("Model", { exact: true })).toHaveValue(model);
  await expect(form.getByLabel("Effective from")).toHaveValue(range.start);

  // A missing rate is refused here, before any request.
  await form.getByTestId("price-submit").click();
  await expect(form.getByText("Enter the input rate")).toBeVisible();

  for (const [label, value] of Object.entries(RATES)) await form.getByLabel(new RegExp(`^${label.replace(/[()]/g, "\\$&")}`)).fill(value);
  const saved = page.waitForResponse((r) => r.url().endsWith("/admin/prices") && r.request().method() === "POST");
  await form.getByTestId("price-submit").click();
  const savedRes = await saved;
  expect(savedRes.status()).toBe(200);
  expect(await savedRes.json()).toMatchObject({ added: 1, replaced: 0 });
  await expect(page.getByTestId("price-saved")).toContainText(`Added the price of ${model} from ${range.start}`);

  // The catalog lists it as a database entry.
  const row = page.getByTestId("price-table").locator(`tr[data-model="${model}"]`);
  await expect(row).toHaveAttribute("data-source", "database");
  await expect(row.getByTestId("price-source")).toHaveText("Database");
  await expect(row).toContainText("$3.00 / MTok");
  const catalog = (await (await page.request.get("/admin/prices")).json()) as PriceCatalog;
  expect(catalog.entries.find((e) => e.model === model)).toMatchObject({
    service: "anthropic",
    effective_from: range.start,
    source: "database",
    rates: { input: "3.00", output: "15.00", cache_write_5m: "3.75", cache_write_1h: "6.00", cache_read: "0.30" },
  });

  // Reprice: the scope comes from the warning's range and model. Dry run first.
  const reprice = page.getByTestId("reprice-form");
  await expect(reprice.getByLabel(/^Since/)).toHaveValue(range.start);
  await expect(reprice.getByLabel(/^Until/)).toHaveValue(range.end);
  await expect(reprice.getByLabel(/^Model/)).toHaveValue(model);
  await expect(page.getByTestId("reprice-apply")).toBeDisabled();
  const dry = page.waitForResponse((r) => r.url().endsWith("/admin/prices/reprice"));
  await page.getByTestId("reprice-preview-button").click();
  const dryRes = await dry;
  expect(dryRes.status()).toBe(200);
  expect(JSON.parse(dryRes.request().postData() ?? "{}")).toEqual({ dry_run: true, since: range.start, until: range.end, model });
  const dryBody = (await dryRes.json()) as RepriceResult;
  expect(dryBody).toMatchObject({ dry_run: true, calls_repriced: 1, unpriced_before: 1, unpriced_after: 0, new_cost_cents: EXPECTED_CENTS });
  const preview = page.getByTestId("reprice-preview");
  await expect(preview.getByTestId("reprice-new-cost")).toHaveText(formatCents(EXPECTED_CENTS));
  await expect(preview.locator(`tr[data-model="${model}"]`)).toContainText("1 → 0");
  await page.screenshot({ path: join(shots, "page-prices-preview.png"), fullPage: false });
  // A dry run changes nothing.
  const afterDry = await apiJSON<DashboardMetrics>(page.request, "/admin/analytics/dashboard", range);
  expect(afterDry.totals.unpriced_calls).toBe(1);
  expect(afterDry.totals.total_cost_cents).toBe(0);

  const apply = page.waitForResponse((r) => r.url().endsWith("/admin/prices/reprice"));
  await page.getByTestId("reprice-apply").click();
  const applyRes = await apply;
  expect(applyRes.status()).toBe(200);
  expect(JSON.parse(applyRes.request().postData() ?? "{}")).toEqual({ dry_run: false, since: range.start, until: range.end, model });
  expect(await applyRes.json()).toMatchObject({ dry_run: false, calls_repriced: 1, unpriced_after: 0, new_cost_cents: EXPECTED_CENTS });
  await expect(page.getByTestId("reprice-applied")).toBeVisible();
  await expect(unpricedList.locator(`li[data-model="${model}"]`)).toHaveCount(0);

  // Back on the dashboard: no warning, and the total cost is the call's cost.
  await page.getByTestId("nav-analytics").click();
  await expect(page).toHaveURL(new RegExp(`start=${range.start}&end=${range.end}`));
  await expect(page).not.toHaveURL(/page=prices/);
  const after = await apiJSON<DashboardMetrics>(page.request, "/admin/analytics/dashboard", range);
  expect(after.totals.unpriced_calls).toBe(0);
  expect(after.totals.total_cost_cents).toBe(EXPECTED_CENTS);
  await expect(page.getByTestId("kpi-cost-value")).toHaveText(formatCents(after.totals.total_cost_cents));
  await expect(page.getByTestId("kpi-cost-value")).toHaveText("$4.52");
  await expect(page.getByTestId("kpi-stories-value")).toHaveText(/\d/);
  await expect(page.getByTestId("unpriced-warning")).toHaveCount(0);

  // The cost breakdown says which price priced the call (provenance).
  const costs = await apiJSON<CostBreakdown>(page.request, "/admin/analytics/costs", range);
  const byModel = costs.by_model.find((m) => m.model === model);
  expect(byModel).toMatchObject({ calls: 1, unpriced_calls: 0, cost_cents: EXPECTED_CENTS });
  expect(byModel?.priced_by).toEqual([{ model, effective_from: range.start, source: "database" }]);
  await page.getByRole("tab", { name: "Costs" }).click();
  await expect(page.getByTestId("model-table").locator("tr", { hasText: model }).getByTestId("priced-by")).toHaveText(
    `Priced by database price from ${range.start}`,
  );

  // A database entry can be removed again (two clicks); built-in ones cannot.
  await page.getByTestId("nav-prices").click();
  const dbRow = page.getByTestId("price-table").locator(`tr[data-model="${model}"]`);
  await expect(page.getByTestId("price-table").locator('tr[data-source="built-in"]').first().getByRole("button", { name: /^Remove/ })).toHaveCount(0);
  await dbRow.getByRole("button", { name: `Remove the price of ${model} from ${range.start}` }).click();
  const removed = page.waitForResponse((r) => r.request().method() === "DELETE" && r.url().includes("/admin/prices?"));
  await dbRow.getByTestId("price-remove-confirm").click();
  const removedRes = await removed;
  expect(removedRes.status()).toBe(200);
  expect(await removedRes.json()).toMatchObject({ removed: 1 });
  await expect(dbRow).toHaveCount(0);
  const catalogAfter = (await (await page.request.get("/admin/prices")).json()) as PriceCatalog;
  expect(catalogAfter.entries.some((e) => e.model === model)).toBe(false);
});

test("a non-owner sees the catalog and who to ask, but no way to change prices", async ({ page }) => {
  await login(page, "pricewatch");
  await page.getByTestId("nav-prices").click();
  await expect(page.getByTestId("price-table").locator("tbody tr").first()).toBeVisible();
  await expect(page.getByTestId("price-table").locator('tr[data-source="built-in"]').first()).toBeVisible();
  await expect(page.getByTestId("price-form")).toHaveCount(0);
  await expect(page.getByTestId("reprice-form")).toHaveCount(0);
  await expect(page.getByRole("button", { name: /^Remove the price/ })).toHaveCount(0);
  // The demo data has a model no catalog prices: the list says who can fix it.
  await expect(page.getByTestId("prices-unpriced")).toContainText("ask an owner");
  await expect(page.getByTestId("nav-admins")).toHaveCount(0);
  await page.screenshot({ path: join(shots, "page-prices.png"), fullPage: true });

  // Readable at 375 px: the catalog scrolls inside its card, the page does not.
  await page.setViewportSize({ width: 375, height: 812 });
  await expect(page.getByTestId("price-table")).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
  await page.screenshot({ path: join(shots, "mobile-prices.png"), fullPage: true });

  // And the API agrees, with a valid CSRF token.
  const { csrf_token } = (await (await page.request.get("/api/session")).json()) as { csrf_token: string };
  const res = await page.request.post("/admin/prices", {
    headers: { "X-CSRF-Token": csrf_token },
    data: { entries: [{ service: "elevenlabs", model: "e2e-not-allowed", effective_from: utcDay(0), rates: { characters: "1.00" } }] },
  });
  expect(res.status()).toBe(403);
});
