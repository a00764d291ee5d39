import { useCallback, useEffect, useMemo, useState } from "react";
import { BarChart3, DollarSign, Loader2, ScrollText, Sparkles, Users } from "lucide-react";
import {
  describeRange,
  rangeDays,
  rangeFromSearch,
  searchWithRange,
  type DayRange,
} from "../lib/dateRange";
import { formatInt } from "../lib/format";
import { navigate } from "../lib/nav";
import { useAnomalies, useCosts, useDashboard, useGrowth } from "../lib/queries";
import type { Session, TopUsersSort } from "../lib/types";
import { DateRangePicker } from "../components/DateRangePicker";
import { ExportMenu } from "../components/ExportMenu";
import { ErrorState } from "../components/ErrorState";
import { KpiCards } from "../components/KpiCards";
import { UnpricedWarning } from "../components/UnpricedWarning";
import { Alert } from "../components/ui/alert";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "../components/ui/tabs";
import { cn } from "../components/ui/cn";
import { UsageTab } from "../tabs/UsageTab";
import { CostsTab } from "../tabs/CostsTab";
import { UsersTab } from "../tabs/UsersTab";
import { AuditTab } from "../tabs/AuditTab";
import { AskTab, useAsk } from "../tabs/AskTab";

type Tab = "usage" | "costs" | "users" | "audit" | "ask";
const TABS: Tab[] = ["usage", "costs", "users", "audit", "ask"];
const SORTS: TopUsersSort[] = ["cost", "stories", "api_calls"];

interface View {
  range: DayRange;
  rangeError: string | null;
  tab: Tab;
  sort: TopUsersSort;
}

function readView(today: Date): View {
  const search = window.location.search;
  const { range, error } = rangeFromSearch(search, today);
  const q = new URLSearchParams(search);
  const tab = TABS.find((t) => t === q.get("tab")) ?? "usage";
  const sort = SORTS.find((s) => s === q.get("sort")) ?? "cost";
  return { range, rangeError: error, tab, sort };
}

function writeView(v: View, mode: "push" | "replace") {
  let search = searchWithRange(window.location.search, v.range);
  const q = new URLSearchParams(search);
  if (v.tab === "usage") q.delete("tab");
  else q.set("tab", v.tab);
  if (v.sort === "cost") q.delete("sort");
  else q.set("sort", v.sort);
  search = `?${q.toString()}`;
  if (search === window.location.search) return;
  const url = window.location.pathname + search;
  if (mode === "push") window.history.pushState(null, "", url);
  else window.history.replaceState(null, "", url);
}

/**
 * The view lives in the URL (?start&end, plus tab and sort), so a link
 * shows a colleague the same numbers, and Back returns to the last range.
 */
