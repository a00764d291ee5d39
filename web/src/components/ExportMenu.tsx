import { useEffect, useRef, useState } from "react";
import { ChevronDown, Download, FileJson, FileSpreadsheet, Loader2 } from "lucide-react";
import { format } from "date-fns";
import { getFile, rangeParams, saveBlob } from "../lib/api";
import type { DayRange } from "../lib/dateRange";
import { Button } from "./ui/button";
import { describeError } from "./ErrorState";
import { useToast } from "./Toast";

type Format = "csv" | "json";

/**
 * Export: the main button downloads CSV; the menu offers CSV and JSON. The
 * file is exactly what /admin/analytics/export returned, under its name.
 */
export function ExportMenu({ range, disabled }: { range: DayRange; disabled?: boolean }) {
  const [busy, setBusy] = useState<Format | null>(null);
  const [open, setOpen] = useState(false);
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
        { ...rangeParams(range), format: fmt },
        `analytics_${range.start}_${range.end}.${fmt}`,
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
          <button type="button" role="menuitem" className="menu-item" onClick={() => run("csv")}>
            <FileSpreadsheet size={16} aria-hidden="true" />
            <span>
              CSV<small>Daily rows, for spreadsheets</small>
            </span>
          </button>
          <button type="button" role="menuitem" className="menu-item" onClick={() => run("json")} data-testid="export-json">
            <FileJson size={16} aria-hidden="true" />
            <span>
              JSON<small>Daily rows, for scripts</small>
            </span>
          </button>
        </div>
      )}
    </div>
  );
}
