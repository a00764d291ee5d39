import type { Service } from "./types";

/** Display names and chart colors of the paid services, in a fixed order. */
export const SERVICES: ReadonlyArray<{ key: Service; name: string; color: string }> = [
  { key: "anthropic", name: "Anthropic", color: "#d97757" },
  { key: "elevenlabs", name: "ElevenLabs", color: "#6366f1" },
  { key: "s3", name: "S3", color: "#14b8a6" },
];

export function serviceName(s: string): string {
  return SERVICES.find((x) => x.key === s)?.name ?? s;
}

export function serviceColor(s: string): string {
  return SERVICES.find((x) => x.key === s)?.color ?? "#94a3b8";
}

/** Chart palette for non-service series. */
export const CHART = {
  primary: "#4f46e5",
  primarySoft: "#818cf8",
  revenue: "#059669",
  cost: "#e11d48",
  muted: "#94a3b8",
  grid: "#e7e9ef",
  axis: "#6b7280",
};
