// Issue 12, the dashboard side: an owner creates a budget on the Budgets
// page, API calls ingested with an ingest key push its spend over 50, 80 and
// 100%, and the page's progress, percent, forecast, fired thresholds and
// alert rows are exactly what GET /admin/budgets/{id}/status and
// /admin/alerts say. The webhook goes to a receiver on 127.0.0.1 (serve runs
// with --allow-private-webhooks) and each message verifies with the secret
// the page showed once. A viewer reads the page without edit controls.
// Anomalies are marked on the Costs tab's daily chart.
import { createHmac, randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { join } from "node:path";
import { request as playwrightRequest, type APIRequestContext, type Page } from "@playwright/test";
import type { AccountName } from "./accounts";
import { accounts, expect, login, secrets, test, utcDay } from "./fixtures";
import { formatPercent, formatUSD } from "../src/lib/format";
import type { AnomalyList, Budget, BudgetAlert, BudgetStatus } from "../src/lib/types";

const shots = join(import.meta.dirname, "..", "test-results");

/** An API session of its own (each admin has its own 30 calls a minute), with the CSRF token for changes. */
async function apiAs(baseURL: string, who: AccountName): Promise<{ req: APIRequestContext; csrf: string }> {
  const a = accounts()[who];
  const req = await playwrightRequest.newContext({ baseURL });
  const res = await req.post("/login", { data: { email: a.email, password: a.password } });
  expect(res.status(), `sign-in of ${who}`).toBe(200);
  const session = (await (await req.get("/api/session")).json()) as { csrf_token: string };
  return { req, csrf: session.csrf_token };
}

async function getJSON<T>(req: APIRequestContext, path: string): Promise<T> {
  const res = await req.get(path);
  expect(res.status(), `GET ${path}`).toBe(200);
  return (await res.json()) as T;
}

/** Polls fn every second (the API allows 30 calls a minute) until it returns a value, or fails after the deadline. */
async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver on 127.0.0.1 that answers `status()` (200 unless changed) and keeps what it got. */
async function receiver(status: () => number = () => 200): Promise<{ url: string; got: Received[]; server: Server }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      got.push({ headers: req.headers, body });
      res.writeHead(status()).end("ok");
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const a = server.address();
  const port = typeof a === "object" && a ? a.port : 0;
  return { url: `http://127.0.0.1:${port}/hook`, got, server };
}

/** Standard Webhooks: v1,base64(HMAC-SHA256(key, id.timestamp.body)), key = base64 of the secret after whsec_. */
function signature(secret: string, id: string, ts: string, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  return `v1,${createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest("base64")}`;
}

async function ingest(page: Page, events: object[]) {
  const res = await page.request.post("/v1/events", { headers: { Authorization: `Bearer ${secrets().ingestKey}` }, data: { events } });
  expect(res.status()).toBe(200);
  expect(await res.json()).toMatchObject({ accepted: events.length, rejected: [] });
}

function call(id: string, user: string, cents: number, timestamp = new Date(Date.now() - 60_000).toISOString()) {
  return { id, type: "api_call", timestamp, user_id: user, service: "anthropic", operation: "chapter", model: "claude-sonnet-4-5", cost_cents: cents };
}

/** The budget card shows exactly the status the API gives. */
async function expectCardMatches(page: Page, id: number, st: BudgetStatus) {
  const card = page.locator(`[data-testid="budget-card"][data-budget-id="${id}"]`);
  await expect(card.getByTestId("budget-percent")).toHaveText(formatPercent(st.percent));
  await expect(card.getByTestId("budget-spend")).toHaveText(formatUSD(Number(st.spend_dollars)));
  await expect(card.getByTestId("budget-amount")).toHaveText(formatUSD(Number(st.budget.amount_dollars)));
  await expect(card.getByTestId("budget-remaining")).toHaveText(formatUSD(Number(st.remaining_dollars)));
  await expect(card.getByTestId("budget-forecast")).toHaveText(formatUSD(Number(st.forecast_dollars)));
  await expect(card.getByTestId("budget-projected")).toHaveAttribute("data-date", st.projected_date ?? "");
  await expect(card.getByRole("progressbar")).toHaveAttribute("aria-valuenow", String(Math.min(st.percent, 100)));
  for (const t of st.budget.thresholds) {
    await expect(card.getByTestId(`budget-threshold-${t}`)).toHaveAttribute("data-fired", String(st.thresholds_fired.includes(t)));
  }
}

