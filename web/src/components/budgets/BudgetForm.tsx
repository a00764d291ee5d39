import { useState, type FormEvent } from "react";
import { Loader2, Plus, Save, Trash2 } from "lucide-react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { postJSON, sendJSON } from "../../lib/api";
import {
  BUDGET_SERVICES,
  MAX_WEBHOOKS,
  SCOPES,
  createRequest,
  emptyBudgetDraft,
  needsScopeValue,
  patchRequest,
  validateBudget,
  webhooksChanged,
  type BudgetDraft,
  draftFromBudget,
} from "../../lib/budgets";
import { BUDGET_QUERY_KEYS } from "../../lib/queries";
import { serviceName } from "../../lib/services";
import type { Budget, BudgetPeriod, BudgetScope, WebhookFormat } from "../../lib/types";
import { ErrorState } from "../ErrorState";
import { Button } from "../ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "../ui/card";

function FieldError({ id, text }: { id: string; text?: string }) {
  if (!text) return null;
  return (
    <small id={id} className="field-error">
      {text}
    </small>
  );
}

/**
 * Owners create a budget (POST /admin/budgets) or change one (PATCH
 * /admin/budgets/{id}: name, amount, thresholds, webhooks, anomaly notices;
 * scope and period are fixed once made). The answer's webhook secrets are
 * handed to onSaved, which shows them once.
 */