function useView(today: Date) {
  const [view, setView] = useState(() => readView(today));
  useEffect(() => {
    writeView(view, "replace");
    const onPop = () => setView(readView(today));
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [today]);
  const update = useCallback((patch: Partial<View>, mode: "push" | "replace" = "push") => {
    setView((v) => {
      const next = { ...v, ...patch };
      writeView(next, mode);
      return next;
    });
  }, []);
  return [view, update] as const;
}

/** The analytics view. `today` is the server's (see lib/clock.ts), never the browser's. */
export function AnalyticsPage({ session, today, zone }: { session: Session; today: Date; zone: string | null }) {
  const [view, update] = useView(today);
  const { range, rangeError } = view;
  const canExport = session.permissions.includes("EXPORT_DATA");
  const canAudit = session.permissions.includes("VIEW_AUDIT");
  const canPrice = session.permissions.includes("MANAGE_PRICES");
  const tab: Tab = view.tab === "audit" && !canAudit ? "usage" : view.tab;

  const askState = useAsk();
  const ok = rangeError == null;
  const dashboard = useDashboard(range, ok);
  const costs = useCosts(range, ok);
  const growth = useGrowth(range, ok);
  const anomalies = useAnomalies(range, ok && tab === "costs");

  const coreError = dashboard.error ?? costs.error ?? growth.error;
  const refetchAll = () => {
    void dashboard.refetch();
    void costs.refetch();
    void growth.refetch();
  };
  const updating =
    ok && !coreError && (dashboard.isPlaceholderData || costs.isPlaceholderData || growth.isPlaceholderData);
  const loading = ok && !coreError && (dashboard.isFetching || costs.isFetching || growth.isFetching);

  const unpricedCalls = Math.max(dashboard.data?.totals.unpriced_calls ?? 0, costs.data?.unpriced_calls ?? 0);
  const unpricedModels = useMemo(
    () => (costs.data?.by_model ?? []).filter((m) => m.unpriced_calls > 0).map((m) => ({ service: m.service, model: m.model })),
    [costs.data],
  );

  useEffect(() => {
    document.title = `Analytics · ${describeRange(range)} · CodeStory`;
  }, [range]);

  return (
    <main className="page">
      <div className="page-header">
        <div className="page-heading">
          <h1>Analytics</h1>
          <p className="subtitle">
            {describeRange(range)}
            {ok && (
              <>
                <span className="dot" aria-hidden="true">·</span>
                {formatInt(rangeDays(range))} days
              </>
            )}
            {(zone ?? dashboard.data?.period.timezone) && (
              <>
                <span className="dot" aria-hidden="true">·</span>
                <span data-testid="range-timezone">{zone ?? dashboard.data?.period.timezone}</span>
              </>
            )}
            {loading && (
              <span className="updating" role="status">
                <Loader2 size={14} className="spin" aria-hidden="true" /> Updating
              </span>
            )}
          </p>
        </div>
        <div className="page-actions">
          <DateRangePicker range={range} today={today} onChange={(r) => update({ range: r, rangeError: null })} />
          {canExport && <ExportMenu range={range} disabled={!ok} />}
        </div>
      </div>

      {!ok ? (
        <Alert tone="danger" title={rangeError} data-testid="range-refusal">
          Nothing was requested. Choose a range that ends on or after its start and spans at most 365 days.
        </Alert>
      ) : coreError ? (
        <ErrorState error={coreError} onRetry={refetchAll} />
      ) : (
        <div className={cn("content", updating && "is-stale")} aria-busy={loading}>
          <KpiCards dashboard={dashboard.data} costs={costs.data} growth={growth.data} />
          <UnpricedWarning
            calls={unpricedCalls}
            models={unpricedModels}
            canPrice={canPrice}
            onPrice={(m) => navigate("prices", { service: m.service, model: m.model, since: range.start, until: range.end })}
            onShow={tab === "costs" ? undefined : () => update({ tab: "costs" })}
          />
          <Tabs id="analytics" value={tab} onValueChange={(t) => update({ tab: t as Tab }, "replace")}>
            <TabsList label="Analytics views">
              <TabsTrigger value="usage">
                <BarChart3 size={16} aria-hidden="true" />
                Usage
              </TabsTrigger>
              <TabsTrigger value="costs">
                <DollarSign size={16} aria-hidden="true" />
                Costs
              </TabsTrigger>
              <TabsTrigger value="users">
                <Users size={16} aria-hidden="true" />
                Users
              </TabsTrigger>
              {canAudit && (
                <TabsTrigger value="audit">
                  <ScrollText size={16} aria-hidden="true" />
                  Audit
                </TabsTrigger>
              )}
              <TabsTrigger value="ask">
                <Sparkles size={16} aria-hidden="true" />
                Ask
              </TabsTrigger>
            </TabsList>
            <TabsContent value="usage">
              <UsageTab dashboard={dashboard.data} />
            </TabsContent>
            <TabsContent value="costs">
              <CostsTab costs={costs.data} anomalies={anomalies.data?.anomalies} anomalyError={anomalies.error} today={today} />
            </TabsContent>
            <TabsContent value="users">
              <UsersTab growth={growth.data} range={range} sortBy={view.sort} onSortBy={(s) => update({ sort: s }, "replace")} />
            </TabsContent>
            {canAudit && (
              <TabsContent value="audit">
                <AuditTab />
              </TabsContent>
            )}
            <TabsContent value="ask">
              <AskTab state={askState} />
            </TabsContent>
          </Tabs>
        </div>
      )}
    </main>
  );
}
