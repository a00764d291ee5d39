import { useState } from "react";
import { Ban, CheckCircle2, Copy, KeyRound, Trash2 } from "lucide-react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { postJSON, sendJSON } from "../../lib/api";
import { ROLES, ROLE_HELP, formatWhen } from "../../lib/admins";
import type { AdminAccount, Role } from "../../lib/types";
import { Alert } from "../ui/alert";
import { Badge } from "../ui/badge";
import { Button } from "../ui/button";
import { ConfirmButton } from "../ui/confirm-button";
import { describeError } from "../ErrorState";

type Action =
  | { kind: "role"; admin: AdminAccount; role: Role }
  | { kind: "disabled"; admin: AdminAccount; disabled: boolean }
  | { kind: "delete"; admin: AdminAccount }
  | { kind: "reset"; admin: AdminAccount };

function describe(a: Action): string {
  switch (a.kind) {
    case "role":
      return `make ${a.admin.email} ${a.role === "analyst" || a.role === "owner" ? "an" : "a"} ${a.role}`;
    case "disabled":
      return `${a.disabled ? "disable" : "enable"} ${a.admin.email}`;
    case "delete":
      return `delete ${a.admin.email}`;
    case "reset":
      return `reset the password of ${a.admin.email}`;
  }
}

async function perform(a: Action): Promise<{ password?: string }> {
  const path = `/admin/admins/${encodeURIComponent(String(a.admin.id))}`;
  switch (a.kind) {
    case "role":
      return sendJSON("PATCH", path, { role: a.role });
    case "disabled":
      return sendJSON("PATCH", path, { disabled: a.disabled });
    case "delete":
      return sendJSON("DELETE", path);
    case "reset":
      return postJSON<{ password: string }>(`${path}/reset-password`, {});
  }
}

/** The generated password, shown once, with a way to copy it. */
function NewPassword({ email, password, onDone }: { email: string; password: string; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(password);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <Alert tone="info" icon={<KeyRound size={18} />} title={`New password for ${email}`} data-testid="reset-password-result">
      <p>
        Shown only this once: give it to {email} through a safe channel. Their sessions and API tokens were revoked.
      </p>
      <div className="secret-row">
        <code className="secret" data-testid="reset-password-value">
          {password}
        </code>
        <Button variant="outline" size="sm" onClick={copy} aria-label="Copy the new password">
          <Copy size={14} aria-hidden="true" />
          {copied ? "Copied" : "Copy"}
        </Button>
        <Button variant="ghost" size="sm" onClick={onDone}>
          Done
        </Button>
      </div>
    </Alert>
  );
}

/**
 * Every admin account, for owners: change the role, disable or enable,
 * delete, reset the password. The server keeps the last enabled owner (409
 * with its reason, shown here as it is).
 */
export function AdminsTable({ admins, selfEmail, zone }: { admins: AdminAccount[]; selfEmail: string; zone?: string | null }) {
  const qc = useQueryClient();
  const [failure, setFailure] = useState<{ action: string; title: string; detail: string; status: number } | null>(null);
  const [reset, setReset] = useState<{ email: string; password: string } | null>(null);
  const run = useMutation({
    mutationFn: perform,
    onMutate: () => setFailure(null),
    onSuccess: (res, a) => {
      if (a.kind === "reset" && res.password) setReset({ email: a.admin.email, password: res.password });
      if (a.kind === "reset" || a.kind === "delete" || a.kind === "disabled") void qc.invalidateQueries({ queryKey: ["tokens"] });
    },
    onError: (err, a) => {
      const d = describeError(err);
      setFailure({ action: describe(a), title: d.title, detail: d.detail, status: d.status });
    },
    onSettled: () => qc.invalidateQueries({ queryKey: ["admins"] }),
  });
  const busyId = run.isPending ? run.variables?.admin.id : undefined;
  const busyKind = run.isPending ? run.variables?.kind : undefined;

  return (
    <div className="stack-sm">
      {failure && (
        <Alert tone="danger" title={`Could not ${failure.action}`} data-testid="admins-error">
          {failure.status === 409 ? failure.detail || failure.title : [failure.title, failure.detail].filter(Boolean).join(": ")}
        </Alert>
      )}
      {reset && <NewPassword email={reset.email} password={reset.password} onDone={() => setReset(null)} />}
      <div className="table-scroll">
        <table className="table admins-table" data-testid="admins-table">
          <thead>
            <tr>
              <th scope="col">Admin</th>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
              <th scope="col">Last sign-in</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {admins.map((a) => {
              const busy = busyId === a.id;
              const self = a.email === selfEmail;
              return (
                <tr key={a.id} data-email={a.email} className={a.disabled ? "is-disabled" : undefined}>
                  <td>
                    <div className="user-cell">
                      <span className="user-email">
                        {a.email}
                        {self && <span className="muted"> (you)</span>}
                      </span>
                      <span className="user-id">since {formatWhen(a.created_at, "—", zone)}</span>
                    </div>
                  </td>
                  <td>
                    <select
                      className="select-sm"
                      aria-label={`Role of ${a.email}`}
                      value={a.role}
                      disabled={busy}
                      title={ROLE_HELP[a.role]}
                      onChange={(e) => run.mutate({ kind: "role", admin: a, role: e.target.value as Role })}
                    >
                      {ROLES.map((r) => (
                        <option key={r} value={r}>
                          {r}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>
                    {a.disabled ? (
                      <Badge tone="danger" data-testid="admin-status">
                        Disabled
                      </Badge>
                    ) : (
                      <Badge tone="success" data-testid="admin-status">
                        Active
                      </Badge>
                    )}
                  </td>
                  <td className="nowrap">{formatWhen(a.last_login_at, "Never", zone)}</td>
                  <td>
                    <div className="row-actions">
                      {a.disabled ? (
                        <Button
                          variant="outline"
                          size="sm"
                          disabled={busy}
                          onClick={() => run.mutate({ kind: "disabled", admin: a, disabled: false })}
                          aria-label={`Enable ${a.email}`}
                        >
                          <CheckCircle2 size={14} aria-hidden="true" />
                          Enable
                        </Button>
                      ) : (
                        <ConfirmButton
                          confirm="Disable now"
                          label={`Disable ${a.email}`}
                          busy={busy && busyKind === "disabled"}
                          disabled={busy}
                          onConfirm={() => run.mutate({ kind: "disabled", admin: a, disabled: true })}
                          testId="admin-disable"
                        >
                          <Ban size={14} aria-hidden="true" />
                          Disable
                        </ConfirmButton>
                      )}
                      <ConfirmButton
                        confirm="Reset password"
                        label={`Reset the password of ${a.email}`}
                        busy={busy && busyKind === "reset"}
                        disabled={busy}
                        onConfirm={() => run.mutate({ kind: "reset", admin: a })}
                        testId="admin-reset"
                      >
                        <KeyRound size={14} aria-hidden="true" />
                        <span className="hide-sm">Reset password</span>
                      </ConfirmButton>
                      <ConfirmButton
                        confirm="Delete admin"
                        label={`Delete ${a.email}`}
                        busy={busy && busyKind === "delete"}
                        disabled={busy}
                        onConfirm={() => run.mutate({ kind: "delete", admin: a })}
                        testId="admin-delete"
                      >
                        <Trash2 size={14} aria-hidden="true" />
                        <span className="hide-sm">Delete</span>
                      </ConfirmButton>
                    </div>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}
