// Pages of the dashboard, kept in the URL next to the analytics view:
// /admin/analytics?page=prices&start=…&end=… (the server serves index.html
// only at /admin/analytics, so a page is a query parameter, not a path).
// Switching pages keeps the range, so coming back shows the same numbers.
import { useCallback, useEffect, useState, type MouseEvent } from "react";

export type Page = "analytics" | "prices" | "budgets" | "admins";
export const PAGES: Page[] = ["analytics", "prices", "budgets", "admins"];

/** Parameters that belong to one page only, dropped when leaving it. */
const PAGE_PARAMS: Record<Page, string[]> = {
  analytics: [],
  prices: ["service", "model", "since", "until"],
  budgets: [],
  admins: [],
};

export function readPage(search: string): Page {
  const p = new URLSearchParams(search).get("page");
  return PAGES.find((x) => x === p) ?? "analytics";
}

/** The URL of a page, keeping the range (and tab) of the current one. */
export function pageHref(search: string, page: Page, params: Record<string, string | undefined> = {}): string {
  const q = new URLSearchParams(search);
  for (const ps of Object.values(PAGE_PARAMS)) for (const k of ps) q.delete(k);
  if (page === "analytics") q.delete("page");
  else q.set("page", page);
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return `/admin/analytics${s ? `?${s}` : ""}`;
}

const NAV_EVENT = "analytics:navigate";

/** Goes to a page without reloading (Back returns). */
export function navigate(page: Page, params: Record<string, string | undefined> = {}) {
  window.history.pushState(null, "", pageHref(window.location.search, page, params));
  window.dispatchEvent(new Event(NAV_EVENT));
  window.scrollTo({ top: 0 });
}

/** The current page; follows navigate() and Back/Forward. */
export function usePage(): Page {
  const [page, setPage] = useState(() => readPage(window.location.search));
  useEffect(() => {
    const on = () => setPage(readPage(window.location.search));
    window.addEventListener("popstate", on);
    window.addEventListener(NAV_EVENT, on);
    return () => {
      window.removeEventListener("popstate", on);
      window.removeEventListener(NAV_EVENT, on);
    };
  }, []);
  return page;
}

/** onClick for a link to a page: a plain click stays in the app, ctrl/middle-click opens a tab. */
export function useNavLink(page: Page, params: Record<string, string | undefined> = {}) {
  const key = JSON.stringify(params);
  return useCallback(
    (e: MouseEvent<HTMLAnchorElement>) => {
      if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      e.preventDefault();
      navigate(page, JSON.parse(key) as Record<string, string | undefined>);
    },
    [page, key],
  );
}
