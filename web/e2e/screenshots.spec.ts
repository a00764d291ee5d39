// Screenshots of every view, kept as artifacts in web/test-results/.
import { join } from "node:path";
import { expect, login, test } from "./fixtures";

const shots = join(import.meta.dirname, "..", "test-results");

test("screenshot of each tab (owner, desktop)", async ({ page }) => {
  await page.goto("/login");
  await page.screenshot({ path: join(shots, "login.png") });
  await login(page, "owner");
  await expect(page.locator(".recharts-area")).toBeVisible();
  await expect(page.getByTestId("kpi-cost-sub")).toBeVisible();
  await page.screenshot({ path: join(shots, "tab-usage.png"), fullPage: true });

  await page.getByRole("tab", { name: "Costs" }).click();
  await expect(page.getByTestId("model-table")).toBeVisible();
  await page.screenshot({ path: join(shots, "tab-costs.png"), fullPage: true });

  await page.getByRole("tab", { name: "Users" }).click();
  await expect(page.getByTestId("top-users-table")).toBeVisible();
  await expect(page.locator(".recharts-line").first()).toBeVisible();
  await page.screenshot({ path: join(shots, "tab-users.png"), fullPage: true });

  await page.getByRole("tab", { name: "Audit" }).click();
  await expect(page.getByTestId("audit-table")).toBeVisible();
  await page.screenshot({ path: join(shots, "tab-audit.png"), fullPage: true });

  await page.getByRole("tab", { name: "Ask" }).click();
  await expect(page.getByLabel("Question")).toBeVisible();
  await page.screenshot({ path: join(shots, "tab-ask.png"), fullPage: true });

  await page.getByRole("tab", { name: "Usage" }).click();
  await page.getByTestId("date-range-trigger").click();
  await expect(page.getByRole("dialog", { name: "Choose date range" })).toBeVisible();
  await page.screenshot({ path: join(shots, "date-picker.png") });
});

test("usable at 375 px wide: no sideways scrolling on any tab", async ({ page }) => {
  await page.setViewportSize({ width: 375, height: 812 });
  await login(page, "mobile");
  await expect(page.getByTestId("kpi-new-users-value")).toHaveText(/\d/);
  for (const tab of ["Usage", "Costs", "Users"]) {
    await page.getByRole("tab", { name: tab }).click();
    await expect(page.locator(".recharts-wrapper").first()).toBeVisible();
    await page.waitForTimeout(200);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width, `${tab} tab scroll width`).toBeLessThanOrEqual(375);
    await page.screenshot({ path: join(shots, `mobile-${tab.toLowerCase()}.png`), fullPage: true });
  }
  await page.getByRole("tab", { name: "Usage" }).click();
  await page.getByTestId("date-range-trigger").click();
  const dialog = page.getByRole("dialog", { name: "Choose date range" });
  await expect(dialog).toBeVisible();
  const box = await dialog.boundingBox();
  expect(box && box.x >= 0 && box.x + box.width <= 375).toBe(true);
  await page.screenshot({ path: join(shots, "mobile-date-picker.png") });
});
