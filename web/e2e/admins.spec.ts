// Issue 11 C: an owner takes access back from the Admins page: role,
// disable/enable, password reset (shown once), delete, and revoking an API
// token and an ingest key. Each change is checked where it matters: the
// credential itself stops (or starts) working against the real server.
import { join } from "node:path";
import { request as playwrightRequest, type APIRequestContext } from "@playwright/test";
import { SPARE_INGEST_KEY_NAME, SPARE_TOKEN_NAME } from "./accounts";
import { accounts, expect, login, secrets, test } from "./fixtures";
import type { AdminAccount } from "../src/lib/types";

const shots = join(import.meta.dirname, "..", "test-results");

async function signInStatus(baseURL: string, email: string, password: string): Promise<number> {
  const ctx: APIRequestContext = await playwrightRequest.newContext({ baseURL });
  try {
    return (await ctx.post("/login", { data: { email, password } })).status();
  } finally {
    await ctx.dispose();
  }
}

async function adminsFromAPI(req: APIRequestContext): Promise<AdminAccount[]> {
  const res = await req.get("/admin/admins");
  expect(res.status()).toBe(200);
  return ((await res.json()) as { admins: AdminAccount[] }).admins;
}

test("an owner changes a role, resets a password, disables, enables and deletes admins", async ({ page, baseURL }) => {
  const all = accounts();
  const victim = all.victim;
  const victim2 = all.victim2;
  await login(page, "admins");
  await page.getByTestId("nav-admins").click();
  await expect(page).toHaveURL(/[?&]page=admins(&|$)/);
  const table = page.getByTestId("admins-table");
  const row = table.locator(`tr[data-email="${victim.email}"]`);
  await expect(row).toBeVisible();
  await expect(table.locator(`tr[data-email="${all.admins.email}"]`)).toContainText("(you)");

  // Role: analyst → viewer.
  const roleSelect = row.getByLabel(`Role of ${victim.email}`);
  await expect(roleSelect).toHaveValue("analyst");
  const patched = page.waitForResponse((r) => r.request().method() === "PATCH" && r.url().includes("/admin/admins/"));
  await roleSelect.selectOption("viewer");
  expect((await patched).status()).toBe(200);
  await expect(roleSelect).toHaveValue("viewer");
  expect((await adminsFromAPI(page.request)).find((a) => a.email === victim.email)?.role).toBe("viewer");

  // Reset password: the new one is shown once and works; the old one does not.
  await row.getByRole("button", { name: `Reset the password of ${victim.email}` }).click();
  await page.getByTestId("admin-reset-confirm").click();
  const result = page.getByTestId("reset-password-result");
  await expect(result).toContainText(`New password for ${victim.email}`);
  const newPassword = (await result.getByTestId("reset-password-value").innerText()).trim();
  expect(newPassword.length).toBeGreaterThanOrEqual(12);
  expect(await signInStatus(baseURL!, victim.email, victim.password)).toBe(401);
  expect(await signInStatus(baseURL!, victim.email, newPassword)).toBe(200);
  await result.getByRole("button", { name: "Done" }).click();
  await expect(result).toHaveCount(0);

  // Disable: the right password no longer signs in. Enable: it does again.
  await row.getByRole("button", { name: `Disable ${victim.email}` }).click();
  await page.getByTestId("admin-disable-confirm").click();
  await expect(row.getByTestId("admin-status")).toHaveText("Disabled");
  expect(await signInStatus(baseURL!, victim.email, newPassword)).not.toBe(200);
  expect((await adminsFromAPI(page.request)).find((a) => a.email === victim.email)?.disabled).toBe(true);
  await row.getByRole("button", { name: `Enable ${victim.email}` }).click();
  await expect(row.getByTestId("admin-status")).toHaveText("Active");
  expect(await signInStatus(baseURL!, victim.email, newPassword)).toBe(200);

  // Delete.
  const row2 = table.locator(`tr[data-email="${victim2.email}"]`);
  await row2.getByRole("button", { name: `Delete ${victim2.email}` }).click();
  const deleted = page.waitForResponse((r) => r.request().method() === "DELETE" && r.url().includes("/admin/admins/"));
  await page.getByTestId("admin-delete-confirm").click();
  expect((await deleted).status()).toBe(204);
  await expect(row2).toHaveCount(0);
  expect((await adminsFromAPI(page.request)).some((a) => a.email === victim2.email)).toBe(false);
  expect(await signInStatus(baseURL!, victim2.email, victim2.password)).toBe(401);

  await expect(page.getByTestId("admins-error")).toHaveCount(0);
});

