import type { HTMLAttributes } from "react";
import { cn } from "./cn";

type Tone = "neutral" | "success" | "danger" | "warning" | "accent";

export function Badge({ tone = "neutral", className, ...p }: HTMLAttributes<HTMLSpanElement> & { tone?: Tone }) {
  return <span className={cn("badge", `badge-${tone}`, className)} {...p} />;
}
