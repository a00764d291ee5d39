import type { HTMLAttributes, ReactNode } from "react";
import { cn } from "./cn";

type Tone = "warning" | "danger" | "info";

export function Alert({
  tone = "info",
  icon,
  title,
  children,
  className,
  ...p
}: Omit<HTMLAttributes<HTMLDivElement>, "title"> & { tone?: Tone; icon?: ReactNode; title?: ReactNode }) {
  return (
    <div role={tone === "info" ? "status" : "alert"} className={cn("alert", `alert-${tone}`, className)} {...p}>
      {icon && <span className="alert-icon">{icon}</span>}
      <div className="alert-body">
        {title && <div className="alert-title">{title}</div>}
        {children && <div className="alert-text">{children}</div>}
      </div>
    </div>
  );
}