/**
 * The alert history shows exactly the API's alerts of the budget, with each
 * delivery's state and attempts. Rows are matched by budget id and name: on
 * SQLite a deleted budget's id is given to the next one (see the report), and
 * the deleted budget's alerts stay in the history under that id.
 */
async function expectAlertsMatch(page: Page, id: number, alerts: BudgetAlert[], name = alerts[0]?.budget_name ?? "") {
  const rows = page.locator(`[data-testid="alert-row"][data-budget-id="${id}"][data-budget-name="${name}"]`);
  await expect(rows).toHaveCount(alerts.length);
  for (const a of alerts) {
    const row = page.locator(`[data-testid="alert-row"][data-alert-id="${a.id}"]`);
    await expect(row).toHaveAttribute("data-threshold", String(a.threshold_percent));
    const ds = a.deliveries ?? [];
    await expect(row.getByTestId("alert-delivery")).toHaveCount(ds.length);
    for (const [i, d] of ds.entries()) {
      const line = row.getByTestId("alert-delivery").nth(i);
      await expect(line).toHaveAttribute("data-state", d.state);
      await expect(line).toHaveAttribute("data-attempts", String(d.attempts));
      await expect(line.getByTestId("delivery-state")).toHaveText(d.state);
    }
  }
}

test("an owner creates a budget; spend crosses 50, 80 and 100%; the page equals the API; edit and delete", async ({ page, baseURL }) => {
  const hook = await receiver();
  const api = await apiAs(baseURL!, "budgetapi");
  try {
    const tag = randomBytes(4).toString("hex");
    const user = `e2e-budget-${tag}`;
    const name = `E2E cap ${tag}`;

    // Straight to the page: the analytics calls would only use up the minute's 30.
    await login(page, "budgeter", "/admin/analytics?page=budgets");
    await expect(page).toHaveURL(/[?&]page=budgets(&|$)/);
    await expect(page.getByTestId("nav-budgets")).toHaveAttribute("aria-current", "page");
    await expect(page.getByRole("heading", { level: 1, name: "Budgets" })).toBeVisible();

    // Create through the form.
    await page.getByTestId("budget-new").click();
    const form = page.getByTestId("budget-form");
    await form.getByLabel("Name").fill(name);
    await form.getByLabel("Scope").selectOption("user");
    await form.getByLabel("User id").fill(user);
    await form.getByLabel("Period").selectOption("month");
    await form.getByLabel(/^Amount/).fill("10.00");
    await form.getByLabel(/^Thresholds/).fill("50, 80, 100");
    await form.getByTestId("budget-add-webhook").click();
    await form.getByLabel("Webhook 1 URL").fill(hook.url);
    await form.getByLabel("Format").selectOption("standard");
    const posted = page.waitForResponse((r) => r.url().endsWith("/admin/budgets") && r.request().method() === "POST");
    await form.getByTestId("budget-submit").click();
    const res = await posted;
    expect(res.status()).toBe(201);
    expect(JSON.parse(res.request().postData() ?? "{}")).toEqual({
      name,
      scope: "user",
      scope_value: user,
      period: "month",
      amount_dollars: "10.00",
      thresholds: [50, 80, 100],
      webhooks: [{ url: hook.url, format: "standard" }],
    });
    const created = (await res.json()) as Budget;
    expect(created).toMatchObject({ name, scope: "user", scope_value: user, amount_dollars: "10.00", thresholds: [50, 80, 100] });
    const secret = created.webhooks[0].secret!;
    expect(secret).toMatch(/^whsec_/);
    // The secret is shown once, and it is the one the server made.
    const shown = page.getByTestId("webhook-secrets");
    await expect(shown.getByTestId("webhook-secret-value")).toHaveText(secret);
    const id = created.id;
    const card = page.locator(`[data-testid="budget-card"][data-budget-id="${id}"]`);
    await expect(card).toBeVisible();
    await expect(card.getByTestId("budget-percent")).toHaveText("0.0%");
    // Later reads never carry it.
    expect((await getJSON<Budget>(api.req, `/admin/budgets/${id}`)).webhooks[0].secret).toBeUndefined();
    await shown.getByRole("button", { name: "Done" }).click();
    await expect(shown).toHaveCount(0);

    // $6.00 now, and $0.70 two days ago: the last 7 complete days average
    // $0.10, so the forecast is spend + $0.10 × days left. The call two days
    // ago counts in the spend only when it is in this month.
    const today = utcDay(0);
    const past = utcDay(2);
    const pastCents = past.slice(0, 7) === today.slice(0, 7) ? 70 : 0;
    const [y, m] = today.split("-").map(Number);
    const daysLeft = new Date(Date.UTC(y, m, 0)).getUTCDate() - Number(today.slice(8));
    const usd = (cents: number) => (cents / 100).toFixed(2);
    await ingest(page, [call(`e2e-b-${tag}-1`, user, 600), call(`e2e-b-${tag}-0`, user, 70, `${past}T12:00:00Z`)]);
    await waitFor("the 50% alert", async () => {
      const { alerts } = await getJSON<{ alerts: BudgetAlert[] }>(api.req, `/admin/alerts?budget_id=${id}`);
      return alerts.length === 1 && alerts[0].deliveries?.[0]?.state === "delivered" ? alerts : undefined;
    });
    await page.getByTestId("budgets-refresh").click();
    let spend = 600 + pastCents;
    let st = await getJSON<BudgetStatus>(api.req, `/admin/budgets/${id}/status`);
    expect(st).toMatchObject({
      spend_dollars: usd(spend),
      percent: spend / 10,
      thresholds_fired: [50],
      remaining_dollars: usd(1000 - spend),
      forecast_dollars: usd(spend + 10 * daysLeft),
    });
    await expectCardMatches(page, id, st);

    // Another $4.50: crosses 80 and 100 in one batch.
    await ingest(page, [call(`e2e-b-${tag}-2`, user, 250), call(`e2e-b-${tag}-3`, user, 200)]);
    const alerts = await waitFor("three delivered alerts", async () => {
      const { alerts } = await getJSON<{ alerts: BudgetAlert[] }>(api.req, `/admin/alerts?budget_id=${id}`);
      return alerts.length === 3 && alerts.every((a) => a.deliveries?.every((d) => d.state === "delivered")) ? alerts : undefined;
    });
    expect(alerts.map((a) => a.threshold_percent).sort((a, b) => a - b)).toEqual([50, 80, 100]);
    await page.getByTestId("budgets-refresh").click();
    spend += 450;
    st = await getJSON<BudgetStatus>(api.req, `/admin/budgets/${id}/status`);
    expect(st).toMatchObject({
      spend_dollars: usd(spend),
      percent: spend / 10,
      thresholds_fired: [50, 80, 100],
      remaining_dollars: "0.00",
      forecast_dollars: usd(spend + 10 * daysLeft),
      projected_date: today,
    });
    await expectCardMatches(page, id, st);
    await expect(card.getByTestId("budget-projected")).toHaveText(/^Reached 100% on /);
    await expect(card.getByTestId("budget-bar")).toHaveClass(/is-over/);
    await expectAlertsMatch(page, id, alerts);
    await page.screenshot({ path: join(shots, "page-budgets.png"), fullPage: true });

    // Each message the receiver got verifies with the secret shown on the page,
    // and carries the message id the alert history lists.
    expect(hook.got).toHaveLength(3);
    const messageIds = alerts.flatMap((a) => (a.deliveries ?? []).map((d) => d.message_id)).sort();
    expect(hook.got.map((g) => String(g.headers["webhook-id"])).sort()).toEqual(messageIds);
    for (const g of hook.got) {
      const want = signature(secret, String(g.headers["webhook-id"]), String(g.headers["webhook-timestamp"]), g.body);
      expect(String(g.headers["webhook-signature"]).split(" ")).toContain(want);
      const body = JSON.parse(g.body) as { type: string; data: { budget_id: number; user_id: string; amount_dollars: string } };
      expect(body).toMatchObject({ type: "budget.threshold_crossed", data: { budget_id: id, amount_dollars: "10.00" } });
    }

    // Edit: $20.00. Only the amount is sent; the percent halves; the alerts stay made.
    await card.getByTestId("budget-edit").click();
    const edit = page.getByTestId("budget-form");
    await expect(edit.getByLabel("Scope")).toBeDisabled();
    await expect(edit.getByLabel(/^Amount/)).toHaveValue("10.00");
    await edit.getByLabel(/^Amount/).fill("20.00");
    const patched = page.waitForResponse((r) => r.url().endsWith(`/admin/budgets/${id}`) && r.request().method() === "PATCH");
    await edit.getByTestId("budget-submit").click();
    const patchRes = await patched;
    expect(patchRes.status()).toBe(200);
    expect(JSON.parse(patchRes.request().postData() ?? "{}")).toEqual({ amount_dollars: "20.00" });
    await expect(page.getByTestId("webhook-secrets")).toHaveCount(0);
    st = await getJSON<BudgetStatus>(api.req, `/admin/budgets/${id}/status`);
    expect(st).toMatchObject({ percent: Math.round(spend / 2) / 10, thresholds_fired: [50], remaining_dollars: usd(2000 - spend) });
    await expectCardMatches(page, id, st);
    const after = await getJSON<{ alerts: BudgetAlert[] }>(api.req, `/admin/alerts?budget_id=${id}`);
    expect(after.alerts).toHaveLength(3);
    await expectAlertsMatch(page, id, after.alerts);

    // Delete (two clicks): gone from the page and the API; its alert history stays.
    await card.getByTestId("budget-delete").click();
    const deleted = page.waitForResponse((r) => r.url().endsWith(`/admin/budgets/${id}`) && r.request().method() === "DELETE");
    await card.getByTestId("budget-delete-confirm").click();
    expect((await deleted).status()).toBe(204);
    await expect(card).toHaveCount(0);
    await expect(page.getByTestId("budget-notice")).toHaveText(`Deleted “${name}”. Its alert history stays.`);
    expect((await api.req.get(`/admin/budgets/${id}`)).status()).toBe(404);
    await expect(page.locator(`[data-testid="alert-row"][data-budget-id="${id}"][data-budget-name="${name}"]`)).toHaveCount(3);
  } finally {
    await api.req.dispose();
    hook.server.close();
  }
});

