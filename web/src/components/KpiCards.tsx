import type { ReactNode } from "react";
import { DollarSign, FileAudio, TrendingDown, TrendingUp, Users } from "lucide-react";
import { formatCents, formatInt, formatMinutes, formatPercent, formatUSD } from "../lib/format";
import type { CostBreakdown, DashboardMetrics, UserGrowth } from "../lib/types";
import { Skeleton } from "./ui/skeleton";
import { cn } from "./ui/cn";

function Kpi({
  id,
  title,
  icon,
  tone,
  value,
  sub,
}: {
  id: string;
  title: string;
  icon: ReactNode;
  tone: string;
  value: ReactNode;
  sub: ReactNode;
}) {
  return (
    <section className="card kpi" aria-labelledby={`kpi-${id}-title`} data-testid={`kpi-${id}`}>
      <div className="kpi-head">
        <h3 id={`kpi-${id}-title`} className="kpi-title">
          {title}
        </h3>
        <span className={cn("kpi-icon", `tone-${tone}`)} aria-hidden="true">
          {icon}
        </span>
      </div>
      <div className="kpi-value" data-testid={`kpi-${id}-value`}>
        {value || <Skeleton width="60%" height={32} />}
      </div>
      <div className="kpi-sub">{sub || <Skeleton width="45%" height={14} />}</div>
    </section>
  );
}

/** The seed's four KPI cards. Each figure appears as soon as its query has it. */
export function KpiCards({
  dashboard,
  costs,
  growth,
}: {
  dashboard?: DashboardMetrics;
  costs?: CostBreakdown;
  growth?: UserGrowth;
}) {
  const t = dashboard?.totals;
  const rate = growth?.growth_rate;
  const margin = t?.profit_margin;
  return (
    <div className="kpi-grid">
      <Kpi
        id="new-users"
        title="New Users"
        tone="indigo"
        icon={<Users size={18} />}
        value={t && formatInt(t.new_users)}
        sub={
          rate != null && (
            <>
              <span className={cn("delta", rate > 0 && "is-up", rate < 0 && "is-down")} data-testid="kpi-new-users-sub">
                {rate >= 0 ? <TrendingUp size={14} aria-hidden="true" /> : <TrendingDown size={14} aria-hidden="true" />}
                {formatPercent(rate, { signed: true })}
              </span>{" "}
              growth
            </>
          )
        }
      />
      <Kpi
        id="stories"
        title="Stories Created"
        tone="violet"
        icon={<FileAudio size={18} />}
        value={t && formatInt(t.stories_created)}
        sub={t && <span data-testid="kpi-stories-sub">{formatMinutes(t.total_audio_minutes)} audio</span>}
      />
      <Kpi
        id="cost"
        title="Total Cost"
        tone="rose"
        icon={<DollarSign size={18} />}
        value={t && formatCents(t.total_cost_cents)}
        sub={
          costs && (
            <span data-testid="kpi-cost-sub">
              {formatUSD(costs.breakdown.anthropic.cost_dollars)} Anthropic
              <span className="muted"> · {formatPercent(costs.breakdown.anthropic.percentage)}</span>
            </span>
          )
        }
      />
      <Kpi
        id="revenue"
        title="Revenue"
        tone="emerald"
        icon={<TrendingUp size={18} />}
        value={t && formatCents(t.revenue_cents)}
        sub={
          margin != null && (
            <>
              <span className={cn("delta", margin > 0 && "is-up", margin < 0 && "is-down")} data-testid="kpi-revenue-sub">
                {formatPercent(margin)}
              </span>{" "}
              margin
            </>
          )
        }
      />
    </div>
  );
}
