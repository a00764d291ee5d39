import type { CSSProperties } from "react";
import { cn } from "./cn";

/** A shimmering placeholder while data loads. */
export function Skeleton({ className, width, height }: { className?: string; width?: CSSProperties["width"]; height?: CSSProperties["height"] }) {
  return <span aria-hidden="true" className={cn("skeleton", className)} style={{ width, height }} />;
}
