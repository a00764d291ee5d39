import { useEffect, useState } from "react";
import { AlertTriangle, Clock, Lock, RefreshCw } from "lucide-react";
import { format } from "date-fns";
import { ApiError } from "../lib/api";
import { Button } from "./ui/button";

function useNow(active: boolean) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [active]);
  return now;
}

/** What the operator should read for an API error: the API's reason, always. */
export function describeError(err: unknown): { title: string; detail: string; status: number } {
  if (err instanceof ApiError) {
    switch (err.status) {
      case 429:
        return err.message.startsWith("Rate limit exceeded")
          ? { title: err.message, detail: "", status: 429 }
          : { title: "Rate limit exceeded", detail: err.message, status: 429 };
      case 403:
        return { title: "You don't have access to this", detail: err.message, status: 403 };
      case 400:
        return { title: "The analytics API refused this request", detail: err.message, status: 400 };
      case 401:
        return { title: "Your session has ended", detail: err.message, status: 401 };
      case 0:
        return { title: "Analytics server unreachable", detail: err.message, status: 0 };
      default:
        return { title: "Couldn't load analytics", detail: err.message, status: err.status };
    }
  }
  return { title: "Something went wrong", detail: err instanceof Error ? err.message : String(err), status: -1 };
}

/** An error panel: the API's reason, and for 429 when to try again. */
export function ErrorState({
  error,
  onRetry,
  compact,
  title: otherTitle,
}: {
  error: unknown;
  onRetry?: () => void;
  compact?: boolean;
  /** Replaces the generic title (not the ones for 400/401/403/429). */
  title?: string;
}) {
  const d = describeError(error);
  const { detail, status } = d;
  const title = otherTitle && ![400, 401, 403, 429].includes(status) ? otherTitle : d.title;
  const retryAt = error instanceof ApiError ? error.retryAt : null;
  const now = useNow(retryAt != null);
  const wait = retryAt != null ? Math.max(0, Math.ceil((retryAt - now) / 1000)) : 0;
  const Icon = status === 429 ? Clock : status === 403 ? Lock : AlertTriangle;

  return (
    <div className={compact ? "error-state is-compact" : "error-state"} role="alert" data-testid="error-state">
      <span className="error-state-icon">
        <Icon size={20} aria-hidden="true" />
      </span>
      <div className="error-state-body">
        <p className="error-state-title">{title}</p>
        {detail && <p className="error-state-detail">{detail}</p>}
        {status === 429 && retryAt != null && (
          <p className="error-state-detail" data-testid="retry-after">
            {wait > 0
              ? `You can try again in ${wait} s (at ${format(retryAt, "HH:mm:ss")}).`
              : "You can try again now."}
          </p>
        )}
      </div>
      {onRetry && status !== 401 && status !== 403 && (
        <Button variant="outline" size="sm" onClick={onRetry} disabled={wait > 0}>
          <RefreshCw size={14} aria-hidden="true" />
          Retry
        </Button>
      )}
    </div>
  );
}
