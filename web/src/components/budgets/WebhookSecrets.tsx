import { useState } from "react";
import { Copy, KeyRound } from "lucide-react";
import type { Budget } from "../../lib/types";
import { Alert } from "../ui/alert";
import { Button } from "../ui/button";

function SecretRow({ url, secret }: { url: string; secret: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <li data-testid="webhook-secret" data-url={url}>
      <span className="budget-hook-url">{url}</span>
      <div className="secret-row">
        <code className="secret" data-testid="webhook-secret-value">
          {secret}
        </code>
        <Button variant="outline" size="sm" onClick={copy} aria-label={`Copy the signing secret of ${url}`}>
          <Copy size={14} aria-hidden="true" />
          {copied ? "Copied" : "Copy"}
        </Button>
      </div>
    </li>
  );
}

/**
 * The signing secrets (whsec_…) of the webhooks a create or an edit just
 * made. The server shows them in that answer only; later reads never do.
 */
export function WebhookSecrets({ budget, onDone }: { budget: Budget; onDone: () => void }) {
  const hooks = budget.webhooks.filter((w) => w.secret);
  if (hooks.length === 0) return null;
  return (
    <Alert tone="info" icon={<KeyRound size={18} />} title={`Webhook secrets of “${budget.name}”`} data-testid="webhook-secrets">
      <p>
        Shown only this once. A receiver checks each message's webhook-signature with its secret (Standard Webhooks:
        HMAC-SHA256 of id.timestamp.body). Slack messages are not signed: keep Slack URLs secret.
      </p>
      <ul className="secret-list">
        {hooks.map((w) => (
          <SecretRow key={w.id} url={w.url} secret={w.secret!} />
        ))}
      </ul>
      <div className="alert-actions">
        <Button variant="ghost" size="sm" onClick={onDone}>
          Done
        </Button>
      </div>
    </Alert>
  );
}
