// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { AdminToken, IngestKey } from "../../lib/types";
import { renderWithClient, stubFetch } from "../../test/render";
import { CredentialsTable } from "./CredentialsTable";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const tok = (id: number, name: string, patch: Partial<AdminToken> = {}): AdminToken => ({
  id,
  admin_id: 1,
  admin_email: "owner@x.test",
  name,
  created_at: `2026-0${id}-01T00:00:00Z`,
  expires_at: null,
  last_used_at: null,
  revoked_at: null,
  ...patch,
});

describe("CredentialsTable", () => {
  it("shows state, last use and who a token acts as; only live ones can be revoked", () => {
    stubFetch({});
    renderWithClient(
      <CredentialsTable
        kind="token"
        items={[
          tok(1, "grafana", { last_used_at: "2026-11-28T09:30:00Z" }),
          tok(2, "old", { revoked_at: "2026-05-01T00:00:00Z" }),
          tok(3, "expired", { expires_at: "2020-01-01T00:00:00Z" }),
        ]}
      />,
    );
    const rows = screen.getAllByRole("row").slice(1);
    expect(rows.map((r) => r.getAttribute("data-name"))).toEqual(["grafana", "expired", "old"]);
    const live = rows[0];
    expect(live.getAttribute("data-state")).toBe("active");
    expect(live.textContent).toContain("owner@x.test");
    expect(live.textContent).toMatch(/Nov 28, 2026/);
    expect(within(live).getByRole("button", { name: "Revoke the API token grafana" })).toBeTruthy();
    expect(rows[1].getAttribute("data-state")).toBe("expired");
    expect(rows[2].getAttribute("data-state")).toBe("revoked");
    expect(within(rows[1]).queryByRole("button")).toBeNull();
    expect(within(rows[2]).queryByRole("button")).toBeNull();
  });

  it("revokes an ingest key with DELETE after confirmation", async () => {
    const key: IngestKey = { id: 7, name: "backend", created_at: "2026-01-01T00:00:00Z", expires_at: null, last_used_at: null, revoked_at: null };
    const sent = stubFetch({ "DELETE /admin/ingest-keys/7": { status: 204 }, "GET /admin/ingest-keys": { status: 200, body: { ingest_keys: [] } } });
    renderWithClient(<CredentialsTable kind="ingest-key" items={[key]} />);
    expect(screen.queryByText("Admin")).toBeNull(); // keys belong to no admin
    await userEvent.click(screen.getByRole("button", { name: "Revoke the ingest key backend" }));
    expect(sent).toHaveLength(0);
    await userEvent.click(screen.getByRole("button", { name: "Revoke now" }));
    await waitFor(() => expect(sent.map((r) => `${r.method} ${r.path}`)).toContain("DELETE /admin/ingest-keys/7"));
  });

  it("says why a revoke failed", async () => {
    stubFetch({ "DELETE /admin/tokens/1": { status: 404, body: { error: "no live token with id 1" } } });
    renderWithClient(<CredentialsTable kind="token" items={[tok(1, "grafana")]} />);
    await userEvent.click(screen.getByRole("button", { name: "Revoke the API token grafana" }));
    await userEvent.click(screen.getByRole("button", { name: "Revoke now" }));
    expect((await screen.findByTestId("token-error")).textContent).toBe("Could not revoke the API token “grafana”: no live token with id 1");
  });

  it("says when there is nothing", () => {
    stubFetch({});
    renderWithClient(<CredentialsTable kind="ingest-key" items={[]} />);
    expect(screen.getByText("No ingest keys yet.")).toBeTruthy();
  });
});
