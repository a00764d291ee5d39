import { useState } from "react";
import { AudioLines, BarChart3, Globe, LogOut, Tags, UserCog, Wallet } from "lucide-react";
import { format } from "date-fns";
import { ApiError, postJSON } from "../lib/api";
import { pageHref, useNavLink, type Page } from "../lib/nav";
import type { Session } from "../lib/types";
import { Badge } from "./ui/badge";
import { Button } from "./ui/button";
import { cn } from "./ui/cn";

function NavLink({ page, current, children }: { page: Page; current: Page; children: React.ReactNode }) {
  const onClick = useNavLink(page);
  return (
    <a
      href={pageHref(window.location.search, page)}
      onClick={onClick}
      className={cn("topnav-link", page === current && "is-active")}
      aria-current={page === current ? "page" : undefined}
      data-testid={`nav-${page}`}
    >
      {children}
    </a>
  );
}

/**
 * The header: brand, the pages this admin may open, the server's reporting
 * zone and today (every day on the dashboard is counted there), and the
 * signed-in admin.
 */
export function TopBar({ session, page, today, zone }: { session: Session; page: Page; today: Date; zone: string | null }) {
  const [busy, setBusy] = useState(false);
  const signOut = async () => {
    setBusy(true);
    try {
      await postJSON("/logout", {});
    } catch (err) {
      // Already signed out is fine; anything else still ends here.
      if (!(err instanceof ApiError)) throw err;
    }
    window.location.assign("/login");
  };
  const isOwner = session.permissions.includes("MANAGE_ADMINS");
  return (
    <header className="topbar">
      <div className="topbar-inner">
        <a className="brand" href="/admin/analytics">
          <span className="brand-mark" aria-hidden="true">
            <AudioLines size={18} />
          </span>
          <span className="brand-name">
            CodeStory <span className="brand-sub">Analytics</span>
          </span>
        </a>
        <div className="topbar-user">
          <span className="user-email-top" title={session.email}>
            {session.email}
          </span>
          <Badge tone={session.role === "owner" ? "accent" : "neutral"} data-testid="role-badge">
            {session.role}
          </Badge>
          <Button variant="ghost" size="sm" onClick={signOut} disabled={busy} aria-label="Sign out">
            <LogOut size={16} aria-hidden="true" />
            <span className="hide-sm">Sign out</span>
          </Button>
        </div>
      </div>
      <div className="topnav-inner">
        <nav className="topnav" aria-label="Pages">
          <NavLink page="analytics" current={page}>
            <BarChart3 size={15} aria-hidden="true" />
            Analytics
          </NavLink>
          <NavLink page="prices" current={page}>
            <Tags size={15} aria-hidden="true" />
            Prices
          </NavLink>
          <NavLink page="budgets" current={page}>
            <Wallet size={15} aria-hidden="true" />
            Budgets
          </NavLink>
          {isOwner && (
            <NavLink page="admins" current={page}>
              <UserCog size={15} aria-hidden="true" />
              Admins
            </NavLink>
          )}
        </nav>
        <p
          className="server-clock"
          data-testid="server-clock"
          title="Days are counted in the server's reporting time zone, not your browser's"
        >
          <Globe size={14} aria-hidden="true" />
          <span className="hide-sm">Reporting zone</span>
          <strong data-testid="server-timezone">{zone ?? "server time"}</strong>
          <span className="dot" aria-hidden="true">
            ·
          </span>
          <span>
            <span className="hide-sm">today </span>
            <time dateTime={format(today, "yyyy-MM-dd")} data-testid="server-today">
              {format(today, "MMM d")}
            </time>
          </span>
        </p>
      </div>
    </header>
  );
}
