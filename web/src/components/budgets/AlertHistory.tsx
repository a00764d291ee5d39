import { formatWhen } from "../../lib/admins";
import { dollars } from "../../lib/budgets";
import { formatInt, formatUSD } from "../../lib/format";
import { serviceName } from "../../lib/services";
import type { BudgetAlert, Delivery, DeliveryState } from "../../lib/types";
import { Badge } from "../ui/badge";
import { shortDay } from "./BudgetCard";

const STATE_TONE: Record<DeliveryState, "success" | "warning" | "danger"> = {
  delivered: "success",
  pending: "warning",
  failed: "danger",
};

/** "Threshold 80%" or "Anomaly: ElevenLabs on Nov 12", with the figures the webhook body carried. */
function What({ a }: { a: BudgetAlert }) {
  const data = (a.body?.data ?? {}) as Record<string, unknown>;
  if (a.type === "cost.anomaly") {
    return (
      <>
        <span className="strong">Cost anomaly</span>{" "}
        <span className="muted">
          {serviceName(a.service)} on {shortDay(String(data.date ?? a.period_start))}
          {typeof data.cost_dollars === "string" && <> · {formatUSD(dollars(data.cost_dollars))}</>}
        </span>
      </>
    );
  }
  return (
    <>
      <span className="strong" data-testid="alert-threshold">
        {a.threshold_percent}%
      </span>{" "}
      <span className="muted">
        {typeof data.spend_dollars === "string" && <>spend {formatUSD(dollars(data.spend_dollars))}</>}
        {typeof data.amount_dollars === "string" && <> of {formatUSD(dollars(data.amount_dollars))}</>}
      </span>
    </>
  );
}

function DeliveryLine({ d, zone }: { d: Delivery; zone: string | null }) {
  const last = d.attempt_log && d.attempt_log.length > 0 ? d.attempt_log[d.attempt_log.length - 1] : null;
  return (
    <li className="delivery" data-testid="alert-delivery" data-state={d.state} data-attempts={d.attempts} data-url={d.url}>
      <Badge tone={STATE_TONE[d.state] ?? "neutral"} data-testid="delivery-state">
        {d.state}
      </Badge>
      <span className="delivery-url" title={d.url}>
        {d.url}
      </span>
      <span className="muted nowrap" data-testid="delivery-attempts">
        {formatInt(d.attempts)} {d.attempts === 1 ? "attempt" : "attempts"}
        {last && last.status_code > 0 && <> · HTTP {last.status_code}</>}
      </span>
      {d.state === "delivered" && d.delivered_at && (
        <span className="muted nowrap">delivered {formatWhen(d.delivered_at, "", zone)}</span>
      )}
      {d.state === "pending" && d.next_attempt_at && (
        <span className="muted nowrap">next try {formatWhen(d.next_attempt_at, "", zone)}</span>
      )}
      {d.last_error && d.state !== "delivered" && <span className="delivery-error">{d.last_error}</span>}
    </li>
  );
}

/** GET /admin/alerts, newest first: what fired, for whom, and how each webhook delivery went. */
export function AlertHistory({ alerts, zone }: { alerts: BudgetAlert[]; zone: string | null }) {
  if (alerts.length === 0) {
    return <p className="empty">No alerts yet. An alert is made when a budget's spend crosses one of its thresholds.</p>;
  }
  return (
    <div className="table-scroll">
      <table className="table alerts-table" data-testid="alerts-table">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Budget</th>
            <th scope="col">Alert</th>
            <th scope="col">Period</th>
            <th scope="col">Deliveries</th>
          </tr>
        </thead>
        <tbody>
          {alerts.map((a) => (
            <tr
              key={a.id}
              data-testid="alert-row"
              data-alert-id={a.id}
              data-budget-id={a.budget_id}
              data-budget-name={a.budget_name}
              data-threshold={a.threshold_percent}
            >
              <td className="nowrap">{formatWhen(a.created_at, "", zone)}</td>
              <td>
                <div className="strong">{a.budget_name}</div>
                {a.user_id && <div className="model-service">user {a.user_id}</div>}
              </td>
              <td>
                <What a={a} />
              </td>
              <td className="nowrap">
                {a.period_start === a.period_end ? shortDay(a.period_start) : `${shortDay(a.period_start)} – ${shortDay(a.period_end)}`}
              </td>
              <td>
                {a.deliveries && a.deliveries.length > 0 ? (
                  <ul className="deliveries">
                    {a.deliveries.map((d) => (
                      <DeliveryLine key={d.id} d={d} zone={zone} />
                    ))}
                  </ul>
                ) : (
                  <span className="muted">No webhooks</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
