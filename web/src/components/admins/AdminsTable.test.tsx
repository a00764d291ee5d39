// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { setCsrfToken } from "../../lib/api";
import type { AdminAccount } from "../../lib/types";
import { renderWithClient, stubFetch } from "../../test/render";
import { AdminsTable } from "./AdminsTable";

const owner: AdminAccount = { id: 1, email: "owner@x.test", role: "owner", disabled: false, created_at: "2026-01-01T00:00:00Z", last_login_at: "2026-11-28T10:00:00Z" };
const analyst: AdminAccount = { id: 2, email: "ana@x.test", role: "analyst", disabled: false, created_at: "2026-02-01T00:00:00Z", last_login_at: null };
const disabled: AdminAccount = { id: 3, email: "gone@x.test", role: "viewer", disabled: true, created_at: "2026-03-01T00:00:00Z", last_login_at: null };

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function row(email: string) {
  return screen.getByText(email, { exact: false }).closest("tr") as HTMLElement;
}

describe("AdminsTable", () => {
  it("lists every admin with role, status and last sign-in", () => {
    stubFetch({});
    renderWithClient(<AdminsTable admins={[owner, analyst, disabled]} selfEmail="owner@x.test" />);
    expect(within(row("owner@x.test")).getByText("(you)")).toBeTruthy();
    expect((screen.getByLabelText("Role of ana@x.test") as HTMLSelectElement).value).toBe("analyst");
    expect(within(row("ana@x.test")).getByText("Active")).toBeTruthy();
    expect(within(row("ana@x.test")).getByText("Never")).toBeTruthy();
    expect(within(row("gone@x.test")).getByText("Disabled")).toBeTruthy();
    expect(within(row("gone@x.test")).getByRole("button", { name: "Enable gone@x.test" })).toBeTruthy();
  });

  it("changes a role with a CSRF-protected PATCH", async () => {
    setCsrfToken("csrf-1");
    const sent = stubFetch({ "PATCH /admin/admins/2": { status: 200, body: { ...analyst, role: "viewer" } }, "GET /admin/admins": { status: 200, body: { admins: [] } } });
    renderWithClient(<AdminsTable admins={[owner, analyst]} selfEmail="owner@x.test" />);
    await userEvent.selectOptions(screen.getByLabelText("Role of ana@x.test"), "viewer");
    await waitFor(() => expect(sent.some((r) => r.method === "PATCH")).toBe(true));
    const patch = sent.find((r) => r.method === "PATCH")!;
    expect(patch.path).toBe("/admin/admins/2");
    expect(patch.body).toEqual({ role: "viewer" });
    expect(patch.headers["x-csrf-token"]).toBe("csrf-1");
  });

  it("shows the server's 409 reason when the last owner would be demoted", async () => {
    stubFetch({
      "PATCH /admin/admins/1": { status: 409, body: { error: "owner@x.test is the last enabled owner: promote another owner first" } },
    });
    renderWithClient(<AdminsTable admins={[owner, analyst]} selfEmail="owner@x.test" />);
    await userEvent.selectOptions(screen.getByLabelText("Role of owner@x.test"), "analyst");
    const err = await screen.findByTestId("admins-error");
    expect(err.textContent).toContain("Could not make owner@x.test an analyst");
    expect(err.textContent).toContain("owner@x.test is the last enabled owner: promote another owner first");
    expect(err.getAttribute("role")).toBe("alert");
  });

  it("disables only after the second click, and says so on 409", async () => {
    const sent = stubFetch({
      "PATCH /admin/admins/1": { status: 409, body: { error: "cannot disable the last enabled owner" } },
    });
    renderWithClient(<AdminsTable admins={[owner]} selfEmail="owner@x.test" />);
    await userEvent.click(screen.getByRole("button", { name: "Disable owner@x.test" }));
    expect(sent).toHaveLength(0);
    await userEvent.click(screen.getByRole("button", { name: "Disable now" }));
    expect((await screen.findByTestId("admins-error")).textContent).toContain("cannot disable the last enabled owner");
    expect(sent.map((r) => [r.method, r.path, r.body])).toContainEqual(["PATCH", "/admin/admins/1", { disabled: true }]);
  });

  it("can cancel a delete, and deletes on confirm", async () => {
    const sent = stubFetch({ "DELETE /admin/admins/2": { status: 204 }, "GET /admin/admins": { status: 200, body: { admins: [owner] } } });
    renderWithClient(<AdminsTable admins={[owner, analyst]} selfEmail="owner@x.test" />);
    await userEvent.click(screen.getByRole("button", { name: "Delete ana@x.test" }));
    await userEvent.click(screen.getByRole("button", { name: "Cancel" }));
    expect(sent).toHaveLength(0);
    await userEvent.click(screen.getByRole("button", { name: "Delete ana@x.test" }));
    await userEvent.click(screen.getByRole("button", { name: "Delete admin" }));
    await waitFor(() => expect(sent.some((r) => r.method === "DELETE" && r.path === "/admin/admins/2")).toBe(true));
    expect(screen.queryByTestId("admins-error")).toBeNull();
  });

  it("shows a reset password once, until Done", async () => {
    const sent = stubFetch({ "POST /admin/admins/2/reset-password": { status: 200, body: { password: "Gen-3rated-Pa55word" } } });
    renderWithClient(<AdminsTable admins={[owner, analyst]} selfEmail="owner@x.test" />);
    await userEvent.click(screen.getByRole("button", { name: "Reset the password of ana@x.test" }));
    await userEvent.click(screen.getByRole("button", { name: "Reset password" }));
    const box = await screen.findByTestId("reset-password-result");
    expect(within(box).getByTestId("reset-password-value").textContent).toBe("Gen-3rated-Pa55word");
    expect(box.textContent).toContain("New password for ana@x.test");
    expect(sent.find((r) => r.method === "POST")?.path).toBe("/admin/admins/2/reset-password");
    await userEvent.click(within(box).getByRole("button", { name: "Done" }));
    expect(screen.queryByTestId("reset-password-result")).toBeNull();
    expect(screen.queryByText("Gen-3rated-Pa55word")).toBeNull();
  });
});
