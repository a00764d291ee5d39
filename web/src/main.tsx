import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import "./fonts.css";
import "react-day-picker/style.css";
import "./styles.css";
import { ApiError, redirectToLogin } from "./lib/api";
import { LoginPage } from "./pages/LoginPage";
import { DashboardApp } from "./pages/DashboardApp";

// An expired session anywhere sends the operator back to /login (and then
// back here). The login page's own session probe is allowed to be signed out.
function onError(err: unknown, meta: Record<string, unknown> | undefined) {
  if (err instanceof ApiError && err.status === 401 && !meta?.allowSignedOut) redirectToLogin();
}

const client = new QueryClient({
  queryCache: new QueryCache({ onError: (err, q) => onError(err, q.meta) }),
  mutationCache: new MutationCache({ onError: (err, _v, _c, m) => onError(err, m.meta) }),
  defaultOptions: {
    queries: {
      staleTime: 60_000,
      gcTime: 10 * 60_000,
      refetchOnWindowFocus: false,
      // 4xx answers (bad range, 401/403, 429) will not change by asking again.
      retry: (n, err) => !(err instanceof ApiError && err.status >= 400 && err.status < 500) && n < 2,
    },
  },
});

const isLogin = window.location.pathname.replace(/\/+$/, "") === "/login";

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={client}>{isLogin ? <LoginPage /> : <DashboardApp />}</QueryClientProvider>
  </StrictMode>,
);
