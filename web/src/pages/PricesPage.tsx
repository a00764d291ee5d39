import { useEffect, useMemo, useRef, useState } from "react";
import { AlertTriangle, RefreshCw, Tags } from "lucide-react";
import { formatDay } from "../lib/dateRange";
import { formatInt } from "../lib/format";
import { draftFrom, emptyDraft, isService, type PriceDraft } from "../lib/prices";
import { usePrices } from "../lib/queries";
import { serviceName } from "../lib/services";
import type { NewPriceEntry, Session, UnpricedModel } from "../lib/types";
import { ErrorState } from "../components/ErrorState";
import { PriceForm } from "../components/prices/PriceForm";
import { PriceTable } from "../components/prices/PriceTable";
import { RepricePanel, type RepriceScope } from "../components/prices/RepricePanel";
import { Alert } from "../components/ui/alert";
import { Badge } from "../components/ui/badge";
import { Button } from "../components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "../components/ui/card";
import { TableSkeleton } from "../components/ui/table-skeleton";

/** What the URL asks the page to fill in (the unpriced warning's link). */
function readPrefill(search: string, today: Date): { draft: PriceDraft; scope: RepriceScope } {
  const q = new URLSearchParams(search);
  const service = q.get("service");
  const model = q.get("model") ?? "";
  const since = q.get("since") ?? "";
  const until = q.get("until") ?? "";
  // A price for calls already stored must apply from their first day: the
  // warning's range start. Otherwise a new price usually starts today.
  const draft = emptyDraft(isService(service) ? service : "anthropic", model, since || formatDay(today));
  return { draft, scope: { since, until, model } };
}

function UnpricedList({
  unpriced,
  priced,
  canEdit,
  onPrice,
  onReprice,
}: {
  unpriced: UnpricedModel[];
  /** Whether the catalog has an entry for the model now (its calls then only need a reprice). */
  priced: (m: UnpricedModel) => boolean;
  canEdit: boolean;
  onPrice: (m: UnpricedModel) => void;
  onReprice: (m: UnpricedModel) => void;
}) {
  const calls = unpriced.reduce((n, m) => n + m.calls, 0);
  return (
    <Alert
      tone="warning"
      icon={<AlertTriangle size={18} />}
      title={`${formatInt(unpriced.length)} ${unpriced.length === 1 ? "model has" : "models have"} unpriced calls (${formatInt(calls)} in all, counted at $0)`}
      data-testid="prices-unpriced"
    >
      {canEdit ? "Add a price, then reprice those calls." : "Only an owner can add prices and reprice: ask an owner of this dashboard."}
      <ul className="unpriced-list">
        {unpriced.map((m) => (
          <li key={`${m.service}/${m.model}`} data-model={m.model}>
            <span className="model-name">{m.model || "(no model)"}</span>{" "}
            <span className="muted">
              {serviceName(m.service)} · {formatInt(m.calls)} {m.calls === 1 ? "call" : "calls"}
            </span>
            {canEdit && m.model !== "" && !priced(m) && (
              <Button variant="outline" size="sm" onClick={() => onPrice(m)} aria-label={`Add a price for ${m.model}`}>
                <Tags size={14} aria-hidden="true" />
                Add price
              </Button>
            )}
            {canEdit && m.model !== "" && priced(m) && (
              <>
                <Badge tone="accent">has a price now</Badge>
                <Button variant="outline" size="sm" onClick={() => onReprice(m)} aria-label={`Reprice the calls of ${m.model}`}>
                  <RefreshCw size={14} aria-hidden="true" />
                  Reprice
                </Button>
              </>
            )}
          </li>
        ))}
      </ul>
    </Alert>
  );
}

/**
 * The price catalog: every entry with its source (built-in, a --prices file,
 * or added here), the models that still have unpriced calls, and for owners
 * adding, replacing and removing prices and repricing stored calls.
 */
