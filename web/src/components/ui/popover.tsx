import { useEffect, useRef, type ReactNode, type RefObject } from "react";
import { cn } from "./cn";

/**
 * A popover anchored under its trigger. Closes on Escape and on a click
 * outside both the trigger and the panel; focus returns to the trigger.
 */
export function Popover({
  open,
  onOpenChange,
  trigger,
  children,
  align = "end",
  className,
  label,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  trigger: (ref: RefObject<HTMLButtonElement | null>) => ReactNode;
  children: ReactNode;
  align?: "start" | "end";
  className?: string;
  label: string;
}) {
  const triggerRef = useRef<HTMLButtonElement>(null);
  const panelRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      const t = e.target as Node;
      if (panelRef.current?.contains(t) || triggerRef.current?.contains(t)) return;
      onOpenChange(false);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") {
        onOpenChange(false);
        triggerRef.current?.focus();
      }
    };
    document.addEventListener("mousedown", onDown);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("mousedown", onDown);
      document.removeEventListener("keydown", onKey);
    };
  }, [open, onOpenChange]);

  return (
    <div className="popover-anchor">
      {trigger(triggerRef)}
      {open && (
        <div ref={panelRef} role="dialog" aria-label={label} className={cn("popover", `popover-${align}`, className)}>
          {children}
        </div>
      )}
    </div>
  );
}
