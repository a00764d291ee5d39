import { useState } from "react";
import { Ban } from "lucide-react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { sendJSON } from "../../lib/api";
import { credentialState, formatWhen, sortCredentials, type CredentialState } from "../../lib/admins";
import type { AdminToken, IngestKey } from "../../lib/types";
import { Alert } from "../ui/alert";
import { Badge } from "../ui/badge";
import { ConfirmButton } from "../ui/confirm-button";
import { describeError } from "../ErrorState";

const STATE_TONE: Record<CredentialState, "success" | "neutral" | "warning"> = {
  active: "success",
  revoked: "neutral",
  expired: "warning",
};

const STATE_LABEL: Record<CredentialState, string> = { active: "Active", revoked: "Revoked", expired: "Expired" };

type Credential = (AdminToken | IngestKey) & { admin_email?: string };

/**
 * API tokens (kind "token") or ingest keys (kind "ingest-key"): when they
 * were made, when they expire, when they were last used, and Revoke, which
 * cuts one off at once (DELETE /admin/tokens/{id} or /admin/ingest-keys/{id}).
 */
export function CredentialsTable({ kind, items, zone }: { kind: "token" | "ingest-key"; items: Credential[]; zone?: string | null }) {
  const qc = useQueryClient();
  const base = kind === "token" ? "/admin/tokens" : "/admin/ingest-keys";
  const queryKey = kind === "token" ? "tokens" : "ingest-keys";
  const noun = kind === "token" ? "API token" : "ingest key";
  const [failure, setFailure] = useState<string | null>(null);
  const revoke = useMutation({
    mutationFn: (c: Credential) => sendJSON("DELETE", `${base}/${encodeURIComponent(String(c.id))}`),
    onMutate: () => setFailure(null),
    onError: (err, c) => {
      const d = describeError(err);
      setFailure(`Could not revoke the ${noun} “${c.name}”: ${d.detail || d.title}`);
    },
    onSettled: () => qc.invalidateQueries({ queryKey: [queryKey] }),
  });
  const now = Date.now();
  const rows = sortCredentials(items, now);
  const testid = kind === "token" ? "tokens-table" : "ingest-keys-table";

  return (
    <div className="stack-sm">
      {failure && (
        <Alert tone="danger" title={failure} data-testid={`${kind}-error`} />
      )}
      {rows.length === 0 ? (
        <p className="empty">No {noun}s yet.</p>
      ) : (
        <div className="table-scroll">
          <table className="table" data-testid={testid}>
            <thead>
              <tr>
                <th scope="col">Name</th>
                {kind === "token" && <th scope="col">Admin</th>}
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((c) => {
                const state = credentialState(c, now);
                return (
                  <tr key={c.id} data-name={c.name} data-state={state} className={state !== "active" ? "is-inactive" : undefined}>
                    <td className="strong">{c.name}</td>
                    {kind === "token" && <td>{c.admin_email}</td>}
                    <td className="nowrap">{formatWhen(c.created_at, "Never", zone)}</td>
                    <td className="nowrap">{formatWhen(c.expires_at, "Never", zone)}</td>
                    <td className="nowrap">{formatWhen(c.last_used_at, "Never", zone)}</td>
                    <td>
                      <Badge tone={STATE_TONE[state]} title={state === "revoked" ? `Revoked ${formatWhen(c.revoked_at, "", zone)}` : undefined}>
                        {STATE_LABEL[state]}
                      </Badge>
                    </td>
                    <td>
                      {state === "active" && (
                        <ConfirmButton
                          confirm="Revoke now"
                          label={`Revoke the ${noun} ${c.name}`}
                          busy={revoke.isPending && revoke.variables?.id === c.id}
                          disabled={revoke.isPending}
                          onConfirm={() => revoke.mutate(c)}
                          testId={`${kind}-revoke`}
                        >
                          <Ban size={14} aria-hidden="true" />
                          Revoke
                        </ConfirmButton>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
