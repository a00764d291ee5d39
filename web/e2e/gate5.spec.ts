// The seed's Gate 5, as written (after signing in: the dashboard needs a session).
import { expect, login, test } from "./fixtures";

test("analytics charts render with SDK data", async ({ page }) => {
  await login(page, "owner");
  await page.goto("/admin/analytics");

  // Wait for SDK response
  await page.waitForSelector(".recharts-wrapper");

  // Check KPI cards populated
  await expect(page.locator("text=New Users")).toBeVisible();
  await expect(page.locator("text=Total Cost")).toBeVisible();

  // Check charts rendered
  await expect(page.locator(".recharts-area")).toBeVisible();

  // Switch to costs tab
  await page.click('button:has-text("Costs")');
  await expect(page.locator(".recharts-pie")).toBeVisible();

  // Test export button (should trigger SDK export_analytics tool)
  const download = page.waitForEvent("download");
  await page.click('button:has-text("Export")');
  // Download should start
  expect((await download).suggestedFilename()).toMatch(/^analytics_\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}\.csv$/);
});
