import { useMemo, useState } from "react";
import { Pencil, Trash2 } from "lucide-react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { sendJSON } from "../../lib/api";
import { formatInt } from "../../lib/format";
import { SERVICE_RATES, describeRate, removePath, sortEntries, sourceLabel, sourceTone } from "../../lib/prices";
import { serviceColor, serviceName } from "../../lib/services";
import type { PriceEntry } from "../../lib/types";
import { ErrorState } from "../ErrorState";
import { Badge } from "../ui/badge";
import { Button } from "../ui/button";
import { ConfirmButton } from "../ui/confirm-button";

const key = (e: PriceEntry) => `${e.service}/${e.model}/${e.effective_from}`;

function RateList({ e }: { e: PriceEntry }) {
  const specs = SERVICE_RATES[e.service] ?? [];
  const known = new Set(specs.map((s) => s.key));
  const extra = Object.keys(e.rates).filter((k) => !known.has(k));
  return (
    <ul className="rate-list">
      {[...specs.map((s) => s.key), ...extra]
        .filter((k) => e.rates[k] != null)
        .map((k) => (
          <li key={k}>
            <span className="rate-key">{specs.find((s) => s.key === k)?.label ?? k}</span>{" "}
            <span className="rate-value">{describeRate(e.service, k, e.rates[k])}</span>
          </li>
        ))}
      {e.long_context_threshold ? (
        <li className="muted">over {formatInt(e.long_context_threshold)} input tokens: long-context rates</li>
      ) : null}
    </ul>
  );
}

/**
 * The catalog as the server prices with it: every entry with its source.
 * Owners can start a replacement from any entry and remove the entries added
 * at run time (built-in and file entries change only with a deploy).
 */
export function PriceTable({
  entries,
  canEdit,
  onEdit,
}: {
  entries: PriceEntry[];
  canEdit: boolean;
  onEdit: (e: PriceEntry) => void;
}) {
  const qc = useQueryClient();
  const [filter, setFilter] = useState("");
  const [removing, setRemoving] = useState<string | null>(null);
  const remove = useMutation({
    mutationFn: (e: PriceEntry) => sendJSON<{ removed: number }>("DELETE", removePath(e)),
    onMutate: (e) => setRemoving(key(e)),
    onSettled: () => setRemoving(null),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["prices"] }),
  });
  const rows = useMemo(() => {
    const f = filter.trim().toLowerCase();
    const sorted = sortEntries(entries);
    if (!f) return sorted;
    return sorted.filter(
      (e) => e.model.toLowerCase().includes(f) || (e.aliases ?? []).some((a) => a.toLowerCase().includes(f)) || e.service.includes(f),
    );
  }, [entries, filter]);

  return (
    <>
      <div className="filters pad-x">
        <label className="field">
          <span>Filter</span>
          <input type="search" name="price-filter" value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="model or service" />
        </label>
        <p className="muted filter-count" role="status">
          {formatInt(rows.length)} of {formatInt(entries.length)} entries
        </p>
      </div>
      {remove.error && (
        <div className="pad-x">
          <ErrorState error={remove.error} compact title="The price was not removed" />
        </div>
      )}
      {rows.length === 0 ? (
        <p className="empty">No price matches “{filter}”.</p>
      ) : (
        <div className="table-scroll">
          <table className="table price-table" data-testid="price-table">
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">From</th>
                <th scope="col">Rates</th>
                <th scope="col">Source</th>
                {canEdit && (
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {rows.map((e) => (
                <tr key={key(e)} data-model={e.model} data-source={e.source}>
                  <td>
                    <div className="model-cell">
                      <span className="swatch" style={{ background: serviceColor(e.service) }} />
                      <div>
                        <div className="model-name">{e.model}</div>
                        <div className="model-service">
                          {serviceName(e.service)}
                          {e.aliases && e.aliases.length > 0 && <> · also {e.aliases.join(", ")}</>}
                        </div>
                        {e.note && <div className="model-service">{e.note}</div>}
                      </div>
                    </div>
                  </td>
                  <td className="nowrap">{e.effective_from}</td>
                  <td>
                    <RateList e={e} />
                  </td>
                  <td>
                    <Badge tone={sourceTone(e.source)} data-testid="price-source">
                      {sourceLabel(e.source)}
                    </Badge>
                  </td>
                  {canEdit && (
                    <td>
                      <div className="row-actions">
                        <Button variant="ghost" size="sm" onClick={() => onEdit(e)} aria-label={`Replace or update the price of ${e.model} from ${e.effective_from}`}>
                          <Pencil size={14} aria-hidden="true" />
                          <span className="hide-sm">Edit</span>
                        </Button>
                        {e.source === "database" && (
                          <ConfirmButton
                            confirm="Remove price"
                            onConfirm={() => remove.mutate(e)}
                            busy={removing === key(e)}
                            label={`Remove the price of ${e.model} from ${e.effective_from}`}
                            testId="price-remove"
                          >
                            <Trash2 size={14} aria-hidden="true" />
                            <span className="hide-sm">Remove</span>
                          </ConfirmButton>
                        )}
                      </div>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