export function PricesPage({ session, today }: { session: Session; today: Date }) {
  const canEdit = session.permissions.includes("MANAGE_PRICES");
  const prices = usePrices();
  const [seed, setSeed] = useState(() => ({ n: 0, ...readPrefill(window.location.search, today) }));
  const formRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    document.title = "Prices · CodeStory Analytics";
  }, []);

  const entries = useMemo(() => prices.data?.entries ?? [], [prices.data]);
  const unpriced = prices.data?.unpriced ?? [];
  const models = useMemo(
    () => Array.from(new Set([...unpriced.map((m) => m.model), ...entries.map((e) => e.model)])).filter(Boolean).sort(),
    [entries, unpriced],
  );

  const fill = (draft: PriceDraft, scope?: RepriceScope) => {
    setSeed((s) => ({ n: s.n + 1, draft, scope: scope ?? s.scope }));
    formRef.current?.scrollIntoView({ behavior: "smooth", block: "start" });
    window.setTimeout(() => formRef.current?.querySelector<HTMLInputElement>('input[name^="rate-"]')?.focus(), 0);
  };
  const rescope = (scope: RepriceScope) => {
    setSeed((s) => ({ ...s, scope }));
    window.setTimeout(() => document.querySelector<HTMLElement>('[data-testid="reprice-form"]')?.scrollIntoView({ behavior: "smooth", block: "start" }), 0);
  };
  const onSaved = (e: NewPriceEntry) => {
    // The next step: reprice the model's stored calls. Keep the scope the
    // warning gave for this model; otherwise start at the new price's first day.
    setSeed((s) =>
      s.scope.model === e.model && s.scope.since !== ""
        ? s
        : { ...s, scope: { since: e.effective_from, until: "", model: e.model } },
    );
  };

  return (
    <main className="page">
      <div className="page-header">
        <div className="page-heading">
          <h1>Prices</h1>
          <p className="subtitle">
            What each model costs, from the built-in catalog, a --prices file and prices added here
            {prices.data && (
              <>
                <span className="dot" aria-hidden="true">
                  ·
                </span>
                {formatInt(entries.length)} entries
              </>
            )}
          </p>
        </div>
      </div>

      {prices.error ? (
        <ErrorState error={prices.error} onRetry={() => prices.refetch()} />
      ) : (
        <div className="content">
          {unpriced.length > 0 && (
            <UnpricedList
              unpriced={unpriced}
              priced={(m) => entries.some((e) => e.service === m.service && (e.model === m.model || (e.aliases ?? []).includes(m.model)))}
              canEdit={canEdit}
              onPrice={(m) => fill(emptyDraft(m.service, m.model, ""), { since: "", until: "", model: m.model })}
              onReprice={(m) => rescope({ since: "", until: "", model: m.model })}
            />
          )}

          {canEdit && (
            <div className="prices-grid" ref={formRef}>
              <PriceForm key={`form-${seed.n}`} initial={seed.draft} entries={entries} onSaved={onSaved} />
              <RepricePanel key={`reprice-${seed.n}-${seed.scope.model}-${seed.scope.since}-${seed.scope.until}`} initial={seed.scope} />
            </div>
          )}

          <Card>
            <CardHeader>
              <CardTitle>Catalog</CardTitle>
              <CardDescription>
                Each call is priced by the newest entry of its model that started on or before its day.{" "}
                <Badge tone="neutral">Built-in</Badge> ships with the server, <Badge tone="accent">File</Badge> comes from
                --prices, <Badge tone="success">Database</Badge> was added here and can be removed.
              </CardDescription>
            </CardHeader>
            <CardContent className="flush">
              {!prices.data ? (
                <TableSkeleton cols={4} />
              ) : (
                <PriceTable entries={entries} canEdit={canEdit} onEdit={(e) => fill(draftFrom(e))} />
              )}
            </CardContent>
          </Card>
          <datalist id="price-models">
            {models.map((m) => (
              <option key={m} value={m} />
            ))}
          </datalist>
        </div>
      )}
    </main>
  );
}
