import { useEffect, useRef, useState } from "react";
import { Check, ChevronDown, Download, FileJson, FileSpreadsheet, Loader2 } from "lucide-react";
import { format } from "date-fns";
import { getFile, rangeParams, saveBlob } from "../lib/api";
import type { DayRange } from "../lib/dateRange";
import type { ExportTable } from "../lib/types";
import { Button } from "./ui/button";
import { describeError } from "./ErrorState";
import { useToast } from "./Toast";

type Format = "csv" | "json";

/** The tables /admin/analytics/export can write (issue 13 added all but daily). */
export const EXPORT_TABLES: ReadonlyArray<{ key: ExportTable; label: string; rows: string }> = [
  { key: "daily", label: "Daily", rows: "Daily rows" },
  { key: "users", label: "Users", rows: "Per-user P&L" },
  { key: "stories", label: "Stories", rows: "Per-story cost" },
  { key: "cohorts", label: "Cohorts", rows: "Weekly cohort cells" },
];

/** The export's query: daily (the default) sends no table, as before issue 13. */
export function exportParams(range: DayRange, table: ExportTable, fmt: Format): Record<string, string> {
  return { ...rangeParams(range), format: fmt, ...(table === "daily" ? {} : { table }) };
}

/** The name to save under when the answer names none (the server's pattern). */
export function exportFallbackName(range: DayRange, table: ExportTable, fmt: Format): string {
  return table === "daily" ? `analytics_${range.start}_${range.end}.${fmt}` : `analytics_${table}_${range.start}_${range.end}.${fmt}`;
}

/**
 * Export: the main button downloads the chosen table (daily unless another
 * is picked in the menu) as CSV; the menu offers the table and CSV or JSON.
 * The file is exactly what /admin/analytics/export returned, under its name.
 */
export function ExportMenu({ range, disabled }: { range: DayRange; disabled?: boolean }) {
  const [busy, setBusy] = useState<Format | null>(null);
  const [open, setOpen] = useState(false);
  const [table, setTable] = useState<ExportTable>("daily");
  const rows = EXPORT_TABLES.find((t) => t.key === table)?.rows ?? "Daily rows";
  const wrap = useRef<HTMLDivElement>(null);
  const toast = useToast();

  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (!wrap.current?.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && setOpen(false);
    document.addEventListener("mousedown", onDown);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("mousedown", onDown);
      document.removeEventListener("keydown", onKey);
    };
  }, [open]);

  const run = async (fmt: Format) => {
    setOpen(false);
    setBusy(fmt);
    try {
      const { blob, filename } = await getFile(
        "/admin/analytics/export",
        exportParams(range, table, fmt),
        exportFallbackName(range, table, fmt),
      );
      saveBlob(blob, filename);
      toast({ tone: "success", title: `Exported ${filename}`, detail: `Saved at ${format(new Date(), "HH:mm")}. Exports are audited.` });
    } catch (err) {
      const d = describeError(err);
      toast({ tone: "danger", title: "Export failed", detail: d.detail ? `${d.title}: ${d.detail}` : d.title });
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="split-button" ref={wrap}>
      <Button onClick={() => run("csv")} disabled={disabled || busy != null} data-testid="export-button" className="split-main">
        {busy ? <Loader2 size={16} className="spin" aria-hidden="true" /> : <Download size={16} aria-hidden="true" />}
        Export
      </Button>
      <Button
        size="icon"
        className="split-toggle"
        aria-label="Choose export format"
        aria-haspopup="menu"
        aria-expanded={open}
        disabled={disabled || busy != null}
        onClick={() => setOpen((o) => !o)}
        data-testid="export-menu-toggle"
      >
        <ChevronDown size={16} aria-hidden="true" />
      </Button>
      {open && (
        <div className="menu" role="menu" aria-label="Export format">
          <div role="group" aria-label="Table" className="menu-group">
            <span className="menu-label" aria-hidden="true">Table</span>
            {EXPORT_TABLES.map((t) => (
              <button
                key={t.key}
                type="button"
                role="menuitemradio"
                aria-checked={table === t.key}
                className="menu-item menu-radio"
                onClick={() => setTable(t.key)}
                data-testid={`export-table-${t.key}`}
              >
                <span className="menu-check" aria-hidden="true">{table === t.key && <Check size={14} />}</span>
                <span>{t.label}</span>
              </button>
            ))}
          </div>
          <div className="menu-sep" role="separator" />
          <button type="button" role="menuitem" className="menu-item" onClick={() => run("csv")} data-testid="export-csv">
            <FileSpreadsheet size={16} aria-hidden="true" />
            <span>
              CSV<small>{rows}, for spreadsheets</small>
            </span>
          </button>
          <button type="button" role="menuitem" className="menu-item" onClick={() => run("json")} data-testid="export-json">
            <FileJson size={16} aria-hidden="true" />
            <span>
              JSON<small>{rows}, for scripts</small>
            </span>
          </button>
        </div>
      )}
    </div>
  );
}
