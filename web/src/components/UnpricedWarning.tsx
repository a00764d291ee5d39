import { AlertTriangle, Tags } from "lucide-react";
import { formatInt } from "../lib/format";
import { serviceName } from "../lib/services";
import type { Service } from "../lib/types";
import { Alert } from "./ui/alert";

export interface UnpricedModelRef {
  service: Service;
  model: string;
}

const SHOWN = 4;

/**
 * Calls to models without a price are costed at $0: say so, loudly, and say
 * what to do. An owner gets a way to the Prices page with the model filled
 * in; anyone else learns who can fix it.
 */
export function UnpricedWarning({
  calls,
  models,
  canPrice,
  onPrice,
  onShow,
}: {
  calls: number;
  models: UnpricedModelRef[];
  /** The viewer may add prices and reprice (owners). */
  canPrice: boolean;
  onPrice?: (m: UnpricedModelRef) => void;
  onShow?: () => void;
}) {
  if (calls <= 0) return null;
  const named = models.filter((m) => m.model !== "");
  return (
    <Alert
      tone="warning"
      icon={<AlertTriangle size={18} />}
      title={`${formatInt(calls)} API ${calls === 1 ? "call" : "calls"} used unpriced models`}
      data-testid="unpriced-warning"
    >
      They are counted at $0, so costs in this range are understated
      {models.length > 0 && (
        <>
          {" "}
          ({models.slice(0, SHOWN).map((m) => m.model || "(no model)").join(", ")}
          {models.length > SHOWN ? `, +${models.length - SHOWN} more` : ""})
        </>
      )}
      .{" "}
      {canPrice ? (
        <>Add their prices on the Prices page, then reprice the calls.</>
      ) : (
        <span data-testid="unpriced-ask-owner">Only an owner can add prices and reprice: ask an owner of this dashboard.</span>
      )}
      {onShow && (
        <>
          {" "}
          <button type="button" className="link" onClick={onShow}>
            See models
          </button>
        </>
      )}
      {canPrice && onPrice && named.length > 0 && (
        <span className="alert-actions">
          {named.slice(0, SHOWN).map((m) => (
            <button
              key={`${m.service}/${m.model}`}
              type="button"
              className="btn btn-outline btn-sm"
              onClick={() => onPrice(m)}
              data-testid="unpriced-add-price"
              aria-label={`Add a price for ${m.model} (${serviceName(m.service)})`}
            >
              <Tags size={14} aria-hidden="true" />
              Price {m.model}
            </button>
          ))}
        </span>
      )}
    </Alert>
  );
}