test("a viewer reads budgets and alerts with no edit controls; the server refuses a viewer's change; 375 px", async ({ page, baseURL }) => {
  const owner = await apiAs(baseURL!, "budgetowner");
  const viewerAPI = await apiAs(baseURL!, "budgetwatch");
  let id = 0;
  try {
    const tag = randomBytes(4).toString("hex");
    const res = await owner.req.post("/admin/budgets", {
      headers: { "X-CSRF-Token": owner.csrf },
      data: { name: `E2E all spend ${tag}`, scope: "total", period: "month", amount_dollars: "1000000.00", thresholds: [90] },
    });
    expect(res.status()).toBe(201);
    id = ((await res.json()) as Budget).id;

    await page.setViewportSize({ width: 375, height: 800 });
    await login(page, "budgetwatch");
    await page.getByTestId("nav-budgets").click();
    const card = page.locator(`[data-testid="budget-card"][data-budget-id="${id}"]`);
    const st = await getJSON<BudgetStatus>(viewerAPI.req, `/admin/budgets/${id}/status`);
    await expectCardMatches(page, id, st);
    await expect(page.getByTestId("budgets-readonly")).toContainText("Only an owner");
    await expect(page.getByTestId("budget-new")).toHaveCount(0);
    await expect(page.getByTestId("budget-edit")).toHaveCount(0);
    await expect(page.getByTestId("budget-delete")).toHaveCount(0);
    await expect(card.getByRole("progressbar")).toHaveAccessibleName(`E2E all spend ${tag}: spend as a share of the budget`);
    // No sideways scrolling at 375 px (wide tables scroll inside their box).
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(shots, "page-budgets-375.png"), fullPage: true });

    const refused = await viewerAPI.req.post("/admin/budgets", {
      headers: { "X-CSRF-Token": viewerAPI.csrf },
      data: { name: "nope", scope: "total", period: "day", amount_dollars: "1.00" },
    });
    expect(refused.status()).toBe(403);
    expect((await viewerAPI.req.delete(`/admin/budgets/${id}`, { headers: { "X-CSRF-Token": viewerAPI.csrf } })).status()).toBe(403);
  } finally {
    if (id) await owner.req.delete(`/admin/budgets/${id}`, { headers: { "X-CSRF-Token": owner.csrf } });
    await owner.req.dispose();
    await viewerAPI.req.dispose();
  }
});