export function BudgetForm({
  budget,
  onSaved,
  onCancel,
}: {
  /** The budget being edited; none: a new budget. */
  budget?: Budget;
  onSaved: (saved: Budget, created: boolean) => void;
  onCancel: () => void;
}) {
  const qc = useQueryClient();
  const editing = budget != null;
  const [draft, setDraft] = useState<BudgetDraft>(() => (budget ? draftFromBudget(budget) : emptyBudgetDraft()));
  const [shown, setShown] = useState<Record<string, string>>({});
  const [nothing, setNothing] = useState(false);
  const save = useMutation({
    mutationFn: (d: BudgetDraft) =>
      budget
        ? sendJSON<Budget>("PATCH", `/admin/budgets/${budget.id}`, patchRequest(budget, d))
        : postJSON<Budget>("/admin/budgets", createRequest(d)),
    onSuccess: (saved) => {
      for (const k of BUDGET_QUERY_KEYS) void qc.invalidateQueries({ queryKey: k });
      onSaved(saved, !editing);
    },
  });

  const set = (patch: Partial<BudgetDraft>) => {
    setDraft((d) => ({ ...d, ...patch }));
    setNothing(false);
  };
  const setHook = (i: number, patch: Partial<{ url: string; format: WebhookFormat }>) =>
    set({ webhooks: draft.webhooks.map((w, j) => (j === i ? { ...w, ...patch } : w)) });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs = validateBudget(draft);
    setShown(errs);
    if (Object.keys(errs).length > 0) return;
    if (budget && Object.keys(patchRequest(budget, draft)).length === 0) {
      setNothing(true);
      return;
    }
    save.mutate(draft);
  };

  const err = (k: string) => shown[k];
  const inv = (k: string) => (shown[k] ? true : undefined);
  const idp = editing ? `budget-${budget.id}` : "budget-new";
  const title = editing ? `Edit “${budget.name}”` : "New budget";

  return (
    <Card>
      <CardHeader>
        <CardTitle>{title}</CardTitle>
        <CardDescription>
          {editing
            ? "Scope and period stay as they are (create a new budget to change them). Alerts already made stay made."
            : "Spend is the cost of API calls in the period, counted in the server's reporting zone. Each threshold alerts once per period."}
        </CardDescription>
      </CardHeader>
      <CardContent>
        <form className="budget-form" onSubmit={submit} noValidate aria-label={title} data-testid="budget-form">
          <div className="form-grid">
            <div className="field">
              <label htmlFor={`${idp}-name`}>Name</label>
              <input
                id={`${idp}-name`}
                name="name"
                value={draft.name}
                onChange={(e) => set({ name: e.target.value })}
                autoComplete="off"
                placeholder="Claude this month"
                aria-invalid={inv("name")}
                aria-describedby={err("name") ? `${idp}-err-name` : undefined}
              />
              <FieldError id={`${idp}-err-name`} text={err("name")} />
            </div>
            <div className="field">
              <label htmlFor={`${idp}-scope`}>Scope</label>
              <select
                id={`${idp}-scope`}
                name="scope"
                value={draft.scope}
                disabled={editing}
                aria-describedby={`${idp}-hint-scope`}
                onChange={(e) => {
                  const scope = e.target.value as BudgetScope;
                  set({ scope, scope_value: scope === "service" ? "anthropic" : "" });
                }}
              >
                {SCOPES.map((s) => (
                  <option key={s.value} value={s.value}>
                    {s.label}
                  </option>
                ))}
              </select>
              <small id={`${idp}-hint-scope`} className="field-hint">
                {SCOPES.find((s) => s.value === draft.scope)?.hint}
              </small>
            </div>
            {needsScopeValue(draft.scope) && (
              <div className="field">
                <label htmlFor={`${idp}-scope-value`}>
                  {draft.scope === "service" ? "Service" : draft.scope === "model" ? "Model id" : "User id"}
                </label>
                {draft.scope === "service" ? (
                  <select
                    id={`${idp}-scope-value`}
                    name="scope_value"
                    value={draft.scope_value}
                    disabled={editing}
                    onChange={(e) => set({ scope_value: e.target.value })}
                  >
                    {BUDGET_SERVICES.map((s) => (
                      <option key={s} value={s}>
                        {serviceName(s)}
                      </option>
                    ))}
                  </select>
                ) : (
                  <input
                    id={`${idp}-scope-value`}
                    name="scope_value"
                    value={draft.scope_value}
                    disabled={editing}
                    onChange={(e) => set({ scope_value: e.target.value })}
                    autoComplete="off"
                    spellCheck={false}
                    placeholder={draft.scope === "model" ? "claude-sonnet-4-5" : "u42"}
                    aria-invalid={inv("scope_value")}
                    aria-describedby={err("scope_value") ? `${idp}-err-scope-value` : undefined}
                  />
                )}
                <FieldError id={`${idp}-err-scope-value`} text={err("scope_value")} />
              </div>
            )}
            <div className="field">
              <label htmlFor={`${idp}-period`}>Period</label>
              <select
                id={`${idp}-period`}
                name="period"
                value={draft.period}
                disabled={editing}
                onChange={(e) => set({ period: e.target.value as BudgetPeriod })}
              >
                <option value="month">Month (calendar)</option>
                <option value="day">Day (calendar)</option>
              </select>
            </div>
            <div className="field">
              <label htmlFor={`${idp}-amount`}>
                Amount <small className="muted">US dollars</small>
              </label>
              <input
                id={`${idp}-amount`}
                name="amount_dollars"
                inputMode="decimal"
                autoComplete="off"
                value={draft.amount}
                onChange={(e) => set({ amount: e.target.value })}
                placeholder="500.00"
                aria-invalid={inv("amount")}
                aria-describedby={err("amount") ? `${idp}-err-amount` : undefined}
              />
              <FieldError id={`${idp}-err-amount`} text={err("amount")} />
            </div>
            <div className="field">
              <label htmlFor={`${idp}-thresholds`}>
                Thresholds <small className="muted">percents</small>
              </label>
              <input
                id={`${idp}-thresholds`}
                name="thresholds"
                inputMode="numeric"
                autoComplete="off"
                value={draft.thresholds}
                onChange={(e) => set({ thresholds: e.target.value })}
                placeholder="50, 80, 100"
                aria-invalid={inv("thresholds")}
                aria-describedby={err("thresholds") ? `${idp}-err-thresholds` : `${idp}-hint-thresholds`}
              />
              <FieldError id={`${idp}-err-thresholds`} text={err("thresholds")} />
              {!err("thresholds") && (
                <small id={`${idp}-hint-thresholds`} className="field-hint">
                  Empty means 50, 80, 100.
                </small>
              )}
            </div>
          </div>

          <fieldset className="rates">
            <legend>Webhooks</legend>
            {draft.webhooks.length === 0 && <p className="muted small">No webhooks: alerts are only listed here.</p>}
            <ul className="webhook-list">
              {draft.webhooks.map((w, i) => (
                <li key={i} className="webhook-row">
                  <div className="field grow">
                    <label htmlFor={`${idp}-hook-${i}`}>Webhook {i + 1} URL</label>
                    <input
                      id={`${idp}-hook-${i}`}
                      name={`webhook-${i}-url`}
                      type="url"
                      value={w.url}
                      onChange={(e) => setHook(i, { url: e.target.value })}
                      autoComplete="off"
                      spellCheck={false}
                      placeholder="https://hooks.example.com/x"
                      aria-invalid={inv(`webhook.${i}`)}
                      aria-describedby={err(`webhook.${i}`) ? `${idp}-err-hook-${i}` : undefined}
                    />
                    <FieldError id={`${idp}-err-hook-${i}`} text={err(`webhook.${i}`)} />
                  </div>
                  <div className="field">
                    <label htmlFor={`${idp}-hook-${i}-format`}>Format</label>
                    <select
                      id={`${idp}-hook-${i}-format`}
                      name={`webhook-${i}-format`}
                      value={w.format}
                      onChange={(e) => setHook(i, { format: e.target.value as WebhookFormat })}
                    >
                      <option value="standard">Standard Webhooks (signed)</option>
                      <option value="slack">Slack</option>
                    </select>
                  </div>
                  <Button
                    variant="ghost"
                    size="sm"
                    className="webhook-remove"
                    onClick={() => set({ webhooks: draft.webhooks.filter((_, j) => j !== i) })}
                    aria-label={`Remove webhook ${i + 1}`}
                  >
                    <Trash2 size={14} aria-hidden="true" />
                  </Button>
                </li>
              ))}
            </ul>
            {draft.webhooks.length < MAX_WEBHOOKS && (
              <Button
                variant="outline"
                size="sm"
                onClick={() => set({ webhooks: [...draft.webhooks, { url: "", format: "standard" }] })}
                data-testid="budget-add-webhook"
              >
                <Plus size={14} aria-hidden="true" />
                Add webhook
              </Button>
            )}
            {editing && webhooksChanged(budget, draft) && (
              <p className="field-hint" data-testid="budget-webhooks-replace">
                Saving replaces every webhook of this budget; the new signing secrets are shown once.
              </p>
            )}
          </fieldset>

          <label className="check">
            <input
              type="checkbox"
              name="notify_anomalies"
              checked={draft.notify_anomalies}
              onChange={(e) => set({ notify_anomalies: e.target.checked })}
            />
            <span>Also send cost anomalies (once per service and day) to these webhooks</span>
          </label>

          {save.error && <ErrorState error={save.error} compact title="The budget was not saved" />}
          {nothing && (
            <p className="field-hint" role="status">
              Nothing changed.
            </p>
          )}
          <div className="form-actions">
            <Button variant="ghost" onClick={onCancel}>
              Cancel
            </Button>
            <Button type="submit" disabled={save.isPending} data-testid="budget-submit">
              {save.isPending ? (
                <Loader2 size={16} className="spin" aria-hidden="true" />
              ) : editing ? (
                <Save size={16} aria-hidden="true" />
              ) : (
                <Plus size={16} aria-hidden="true" />
              )}
              {editing ? "Save changes" : "Create budget"}
            </Button>
          </div>
        </form>
      </CardContent>
    </Card>
  );
}
