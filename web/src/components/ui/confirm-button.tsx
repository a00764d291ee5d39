import { useEffect, useRef, useState, type ReactNode } from "react";
import { Loader2 } from "lucide-react";
import { Button } from "./button";

/**
 * A destructive action in two clicks: the first arms it (and says exactly
 * what will happen), the second does it. No window.confirm (it blocks the
 * page and cannot be styled or read by a screen reader in context).
 */
export function ConfirmButton({
  children,
  confirm,
  onConfirm,
  busy,
  disabled,
  label,
  testId,
}: {
  children: ReactNode;
  /** The armed button's text, e.g. "Delete admin". */
  confirm: string;
  onConfirm: () => void;
  busy?: boolean;
  disabled?: boolean;
  /** Accessible name of the first button, e.g. "Delete a@x.test". */
  label?: string;
  testId?: string;
}) {
  const [armed, setArmed] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (armed) confirmRef.current?.focus();
  }, [armed]);
  if (busy) {
    return (
      <Button variant="outline" size="sm" disabled aria-label={label}>
        <Loader2 size={14} className="spin" aria-hidden="true" />
        {children}
      </Button>
    );
  }
  if (!armed) {
    return (
      <Button variant="outline" size="sm" onClick={() => setArmed(true)} disabled={disabled} aria-label={label} data-testid={testId}>
        {children}
      </Button>
    );
  }
  return (
    <span className="confirm-group" role="group" aria-label={label ? `Confirm: ${label}` : "Confirm"}>
      <Button
        ref={confirmRef}
        variant="primary"
        size="sm"
        className="btn-danger"
        onClick={() => {
          setArmed(false);
          onConfirm();
        }}
        data-testid={testId ? `${testId}-confirm` : undefined}
      >
        {confirm}
      </Button>
      <Button variant="ghost" size="sm" onClick={() => setArmed(false)}>
        Cancel
      </Button>
    </span>
  );
}
