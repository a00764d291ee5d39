import { useEffect, useRef, useState } from "react";
import { Plus, RefreshCw } from "lucide-react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { sendJSON } from "../lib/api";
import { serverZone } from "../lib/clock";
import { formatInt } from "../lib/format";
import { BUDGET_QUERY_KEYS, useAlerts, useBudgets } from "../lib/queries";
import type { Budget, Session } from "../lib/types";
import { AlertHistory } from "../components/budgets/AlertHistory";
import { BudgetCard } from "../components/budgets/BudgetCard";
import { BudgetForm } from "../components/budgets/BudgetForm";
import { WebhookSecrets } from "../components/budgets/WebhookSecrets";
import { ErrorState } from "../components/ErrorState";
import { Button } from "../components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "../components/ui/card";
import { TableSkeleton } from "../components/ui/table-skeleton";

type Editing = { mode: "new" } | { mode: "edit"; budget: Budget } | null;

/**
 * Budgets (issue 12): each budget's spend this period against its cap, the
 * forecast for the period's end and the day it reaches 100%, the thresholds
 * fired, and the alert history with each webhook delivery. Every admin reads;
 * owners (MANAGE_BUDGETS) create, edit and delete.
 */
export function BudgetsPage({ session }: { session: Session }) {
  const canEdit = session.permissions.includes("MANAGE_BUDGETS");
  const zone = serverZone(session);
  const qc = useQueryClient();
  const budgets = useBudgets();
  const alerts = useAlerts();
  const [editing, setEditing] = useState<Editing>(null);
  const [secrets, setSecrets] = useState<Budget | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const formRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    document.title = "Budgets · CodeStory Analytics";
  }, []);
  useEffect(() => {
    if (editing) formRef.current?.querySelector<HTMLInputElement>("input[name=name]")?.focus();
  }, [editing]);

  const remove = useMutation({
    mutationFn: (b: Budget) => sendJSON("DELETE", `/admin/budgets/${b.id}`),
    onSuccess: (_, b) => {
      setNotice(`Deleted “${b.name}”. Its alert history stays.`);
      if (editing?.mode === "edit" && editing.budget.id === b.id) setEditing(null);
      for (const k of BUDGET_QUERY_KEYS) void qc.invalidateQueries({ queryKey: k });
    },
  });

  const refresh = () => {
    for (const k of BUDGET_QUERY_KEYS) void qc.invalidateQueries({ queryKey: k });
  };
  const list = budgets.data?.budgets ?? [];
  const fetching = budgets.isFetching || alerts.isFetching;

  return (
    <main className="page">
      <div className="page-header">
        <div className="page-heading">
          <h1>Budgets</h1>
          <p className="subtitle">
            Spend caps per day or month, counted in the reporting zone{zone ? ` (${zone})` : ""}
            {budgets.data && (
              <>
                <span className="dot" aria-hidden="true">
                  ·
                </span>
                {formatInt(list.length)} {list.length === 1 ? "budget" : "budgets"}
              </>
            )}
          </p>
        </div>
        <div className="page-actions">
          <Button variant="outline" onClick={refresh} disabled={fetching} data-testid="budgets-refresh">
            <RefreshCw size={16} className={fetching ? "spin" : undefined} aria-hidden="true" />
            Refresh
          </Button>
          {canEdit && (
            <Button
              onClick={() => {
                setNotice(null);
                setEditing({ mode: "new" });
              }}
              disabled={editing?.mode === "new"}
              data-testid="budget-new"
            >
              <Plus size={16} aria-hidden="true" />
              New budget
            </Button>
          )}
        </div>
      </div>

      <div className="content">
        {!canEdit && (
          <p className="muted small" data-testid="budgets-readonly">
            Only an owner can create, change or delete budgets.
          </p>
        )}
        {secrets && <WebhookSecrets budget={secrets} onDone={() => setSecrets(null)} />}
        {notice && (
          <p className="form-done" role="status" data-testid="budget-notice">
            {notice}
          </p>
        )}
        {remove.error && <ErrorState error={remove.error} compact title="The budget was not deleted" />}
        {canEdit && editing && (
          <div ref={formRef} className="prices-grid">
            <BudgetForm
              key={editing.mode === "edit" ? `edit-${editing.budget.id}` : "new"}
              budget={editing.mode === "edit" ? editing.budget : undefined}
              onCancel={() => setEditing(null)}
              onSaved={(saved, created) => {
                setEditing(null);
                setNotice(`${created ? "Created" : "Saved"} “${saved.name}”.`);
                setSecrets(saved.webhooks.some((w) => w.secret) ? saved : null);
              }}
            />
          </div>
        )}

        {budgets.error ? (
          <ErrorState error={budgets.error} onRetry={() => budgets.refetch()} />
        ) : !budgets.data ? (
          <Card>
            <CardContent>
              <TableSkeleton cols={3} />
            </CardContent>
          </Card>
        ) : list.length === 0 ? (
          <Card>
            <CardContent>
              <p className="empty" data-testid="budgets-empty">
                No budgets yet.{canEdit ? " Create one to be told when spend runs away." : " An owner can create them."}
              </p>
            </CardContent>
          </Card>
        ) : (
          <div className="budget-grid" data-testid="budget-list">
            {list.map((b) => (
              <BudgetCard
                key={b.id}
                budget={b}
                canEdit={canEdit}
                onEdit={() => {
                  setNotice(null);
                  setEditing({ mode: "edit", budget: b });
                  window.setTimeout(() => formRef.current?.scrollIntoView({ behavior: "smooth", block: "start" }), 0);
                }}
                onDelete={() => remove.mutate(b)}
                deleting={remove.isPending && remove.variables?.id === b.id}
              />
            ))}
          </div>
        )}

        <Card>
          <CardHeader>
            <CardTitle>Alert history</CardTitle>
            <CardDescription>
              Every alert, newest first, with each webhook delivery: delivered, pending (retried with backoff for up to 24
              hours) or failed. Times in {zone ?? "the server's zone"}.
            </CardDescription>
          </CardHeader>
          <CardContent className="flush">
            {alerts.error ? (
              <ErrorState error={alerts.error} compact onRetry={() => alerts.refetch()} />
            ) : !alerts.data ? (
              <TableSkeleton cols={5} />
            ) : (
              <AlertHistory alerts={alerts.data.alerts} zone={zone} />
            )}
          </CardContent>
        </Card>
      </div>
    </main>
  );
}
