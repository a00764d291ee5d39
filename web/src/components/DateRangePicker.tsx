import { useCallback, useEffect, useState } from "react";
import { DayPicker, type DateRange } from "react-day-picker";
import { Calendar as CalendarIcon, ChevronDown } from "lucide-react";
import { subMonths } from "date-fns";
import {
  PRESET_DAYS,
  describeRange,
  formatDay,
  matchPreset,
  parseDay,
  presetRange,
  rangeDays,
  validateRange,
  type DayRange,
} from "../lib/dateRange";
import { formatInt } from "../lib/format";
import { Button } from "./ui/button";
import { Popover } from "./ui/popover";
import { cn } from "./ui/cn";

function useNarrow(px: number) {
  const q = `(max-width: ${px}px)`;
  const [narrow, setNarrow] = useState(() => window.matchMedia(q).matches);
  useEffect(() => {
    const m = window.matchMedia(q);
    const on = () => setNarrow(m.matches);
    m.addEventListener("change", on);
    return () => m.removeEventListener("change", on);
  }, [q]);
  return narrow;
}

/**
 * The range picker: presets, a two-month calendar and exact date fields.
 * A range the API would refuse is refused here first, with the API's words,
 * and never applied (so no request is sent for it).
 */
export function DateRangePicker({
  range,
  today,
  onChange,
}: {
  range: DayRange;
  today: Date;
  onChange: (r: DayRange) => void;
}) {
  const [open, setOpen] = useState(false);
  const [draft, setDraft] = useState<DayRange>(range);
  const narrow = useNarrow(760);

  const openChange = useCallback(
    (o: boolean) => {
      if (o) setDraft(range);
      setOpen(o);
    },
    [range],
  );

  const error = validateRange(draft.start, draft.end);
  const from = parseDay(draft.start) ?? undefined;
  const to = parseDay(draft.end) ?? undefined;
  const preset = matchPreset(range, today);

  const apply = (r: DayRange) => {
    if (validateRange(r.start, r.end)) return;
    onChange(r);
    setOpen(false);
  };

  const onSelect = (sel: DateRange | undefined) => {
    if (!sel?.from) return;
    const start = formatDay(sel.from);
    setDraft({ start, end: sel.to ? formatDay(sel.to) : start });
  };

  return (
    <Popover
      open={open}
      onOpenChange={openChange}
      label="Choose date range"
      className="range-popover"
      trigger={(ref) => (
        <Button
          ref={ref}
          variant="outline"
          className="range-trigger"
          aria-haspopup="dialog"
          aria-expanded={open}
          data-testid="date-range-trigger"
          onClick={() => openChange(!open)}
        >
          <CalendarIcon size={16} aria-hidden="true" />
          <span className="range-trigger-text">
            {preset != null && <span className="range-trigger-preset">Last {preset} days · </span>}
            {describeRange(range)}
          </span>
          <ChevronDown size={14} aria-hidden="true" className="muted-icon" />
        </Button>
      )}
    >
      <div className="range-layout">
        <div className="range-presets" role="group" aria-label="Presets">
          {PRESET_DAYS.map((n) => (
            <button
              key={n}
              type="button"
              className={cn("range-preset", preset === n && "is-active")}
              onClick={() => apply(presetRange(n, today))}
            >
              Last {n} days
            </button>
          ))}
        </div>
        <div className="range-main">
          <DayPicker
            mode="range"
            numberOfMonths={narrow ? 1 : 2}
            selected={{ from, to }}
            onSelect={onSelect}
            defaultMonth={narrow ? (to ?? today) : subMonths(to ?? today, 1)}
            endMonth={today}
            disabled={{ after: today }}
            today={today}
            weekStartsOn={1}
            showOutsideDays={false}
          />
          <form
            className="range-fields"
            onSubmit={(e) => {
              e.preventDefault();
              apply(draft);
            }}
          >
            <label className="field">
              <span>Start date</span>
              <input
                type="date"
                name="start"
                value={draft.start}
                onChange={(e) => setDraft((d) => ({ ...d, start: e.target.value }))}
                aria-invalid={error != null}
                aria-describedby="range-error"
              />
            </label>
            <label className="field">
              <span>End date</span>
              <input
                type="date"
                name="end"
                value={draft.end}
                onChange={(e) => setDraft((d) => ({ ...d, end: e.target.value }))}
                aria-invalid={error != null}
                aria-describedby="range-error"
              />
            </label>
            <div className="range-footer">
              <p id="range-error" className={cn("range-status", error && "is-error")} role={error ? "alert" : undefined} data-testid="range-error">
                {error ?? `${formatInt(rangeDays(draft))} days selected`}
              </p>
              <div className="range-actions">
                <Button variant="ghost" size="sm" onClick={() => setOpen(false)}>
                  Cancel
                </Button>
                <Button type="submit" size="sm" disabled={error != null} data-testid="range-apply">
                  Apply
                </Button>
              </div>
            </div>
          </form>
        </div>
      </div>
    </Popover>
  );
}
