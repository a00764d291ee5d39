import { useEffect } from "react";
import { ApiError, setCsrfToken } from "../lib/api";
import { useSession } from "../lib/queries";
import { ErrorState } from "../components/ErrorState";
import { ToastProvider } from "../components/Toast";
import { Skeleton } from "../components/ui/skeleton";
import { AnalyticsPage } from "./AnalyticsPage";

/** Loads the session (401 sends the browser to /login), then the page. */
export function DashboardApp() {
  const session = useSession();
  useEffect(() => {
    if (session.data) setCsrfToken(session.data.csrf_token);
  }, [session.data]);

  if (session.data) {
    return (
      <ToastProvider>
        <AnalyticsPage session={session.data} />
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