test("an owner revokes an API token and an ingest key, and they stop working", async ({ page, baseURL }) => {
  const s = secrets();
  // Both work before.
  const ctx = await playwrightRequest.newContext({ baseURL });
  try {
    expect((await ctx.get("/api/session", { headers: { Authorization: `Bearer ${s.spareToken}` } })).status()).toBe(200);
    // (An empty batch: authenticated is all that matters here.)
    const ok = await ctx.post("/v1/events", { headers: { Authorization: `Bearer ${s.spareIngestKey}` }, data: { events: [] } });
    expect(ok.status()).not.toBe(401);

    await login(page, "revoker");
    await page.getByTestId("nav-admins").click();

    const tokenRow = page.getByTestId("tokens-table").locator(`tr[data-name="${SPARE_TOKEN_NAME}"]`);
    await expect(tokenRow).toHaveAttribute("data-state", "active");
    await expect(tokenRow).toContainText(accounts().admins.email);
    await tokenRow.getByRole("button", { name: `Revoke the API token ${SPARE_TOKEN_NAME}` }).click();
    await page.getByTestId("token-revoke-confirm").click();
    await expect(tokenRow).toHaveAttribute("data-state", "revoked");
    expect((await ctx.get("/api/session", { headers: { Authorization: `Bearer ${s.spareToken}` } })).status()).toBe(401);

    const keyRow = page.getByTestId("ingest-keys-table").locator(`tr[data-name="${SPARE_INGEST_KEY_NAME}"]`);
    await expect(keyRow).toHaveAttribute("data-state", "active");
    await keyRow.getByRole("button", { name: `Revoke the ingest key ${SPARE_INGEST_KEY_NAME}` }).click();
    await page.getByTestId("ingest-key-revoke-confirm").click();
    await expect(keyRow).toHaveAttribute("data-state", "revoked");
    const refused = await ctx.post("/v1/events", { headers: { Authorization: `Bearer ${s.spareIngestKey}` }, data: { events: [] } });
    expect(refused.status()).toBe(401);
    // The key the other tests ingest with still works.
    const still = await ctx.post("/v1/events", { headers: { Authorization: `Bearer ${s.ingestKey}` }, data: { events: [] } });
    expect(still.status()).toBe(ok.status());

    await page.screenshot({ path: join(shots, "page-admins.png"), fullPage: true });
    await page.setViewportSize({ width: 375, height: 812 });
    await expect(page.getByTestId("admins-table")).toBeVisible();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await page.screenshot({ path: join(shots, "mobile-admins.png"), fullPage: true });
  } finally {
    await ctx.dispose();
  }
});

test("the last enabled owner cannot be demoted or disabled: the page shows the server's 409 reason", async ({ page }) => {
  const me = await login(page, "lastowner");
  const { csrf_token } = (await (await page.request.get("/api/session")).json()) as { csrf_token: string };
  const patch = (id: number, body: unknown) =>
    page.request.patch(`/admin/admins/${id}`, { headers: { "X-CSRF-Token": csrf_token }, data: body });
  // Disable every other enabled owner for the length of this test (and
  // enable them again whatever happens).
  const others = (await adminsFromAPI(page.request)).filter((a) => a.role === "owner" && !a.disabled && a.email !== me.email);
  expect(others.length).toBeGreaterThan(0);
  try {
    for (const o of others) expect((await patch(o.id, { disabled: true })).status()).toBe(200);

    await page.getByTestId("nav-admins").click();
    const row = page.getByTestId("admins-table").locator(`tr[data-email="${me.email}"]`);
    const roleSelect = row.getByLabel(`Role of ${me.email}`);
    const refused = page.waitForResponse((r) => r.request().method() === "PATCH" && r.url().includes("/admin/admins/"));
    await roleSelect.selectOption("analyst");
    const res = await refused;
    expect(res.status()).toBe(409);
    const reason = ((await res.json()) as { error: string }).error;
    expect(reason).toContain("last enabled owner");
    const error = page.getByTestId("admins-error");
    await expect(error).toContainText(`Could not make ${me.email} an analyst`);
    await expect(error).toContainText(reason);
    await expect(roleSelect).toHaveValue("owner"); // the page shows what the server kept

    await row.getByRole("button", { name: `Disable ${me.email}` }).click();
    await page.getByTestId("admin-disable-confirm").click();
    await expect(error).toContainText(`Could not disable ${me.email}`);
    await expect(error).toContainText("last enabled owner");
    await expect(row.getByTestId("admin-status")).toHaveText("Active");
  } finally {
    for (const o of others) expect((await patch(o.id, { disabled: false })).status()).toBe(200);
  }
  const owners = (await adminsFromAPI(page.request)).filter((a) => a.role === "owner" && !a.disabled);
  expect(owners.map((o) => o.email).sort()).toEqual([me.email, ...others.map((o) => o.email)].sort());
});

test("non-owners have no Admins page, and the API refuses them", async ({ page }) => {
  await login(page, "pricewatch");
  await expect(page.getByTestId("nav-admins")).toHaveCount(0);
  await page.goto("/admin/analytics?page=admins");
  await expect(page.getByRole("heading", { level: 1, name: "Analytics" })).toBeVisible();
  expect((await page.request.get("/admin/admins")).status()).toBe(403);
});
