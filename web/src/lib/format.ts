// Number and money formatting. Always en-US so the page, the tests and a
// screenshot read the same everywhere.

const LOCALE = "en-US";

const usd = (min: number, max: number) =>
  new Intl.NumberFormat(LOCALE, {
    style: "currency",
    currency: "USD",
    minimumFractionDigits: min,
    maximumFractionDigits: max,
  });

const usd2 = usd(2, 2);
const usdSubDollar = usd(2, 4);
const usdSubCent = usd(2, 6);
const int = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });

/** The smallest amount the API can report: one micro-dollar. */
const MICRO = 0.000_001;

/**
 * Formats an amount in US dollars. Whole-dollar amounts get cents; amounts
 * under a dollar keep up to four decimals and amounts under a cent up to six
 * (the API's micro-dollar precision), so a Claude call that cost $0.0042
 * never reads as $0.00. Zero is "$0.00".
 */
export function formatUSD(dollars: number | null | undefined): string {
  if (dollars == null || !Number.isFinite(dollars)) return "—";
  const a = Math.abs(dollars);
  if (a === 0) return usd2.format(0);
  if (a >= 1) return usd2.format(dollars);
  if (a >= 0.01) return usdSubDollar.format(dollars);
  if (a < MICRO / 2) return dollars < 0 ? "-<$0.000001" : "<$0.000001";
  return usdSubCent.format(dollars);
}

/** Formats an amount given in cents (the API's *_cents fields) as dollars. */
export function formatCents(cents: number | null | undefined): string {
  if (cents == null || !Number.isFinite(cents)) return "—";
  return formatUSD(cents / 100);
}

/** Short money for chart axes: $0, $12, $1.2k, $3.4M; sub-dollar keeps precision. */
export function formatUSDCompact(dollars: number): string {
  const a = Math.abs(dollars);
  if (a === 0) return "$0";
  if (a < 1) return formatUSD(dollars);
  return new Intl.NumberFormat(LOCALE, {
    style: "currency",
    currency: "USD",
    notation: "compact",
    maximumFractionDigits: 1,
  }).format(dollars);
}

/** Integer with thousands separators: 12,345. */
export function formatInt(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return "—";
  return int.format(n);
}

const compact = new Intl.NumberFormat(LOCALE, { notation: "compact", maximumSignificantDigits: 3 });

/** Compact count for axes and token columns: 1.25K, 19.6M (three significant digits, so axis ticks stay distinct). */
export function formatCompact(n: number): string {
  return compact.format(n);
}

/** A percentage with one decimal: "12.3%"; signed adds "+" to positives. */
export function formatPercent(p: number | null | undefined, opts: { signed?: boolean } = {}): string {
  if (p == null || !Number.isFinite(p)) return "—";
  const s = p.toFixed(1);
  const v = s === "-0.0" ? "0.0" : s;
  return `${opts.signed && Number(v) > 0 ? "+" : ""}${v}%`;
}

/** A share of a whole: like formatPercent, but a tiny non-zero share reads "<0.1%". */
export function formatShare(p: number | null | undefined): string {
  if (p != null && p > 0 && p < 0.05) return "<0.1%";
  return formatPercent(p);
}

/** Minutes of audio: "1,234 min" (rounded; under one minute keeps a decimal). */
export function formatMinutes(min: number | null | undefined): string {
  if (min == null || !Number.isFinite(min)) return "—";
  if (min > 0 && min < 1) return `${min.toFixed(1)} min`;
  return `${int.format(Math.round(min))} min`;
}

/** Bytes in binary units: 1.5 GB. */
export function formatBytes(b: number): string {
  if (b < 1024) return `${b} B`;
  const units = ["KB", "MB", "GB", "TB", "PB"];
  let v = b;
  let i = -1;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}
