import { AlertTriangle } from "lucide-react";
import { formatInt } from "../lib/format";
import { Alert } from "./ui/alert";

/** Calls to models without a price are costed at $0: say so, loudly. */
export function UnpricedWarning({ calls, models, onShow }: { calls: number; models: string[]; onShow?: () => void }) {
  if (calls <= 0) return null;
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
          ({models.slice(0, 4).join(", ")}
          {models.length > 4 ? `, +${models.length - 4} more` : ""})
        </>
      )}
      . Add their prices to the catalog, then rebuild.
      {onShow && (
        <>
          {" "}
          <button type="button" className="link" onClick={onShow}>
            See models
          </button>
        </>
      )}
    </Alert>
  );
}