test("the Costs tab marks the API's anomalies on the daily chart and projects this month like a budget", async ({ page, baseURL }) => {
  // A quiet stretch long before the demo data: $0.40 a day of S3, then one
  // $50.00 ElevenLabs day. The 28 days before it have a median of $0 for
  // ElevenLabs, so anything over $1.00 is anomalous.
  const tag = randomBytes(4).toString("hex");
  const range = { start: utcDay(330), end: utcDay(300) };
  const spike = utcDay(310);
  const events: object[] = [];
  for (let back = 330; back >= 300; back--) {
    events.push({ id: `e2e-an-${tag}-${back}`, type: "api_call", timestamp: `${utcDay(back)}T09:00:00Z`, service: "s3", operation: "store", cost_cents: 40 });
  }
  events.push({ id: `e2e-an-${tag}-spike`, type: "api_call", timestamp: `${spike}T12:00:00Z`, service: "elevenlabs", operation: "narrate", model: "eleven_v3", cost_cents: 5000 });
  await ingest(page, events);

  const api = await apiAs(baseURL!, "budgetapi");
  const owner = await apiAs(baseURL!, "budgetowner");
  let id = 0;
  try {
    const list = await getJSON<AnomalyList>(api.req, `/admin/anomalies?start_date=${range.start}&end_date=${range.end}`);
    expect(list.anomalies.find((a) => a.service === "elevenlabs" && a.date === spike)).toMatchObject({ cost_dollars: "50.00" });

    await login(page, "anomalies");
    await page.goto(`/admin/analytics?start=${range.start}&end=${range.end}&tab=costs`);
    const markers = page.getByTestId("anomaly-marker");
    const days = [...new Set(list.anomalies.map((a) => a.date))].sort();
    await expect(markers).toHaveCount(days.length);
    expect((await markers.evaluateAll((els) => els.map((e) => e.getAttribute("data-date")))).sort()).toEqual(days);
    await expect(page.locator(`[data-testid="anomaly-marker"][data-date="${spike}"]`)).toHaveAttribute("data-services", /elevenlabs/);
    const items = page.getByTestId("anomaly");
    await expect(items).toHaveCount(list.anomalies.length);
    await expect(page.locator(`[data-testid="anomaly"][data-date="${spike}"][data-service="elevenlabs"]`).getByTestId("anomaly-cost")).toHaveText("$50.00");
    await page.screenshot({ path: join(shots, "tab-costs-anomalies.png"), fullPage: false });

    // This month's projection equals the forecast of a monthly all-spend budget.
    const res = await owner.req.post("/admin/budgets", {
      headers: { "X-CSRF-Token": owner.csrf },
      data: { name: `E2E projection ${tag}`, scope: "total", period: "month", amount_dollars: "1000000000.00", thresholds: [100] },
    });
    expect(res.status()).toBe(201);
    id = ((await res.json()) as Budget).id;
    const st = await getJSON<BudgetStatus>(api.req, `/admin/budgets/${id}/status`);
    const proj = page.getByTestId("month-projection");
    await expect(proj.getByTestId("projection-forecast")).toHaveText(formatUSD(Number(st.forecast_dollars)));
    await expect(proj.getByTestId("projection-spend")).toHaveText(formatUSD(Number(st.spend_dollars)));
    const shownDollars = Number(await proj.getByTestId("projection-forecast").getAttribute("data-dollars"));
    expect(Math.abs(shownDollars - Number(st.forecast_dollars))).toBeLessThan(0.0000005);
  } finally {
    if (id) await owner.req.delete(`/admin/budgets/${id}`, { headers: { "X-CSRF-Token": owner.csrf } });
    await api.req.dispose();
    await owner.req.dispose();
  }
});

