// TanStack Query hooks, one per API endpoint. Keys include the range so a
// shared URL and the back button hit the cache instead of the rate limit.
import { keepPreviousData, useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { getJSON, rangeParams } from "./api";
import type { DayRange } from "./dateRange";
import type {
  AdminAccount,
  AdminToken,
  AnomalyList,
  AuditPage,
  Budget,
  BudgetAlert,
  BudgetStatus,
  CohortGranularity,
  Cohorts,
  Economics,
  EconomicsSort,
  CostBreakdown,
  DashboardMetrics,
  Engagement,
  IngestKey,
  PriceCatalog,
  Session,
  SortOrder,
  StoryCosts,
  TopUser,
  TopUsersSort,
  UserGrowth,
} from "./types";

export function useSession(opts: { allowSignedOut?: boolean; refresh?: boolean } = {}) {
  return useQuery({
    queryKey: ["session"],
    queryFn: () => getJSON<Session>("/api/session"),
    staleTime: Infinity,
    // The session carries the server's today: asking again now and then
    // keeps a dashboard left open overnight on the right day (sessions do
    // not slide, so this does not keep one alive).
    refetchInterval: opts.refresh ? SESSION_REFRESH_MS : false,
    meta: { allowSignedOut: opts.allowSignedOut ?? false },
  });
}

export const SESSION_REFRESH_MS = 10 * 60_000;

export function useDashboard(range: DayRange, enabled: boolean) {
  return useQuery({
    queryKey: ["dashboard", range.start, range.end],
    queryFn: () => getJSON<DashboardMetrics>("/admin/analytics/dashboard", rangeParams(range)),
    enabled,
    placeholderData: keepPreviousData,
  });
}

export function useCosts(range: DayRange, enabled: boolean) {
  return useQuery({
    queryKey: ["costs", range.start, range.end],
    queryFn: () => getJSON<CostBreakdown>("/admin/analytics/costs", rangeParams(range)),
    enabled,
    placeholderData: keepPreviousData,
  });
}

export function useGrowth(range: DayRange, enabled: boolean) {
  return useQuery({
    queryKey: ["growth", range.start, range.end],
    queryFn: () => getJSON<UserGrowth>("/admin/analytics/users/growth", rangeParams(range)),
    enabled,
    placeholderData: keepPreviousData,
  });
}

/** DAU, WAU, MAU and stickiness per day (issue 13); asked for by the Users tab only. */
export function useEngagement(range: DayRange, enabled: boolean) {
  return useQuery({
    queryKey: ["engagement", range.start, range.end],
    queryFn: () => getJSON<Engagement>("/admin/analytics/engagement", rangeParams(range)),
    enabled,
    placeholderData: keepPreviousData,
  });
}

export const TOP_USERS_LIMIT = 10;

export function useTopUsers(range: DayRange, sortBy: TopUsersSort, enabled: boolean) {
  return useQuery({
    queryKey: ["top-users", range.start, range.end, sortBy],
    queryFn: () =>
      getJSON<TopUser[]>("/admin/analytics/users/top", { ...rangeParams(range), limit: TOP_USERS_LIMIT, sort_by: sortBy }),
    enabled,
    placeholderData: keepPreviousData,
  });
}

/** Users per page of the P&L table. */
export const ECONOMICS_PAGE_SIZE = 25;

/** One page of the per-user P&L (issue 13); `cursor` is the previous page's next_cursor, null for the first. */
export function useUserEconomics(
  range: DayRange,
  sortBy: EconomicsSort,
  order: SortOrder,
  cursor: string | null,
  enabled: boolean,
) {
  return useQuery({
    queryKey: ["economics", range.start, range.end, sortBy, order, cursor ?? ""],
    queryFn: () =>
      getJSON<Economics>("/admin/analytics/users/economics", {
        ...rangeParams(range),
        sort_by: sortBy,
        order,
        limit: ECONOMICS_PAGE_SIZE,
        cursor,
      }),
    enabled,
    // "Previous" shows the cached page without asking again (the app's
    // default too; stated here because paging back must not spend the
    // 30-a-minute rate limit).
    staleTime: 60_000,
    placeholderData: keepPreviousData,
  });
}

/** How many of the most expensive stories the Stories section lists. */
export const TOP_STORIES_LIMIT = 10;

export function useStoryCosts(range: DayRange, enabled: boolean) {
  return useQuery({
    queryKey: ["stories", range.start, range.end],
    queryFn: () => getJSON<StoryCosts>("/admin/analytics/stories", { ...rangeParams(range), limit: TOP_STORIES_LIMIT }),
    enabled,
    placeholderData: keepPreviousData,
  });
}

export function useCohorts(range: DayRange, period: CohortGranularity, enabled: boolean) {
  return useQuery({
    queryKey: ["cohorts", range.start, range.end, period],
    queryFn: () => getJSON<Cohorts>("/admin/analytics/cohorts", { ...rangeParams(range), period }),
    enabled,
    placeholderData: keepPreviousData,
  });
}

export const AUDIT_PAGE_SIZE = 50;

export function useAudit(filter: { admin: string; action: string }, enabled: boolean) {
  return useInfiniteQuery({
    queryKey: ["audit", filter.admin, filter.action],
    queryFn: ({ pageParam }) =>
      getJSON<AuditPage>("/admin/audit", {
        admin: filter.admin,
        action: filter.action,
        limit: AUDIT_PAGE_SIZE,
        before: pageParam,
      }),
    initialPageParam: null as string | number | null,
    getNextPageParam: (last) => last.next_before ?? undefined,
    enabled,
    staleTime: 10_000,
  });
}

/** The price catalog and the models that still have unpriced calls. */
export function usePrices() {
  return useQuery({
    queryKey: ["prices"],
    queryFn: () => getJSON<PriceCatalog>("/admin/prices"),
    staleTime: 10_000,
  });
}

/** Queries whose figures a price change or a reprice can change. */
export const PRICED_QUERY_KEYS = [
  ["prices"],
  ["dashboard"],
  ["costs"],
  ["growth"],
  ["top-users"],
  ["economics"],
  ["stories"],
  ["cohorts"],
  ["anomalies"],
  ["budget-status"],
] as const;

export function useAdmins(enabled = true) {
  return useQuery({
    queryKey: ["admins"],
    queryFn: () => getJSON<{ admins: AdminAccount[] }>("/admin/admins"),
    enabled,
    staleTime: 10_000,
  });
}

export function useTokens(enabled = true) {
  return useQuery({
    queryKey: ["tokens"],
    queryFn: () => getJSON<{ tokens: AdminToken[] }>("/admin/tokens"),
    enabled,
    staleTime: 10_000,
  });
}

export function useIngestKeys(enabled = true) {
  return useQuery({
    queryKey: ["ingest-keys"],
    queryFn: () => getJSON<{ ingest_keys: IngestKey[] }>("/admin/ingest-keys"),
    enabled,
    staleTime: 10_000,
  });
}

// Budgets (issue 12). Every admin role reads them; each call counts against
// the admin's 30 a minute, so the page refreshes on demand and after changes,
// not on a timer.

export function useBudgets() {
  return useQuery({
    queryKey: ["budgets"],
    queryFn: () => getJSON<{ budgets: Budget[] }>("/admin/budgets"),
    staleTime: 10_000,
  });
}

export function useBudgetStatus(id: number) {
  return useQuery({
    queryKey: ["budget-status", id],
    queryFn: () => getJSON<BudgetStatus>(`/admin/budgets/${id}/status`),
    staleTime: 10_000,
  });
}

export const ALERTS_LIMIT = 100;

export function useAlerts() {
  return useQuery({
    queryKey: ["alerts"],
    queryFn: () => getJSON<{ alerts: BudgetAlert[] }>("/admin/alerts", { limit: ALERTS_LIMIT }),
    staleTime: 10_000,
  });
}

/** Everything the Budgets page shows: refetched together by its Refresh button and after a change. */
export const BUDGET_QUERY_KEYS = [["budgets"], ["budget-status"], ["alerts"]] as const;

export function useAnomalies(range: DayRange, enabled: boolean) {
  return useQuery({
    queryKey: ["anomalies", range.start, range.end],
    queryFn: () => getJSON<AnomalyList>("/admin/anomalies", rangeParams(range)),
    enabled,
    placeholderData: keepPreviousData,
  });
}
