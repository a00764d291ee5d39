// Shared test helpers: the server's address, sign-in, and the API figures
// the page must show.
import { test as base, expect, type APIRequestContext, type Page } from "@playwright/test";
import type { AccountName, Accounts, Secrets } from "./accounts";
import { formatCents, formatInt, formatMinutes, formatPercent, formatUSD } from "../src/lib/format";
import type { CostBreakdown, DashboardMetrics, UserGrowth } from "../src/lib/types";

export { expect };

export function accounts(): Accounts {
  const raw = process.env.E2E_ACCOUNTS;
  if (!raw) throw new Error("E2E_ACCOUNTS is not set: run through `npm run test:e2e` (global-setup starts the server)");
  return JSON.parse(raw) as Accounts;
}

export function secrets(): Secrets {
  const raw = process.env.E2E_SECRETS;
  if (!raw) throw new Error("E2E_SECRETS is not set: run through `npm run test:e2e` (global-setup creates the keys)");
  return JSON.parse(raw) as Secrets;
}

export const test = base.extend<{ pageHealth: void }>({
  baseURL: async ({}, use) => {
    const url = process.env.E2E_BASE_URL;
    if (!url) throw new Error("E2E_BASE_URL is not set: global-setup did not start the server");
    await use(url);
  },
  // Every test also fails on an uncaught page error or a Content-Security-Policy
  // violation (the server forbids inline scripts).
  pageHealth: [
    async ({ page }, use) => {
      const problems: string[] = [];
      page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
      page.on("console", (m) => {
        if (m.type() === "error" && /Content Security Policy|Refused to/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
      });
      await use();
      expect(problems).toEqual([]);
    },
    { auto: true },
  ],
});

/** Signs in through the login page and waits for the dashboard. */
export async function login(page: Page, who: AccountName, next?: string) {
  const a = accounts()[who];
  await page.goto(next ? `/login?next=${encodeURIComponent(next)}` : "/login");
  await page.getByLabel("Email").fill(a.email);
  await page.getByLabel("Password").fill(a.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/admin\/analytics/);
  return a;
}

/** A day as YYYY-MM-DD in UTC, `back` days before today. */
export function utcDay(back = 0): string {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() - back);
  return d.toISOString().slice(0, 10);
}

export interface Range {
  start: string;
  end: string;
}

export async function apiJSON<T>(request: APIRequestContext, path: string, r: Range): Promise<T> {
  const res = await request.get(`${path}?start_date=${r.start}&end_date=${r.end}`);
  expect(res.status(), `${path} status`).toBe(200);
  return (await res.json()) as T;
}

export interface ApiFigures {
  dashboard: DashboardMetrics;
  costs: CostBreakdown;
  growth: UserGrowth;
}

export async function apiFigures(request: APIRequestContext, r: Range): Promise<ApiFigures> {
  const [dashboard, costs, growth] = await Promise.all([
    apiJSON<DashboardMetrics>(request, "/admin/analytics/dashboard", r),
    apiJSON<CostBreakdown>(request, "/admin/analytics/costs", r),
    apiJSON<UserGrowth>(request, "/admin/analytics/users/growth", r),
  ]);
  return { dashboard, costs, growth };
}

/** Reads "$12,345.67" / "1,234" / "+12.3%" back into a number. */
export function parseFigure(s: string): number {
  const m = /-?[\d,]*\.?\d+/.exec(s.replace(/\u2212/g, "-"));
  if (!m) throw new Error(`no number in ${JSON.stringify(s)}`);
  return Number(m[0].replace(/,/g, ""));
}

/**
 * The KPI cards show exactly the API's figures for the range: as the
 * formatter renders them, and numerically within the shown precision.
 */
export async function expectKpisMatch(page: Page, f: ApiFigures) {
  const t = f.dashboard.totals;
  const v = (id: string) => page.getByTestId(`kpi-${id}-value`);
  await expect(v("new-users")).toHaveText(formatInt(t.new_users));
  await expect(v("stories")).toHaveText(formatInt(t.stories_created));
  await expect(v("cost")).toHaveText(formatCents(t.total_cost_cents));
  await expect(v("revenue")).toHaveText(formatCents(t.revenue_cents));
  await expect(page.getByTestId("kpi-new-users-sub")).toHaveText(formatPercent(f.growth.growth_rate, { signed: true }));
  await expect(page.getByTestId("kpi-stories-sub")).toHaveText(`${formatMinutes(t.total_audio_minutes)} audio`);
  await expect(page.getByTestId("kpi-cost-sub")).toContainText(`${formatUSD(f.costs.breakdown.anthropic.cost_dollars)} Anthropic`);
  await expect(page.getByTestId("kpi-revenue-sub")).toHaveText(formatPercent(t.profit_margin));

  // Independently of the formatter: the numbers read back off the page.
  expect(parseFigure(await v("new-users").innerText())).toBe(t.new_users);
  expect(parseFigure(await v("stories").innerText())).toBe(t.stories_created);
  expect(Math.abs(parseFigure(await v("cost").innerText()) - t.total_cost_cents / 100)).toBeLessThan(0.005);
  expect(Math.abs(parseFigure(await v("revenue").innerText()) - t.revenue_cents / 100)).toBeLessThan(0.005);
}
