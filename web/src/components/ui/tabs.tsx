import { createContext, useContext, useRef, type KeyboardEvent, type ReactNode } from "react";
import { cn } from "./cn";

interface TabsCtx {
  value: string;
  setValue: (v: string) => void;
  id: string;
}
const Ctx = createContext<TabsCtx | null>(null);

function useTabs() {
  const c = useContext(Ctx);
  if (!c) throw new Error("Tabs parts must be inside <Tabs>");
  return c;
}

/** Controlled tabs; only the active panel is mounted. */
export function Tabs({ value, onValueChange, id, children, className }: {
  value: string;
  onValueChange: (v: string) => void;
  id: string;
  children: ReactNode;
  className?: string;
}) {
  return (
    <Ctx.Provider value={{ value, setValue: onValueChange, id }}>
      <div className={cn("tabs", className)}>{children}</div>
    </Ctx.Provider>
  );
}

export function TabsList({ children, label }: { children: ReactNode; label: string }) {
  const ref = useRef<HTMLDivElement>(null);
  // Arrow keys move between tabs, as the WAI-ARIA tabs pattern asks.
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
    const tabs = Array.from(ref.current?.querySelectorAll<HTMLButtonElement>('[role="tab"]') ?? []);
    const i = tabs.findIndex((t) => t === document.activeElement);
    if (i < 0) return;
    const next = tabs[(i + (e.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
    next.focus();
    next.click();
    e.preventDefault();
  };
  return (
    <div ref={ref} role="tablist" aria-label={label} className="tabs-list" onKeyDown={onKeyDown}>
      {children}
    </div>
  );
}

export function TabsTrigger({ value, children }: { value: string; children: ReactNode }) {
  const t = useTabs();
  const active = t.value === value;
  return (
    <button
      type="button"
      role="tab"
      id={`${t.id}-tab-${value}`}
      aria-selected={active}
      aria-controls={`${t.id}-panel-${value}`}
      tabIndex={active ? 0 : -1}
      className={cn("tabs-trigger", active && "is-active")}
      onClick={() => t.setValue(value)}
    >
      {children}
    </button>
  );
}

export function TabsContent({ value, children }: { value: string; children: ReactNode }) {
  const t = useTabs();
  if (t.value !== value) return null;
  return (
    <div role="tabpanel" id={`${t.id}-panel-${value}`} aria-labelledby={`${t.id}-tab-${value}`} className="tabs-content">
      {children}
    </div>
  );
}