test("the owner's budget form is usable at 375 px: refusals shown in place, no sideways scrolling", async ({ page }) => {
  await page.setViewportSize({ width: 375, height: 800 });
  await login(page, "budgetowner", "/admin/analytics?page=budgets");
  await page.getByTestId("budget-new").click();
  const form = page.getByTestId("budget-form");
  await form.getByLabel("Scope").selectOption("model");
  await form.getByTestId("budget-add-webhook").click();
  await form.getByTestId("budget-add-webhook").click();
  await form.getByLabel("Webhook 2 URL").fill("ftp://example.com/x");
  await form.getByLabel("Format").nth(1).selectOption("slack");
  await form.getByLabel(/^Amount/).fill("12.3456789");
  let posts = 0;
  page.on("request", (r) => {
    if (r.method() === "POST" && r.url().endsWith("/admin/budgets")) posts++;
  });
  await form.getByTestId("budget-submit").click();
  await expect(form.getByText("Give the budget a name")).toBeVisible();
  await expect(form.getByText("Enter the model id, as the events name it")).toBeVisible();
  await expect(form.getByText("An amount in US dollars, like 500.00 (at most six decimals)")).toBeVisible();
  await expect(form.getByText("Enter the webhook's URL")).toBeVisible();
  await expect(form.getByText("An http or https URL, like https://hooks.example.com/x")).toBeVisible();
  await expect(form.getByLabel("Model id")).toHaveAttribute("aria-invalid", "true");
  expect(posts).toBe(0);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  // Every page link of an owner is in view, none clipped by the header's
  // scrolling nav (whose box is what shows).
  const nav = (await page.getByRole("navigation", { name: "Pages" }).boundingBox())!;
  expect(nav.x + nav.width).toBeLessThanOrEqual(375);
  for (const p of ["analytics", "prices", "budgets", "admins"]) {
    const box = (await page.getByTestId(`nav-${p}`).boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(nav.x);
    expect(box.x + box.width, `nav-${p} right edge`).toBeLessThanOrEqual(nav.x + nav.width + 0.5);
  }
  await page.screenshot({ path: join(shots, "page-budgets-form-375.png"), fullPage: false });
});

test("a receiver that is down shows as pending with its attempts and error, then delivered once it is back", async ({ page, baseURL }) => {
  let up = false;
  const hook = await receiver(() => (up ? 200 : 503));
  const owner = await apiAs(baseURL!, "budgetdown");
  const api = await apiAs(baseURL!, "budgetwatch");
  let id = 0;
  try {
    const tag = randomBytes(4).toString("hex");
    const user = `e2e-down-${tag}`;
    const name = `E2E down ${tag}`;
    const mine = (as: BudgetAlert[]) => as.filter((a) => a.budget_id === id && a.budget_name === name);
    const res = await owner.req.post("/admin/budgets", {
      headers: { "X-CSRF-Token": owner.csrf },
      data: { name, scope: "user", scope_value: user, period: "day", amount_dollars: "1.00", thresholds: [100], webhooks: [{ url: hook.url }] },
    });
    expect(res.status()).toBe(201);
    id = ((await res.json()) as Budget).id;
    await ingest(page, [call(`e2e-down-${tag}-1`, user, 150)]);
    await waitFor("two failed attempts", async () => {
      const { alerts } = await getJSON<{ alerts: BudgetAlert[] }>(api.req, `/admin/alerts?budget_id=${id}`);
      return (mine(alerts)[0]?.deliveries?.[0]?.attempts ?? 0) >= 2 ? true : undefined;
    });

    // The page shows exactly the alert list it was given.
    const seen = page.waitForResponse((r) => r.url().includes("/admin/alerts") && r.request().method() === "GET");
    await login(page, "budgetdown", "/admin/analytics?page=budgets");
    let given = mine(((await (await seen).json()) as { alerts: BudgetAlert[] }).alerts);
    expect(given).toHaveLength(1);
    let d = given[0].deliveries![0];
    expect(d.state).toBe("pending");
    expect(d.attempts).toBeGreaterThanOrEqual(2);
    expect(d.last_error).toContain("503");
    await expectAlertsMatch(page, id, given);
    const line = page.locator(`[data-testid="alert-row"][data-alert-id="${given[0].id}"]`).getByTestId("alert-delivery");
    await expect(line.getByTestId("delivery-attempts")).toHaveText(`${d.attempts} attempts · HTTP 503`);
    await expect(line).toContainText("next try");
    await expect(line).toContainText(d.last_error);

    // Back up: the next retry delivers; the page says so after a refresh.
    up = true;
    await waitFor("the delivery", async () => {
      const { alerts } = await getJSON<{ alerts: BudgetAlert[] }>(api.req, `/admin/alerts?budget_id=${id}`);
      return mine(alerts)[0]?.deliveries?.[0]?.state === "delivered" ? true : undefined;
    }, 30_000);
    const again = page.waitForResponse((r) => r.url().includes("/admin/alerts") && r.request().method() === "GET");
    await page.getByTestId("budgets-refresh").click();
    given = mine(((await (await again).json()) as { alerts: BudgetAlert[] }).alerts);
    d = given[0].deliveries![0];
    expect(d.state).toBe("delivered");
    await expectAlertsMatch(page, id, given);
    await expect(line.getByTestId("delivery-attempts")).toHaveText(`${d.attempts} attempts · HTTP 200`);
    // Every attempt carried the same webhook-id, so a receiver can deduplicate.
    expect(new Set(hook.got.map((g) => g.headers["webhook-id"])).size).toBe(1);
    expect(hook.got).toHaveLength(d.attempts);
  } finally {
    if (id) await owner.req.delete(`/admin/budgets/${id}`, { headers: { "X-CSRF-Token": owner.csrf } });
    await owner.req.dispose();
    await api.req.dispose();
    hook.server.close();
  }
});

// A deleted budget's id is never given to a new budget (SQLite: AUTOINCREMENT),
// so alert keys (threshold:<budget id>:<period>:<percent>:<user>) of the two
// never collide: the new budget alerts on its own thresholds.
test("a budget made after another was deleted alerts on its own thresholds", async ({ page, baseURL }) => {
  const owner = await apiAs(baseURL!, "budgetreuse");
  const ids: number[] = [];
  try {
    const tag = randomBytes(4).toString("hex");
    const make = async (name: string, user: string) => {
      const res = await owner.req.post("/admin/budgets", {
        headers: { "X-CSRF-Token": owner.csrf },
        data: { name, scope: "user", scope_value: user, period: "month", amount_dollars: "1.00", thresholds: [50] },
      });
      expect(res.status()).toBe(201);
      const b = (await res.json()) as Budget;
      ids.push(b.id);
      return b;
    };
    const alertOf = (name: string) =>
      waitFor(`the alert of ${name}`, async () => {
        const { alerts } = await getJSON<{ alerts: BudgetAlert[] }>(owner.req, "/admin/alerts");
        return alerts.find((a) => a.budget_name === name);
      }, 15_000);
    const a = await make(`E2E first ${tag}`, `e2e-reuse-a-${tag}`);
    await ingest(page, [call(`e2e-reuse-${tag}-a`, `e2e-reuse-a-${tag}`, 60)]);
    await alertOf(a.name);
    expect((await owner.req.delete(`/admin/budgets/${a.id}`, { headers: { "X-CSRF-Token": owner.csrf } })).status()).toBe(204);
    const b = await make(`E2E second ${tag}`, `e2e-reuse-b-${tag}`);
    await ingest(page, [call(`e2e-reuse-${tag}-b`, `e2e-reuse-b-${tag}`, 60)]);
    expect((await alertOf(b.name)).budget_id).toBe(b.id);
  } finally {
    for (const id of ids) await owner.req.delete(`/admin/budgets/${id}`, { headers: { "X-CSRF-Token": owner.csrf } });
    await owner.req.dispose();
  }
});
