// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, render, screen } from "@testing-library/react";
import { parseDay } from "../lib/dateRange";
import type { Session } from "../lib/types";
import { TopBar } from "./TopBar";

afterEach(cleanup);

const base: Session = { email: "a@x.test", role: "analyst", permissions: ["VIEW_ANALYTICS", "EXPORT_DATA"], csrf_token: "c" };

describe("TopBar", () => {
  it("names the server's reporting zone and today", () => {
    render(<TopBar session={base} page="analytics" today={parseDay("2026-11-29")!} zone="Europe/Berlin" />);
    expect(screen.getByTestId("server-timezone").textContent).toBe("Europe/Berlin");
    expect(screen.getByTestId("server-today").getAttribute("datetime")).toBe("2026-11-29");
    expect(screen.getByTestId("server-today").textContent).toBe("Nov 29");
  });

  it("links Admins for owners only, and marks the current page", () => {
    render(<TopBar session={base} page="prices" today={parseDay("2026-11-29")!} zone="UTC" />);
    expect(screen.queryByTestId("nav-admins")).toBeNull();
    expect(screen.getByTestId("nav-prices").getAttribute("aria-current")).toBe("page");
    expect(screen.getByTestId("nav-analytics").getAttribute("aria-current")).toBeNull();
    cleanup();
    render(
      <TopBar
        session={{ ...base, role: "owner", permissions: [...base.permissions, "MANAGE_ADMINS", "VIEW_AUDIT", "MANAGE_PRICES"] }}
        page="admins"
        today={parseDay("2026-11-29")!}
        zone="UTC"
      />,
    );
    expect(screen.getByTestId("nav-admins").getAttribute("aria-current")).toBe("page");
  });
});
