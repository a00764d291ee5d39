// Issue 10 E: the dashboard's "today" is the server's. The browser runs in
// Auckland with its clock set so that its local date is not the server's
// today; the default range, the presets and the calendar must still follow
// the server (GET /api/session: today, timezone).
import { accounts, expect, test } from "./fixtures";

test.use({ timezoneId: "Pacific/Auckland" });

/** YYYY-MM-DD minus n days, on the calendar (no zone involved). */
function minusDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - n);
  return d.toISOString().slice(0, 10);
}

/** The calendar day of an instant in a zone, YYYY-MM-DD. */
function dayIn(zone: string, t: Date): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(t);
}

test("the default range, presets and calendar follow the server's today, not an Auckland browser's", async ({ page }) => {
  const a = accounts().tz;
  const signIn = await page.request.post("/login", { data: { email: a.email, password: a.password } });
  expect(signIn.status()).toBe(200);
  const session = (await (await page.request.get("/api/session")).json()) as { today?: string; timezone?: string };
  expect(session.today, "GET /api/session must say today").toMatch(/^\d{4}-\d{2}-\d{2}$/);
  expect(session.timezone, "GET /api/session must name the zone").toBeTruthy();
  const today = session.today!;

  // Half past noon UTC on the server's today is already tomorrow in Auckland
  // (UTC+12 or +13), whatever the real time of day of this run.
  const browserNow = new Date(`${today}T12:30:00Z`);
  const browserDay = dayIn("Pacific/Auckland", browserNow);
  expect(browserDay).not.toBe(today);
  await page.clock.setFixedTime(browserNow);

  await page.goto("/admin/analytics");
  // The browser really is in Auckland, on the other day.
  expect(await page.evaluate(() => new Date().toLocaleDateString("en-CA"))).toBe(browserDay);

  // Default range: the server's last 30 days.
  await expect(page).toHaveURL(new RegExp(`[?&]start=${minusDays(today, 30)}&end=${today}(&|$)`));
  await expect(page.getByTestId("kpi-new-users-value")).toHaveText(/\d/);
  await expect(page.getByTestId("date-range-trigger")).toContainText("Last 30 days");

  // The header names the server's zone and its today.
  await expect(page.getByTestId("server-timezone")).toHaveText(session.timezone!);
  await expect(page.getByTestId("server-today")).toHaveAttribute("datetime", today);

  // The calendar highlights the server's today, and the browser's "today"
  // (the server's tomorrow) cannot be picked.
  await page.getByTestId("date-range-trigger").click();
  const dialog = page.getByRole("dialog", { name: "Choose date range" });
  await expect(dialog).toBeVisible();
  // A month's grid also holds the next month's first days as hidden,
  // empty cells (outside days), which carry the same marks: only visible
  // cells count.
  const todayCell = dialog.locator("[data-today]:not([data-hidden])");
  await expect(todayCell).toHaveCount(1);
  await expect(todayCell).toHaveAttribute("data-day", today);
  const tomorrow = dialog.locator(`[data-day="${browserDay}"]:not([data-hidden])`);
  if ((await tomorrow.count()) > 0) await expect(tomorrow).toHaveAttribute("data-disabled", "true");

  // A preset counts back from the server's today too.
  await dialog.getByRole("button", { name: "Last 7 days" }).click();
  await expect(page).toHaveURL(new RegExp(`[?&]start=${minusDays(today, 7)}&end=${today}(&|$)`));
  await expect(page.getByTestId("date-range-trigger")).toContainText("Last 7 days");
});
