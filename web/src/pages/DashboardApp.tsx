import { useEffect, useMemo } from "react";
import { ApiError, setCsrfToken } from "../lib/api";
import { serverToday, serverZone } from "../lib/clock";
import { usePage } from "../lib/nav";
import { useSession } from "../lib/queries";
import type { Session } from "../lib/types";
import { ErrorState } from "../components/ErrorState";
import { ToastProvider } from "../components/Toast";
import { TopBar } from "../components/TopBar";
import { Skeleton } from "../components/ui/skeleton";
import { AnalyticsPage } from "./AnalyticsPage";
import { PricesPage } from "./PricesPage";
import { AdminsPage } from "./AdminsPage";
import { BudgetsPage } from "./BudgetsPage";

/** The header and the page the URL names. Today and the zone are the server's. */
function Shell({ session }: { session: Session }) {
  const asked = usePage();
  const page = asked === "admins" && !session.permissions.includes("MANAGE_ADMINS") ? "analytics" : asked;
  const today = useMemo(() => serverToday(session), [session]);
  const zone = serverZone(session);
  return (
    <div className="app">
      <TopBar session={session} page={page} today={today} zone={zone} />
      {page === "prices" ? (
        <PricesPage session={session} today={today} />
      ) : page === "budgets" ? (
        <BudgetsPage session={session} />
      ) : page === "admins" ? (
        <AdminsPage session={session} />
      ) : (
        <AnalyticsPage session={session} today={today} zone={zone} />
      )}
    </div>
  );
}

/** Loads the session (401 sends the browser to /login), then the page. */
export function DashboardApp() {
  const session = useSession({ refresh: true });
  useEffect(() => {
    if (session.data) setCsrfToken(session.data.csrf_token);
  }, [session.data]);

  if (session.data) {
    return (
      <ToastProvider>
        <Shell session={session.data} />
      </ToastProvider>
    );
  }
  if (session.error && !(session.error instanceof ApiError && session.error.status === 401)) {
    return (
      <main className="center-page">
        <ErrorState error={session.error} onRetry={() => session.refetch()} />
      </main>
    );
  }
  return (
    <main className="center-page" aria-busy="true">
      <Skeleton width={220} height={20} />
    </main>
  );
}
