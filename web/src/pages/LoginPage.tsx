import { useEffect, useState, type FormEvent } from "react";
import { AlertTriangle, AudioLines, Loader2, LogIn } from "lucide-react";
import { format } from "date-fns";
import { ApiError, postJSON, safeNext } from "../lib/api";
import { useSession } from "../lib/queries";
import type { Session } from "../lib/types";
import { Button } from "../components/ui/button";

/** Sign-in: POST /login sets the session cookie, then back to the dashboard. */
export function LoginPage() {
  const next = safeNext(new URLSearchParams(window.location.search).get("next"));
  const session = useSession({ allowSignedOut: true });
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ text: string; retryAt: number | null } | null>(null);

  useEffect(() => {
    document.title = "Sign in · CodeStory Analytics";
  }, []);

  // Already signed in: go straight on.
  useEffect(() => {
    if (session.data) window.location.replace(next);
  }, [session.data, next]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!email.trim() || !password) {
      setError({ text: "Enter your email and password.", retryAt: null });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await postJSON<Session>("/login", { email: email.trim(), password });
      window.location.assign(next);
    } catch (err) {
      if (err instanceof ApiError) {
        const text =
          err.status === 429 && !/^too many|^rate limit/i.test(err.message)
            ? `Too many sign-in attempts: ${err.message}`
            : err.message;
        setError({ text, retryAt: err.retryAt });
      } else {
        setError({ text: String(err), retryAt: null });
      }
      setBusy(false);
    }
  };

  return (
    <main className="login-page">
      <div className="login-card">
        <div className="login-brand">
          <span className="brand-mark" aria-hidden="true">
            <AudioLines size={20} />
          </span>
          <span className="brand-name">
            CodeStory <span className="brand-sub">Analytics</span>
          </span>
        </div>
        <h1 className="login-title">Sign in</h1>
        <p className="login-lede">Costs, revenue and usage of the CodeStory platform.</p>
        <form onSubmit={submit} className="login-form" noValidate>
          <label className="field">
            <span>Email</span>
            <input
              type="email"
              name="email"
              autoComplete="username"
              required
              autoFocus
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
          </label>
          <label className="field">
            <span>Password</span>
            <input
              type="password"
              name="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </label>
          {error && (
            <p className="login-error" role="alert" data-testid="login-error">
              <AlertTriangle size={16} aria-hidden="true" />
              <span>
                {error.text}
                {error.retryAt != null && <> Try again after {format(error.retryAt, "HH:mm:ss")}.</>}
              </span>
            </p>
          )}
          <Button type="submit" className="login-submit" disabled={busy}>
            {busy ? <Loader2 size={16} className="spin" aria-hidden="true" /> : <LogIn size={16} aria-hidden="true" />}
            Sign in
          </Button>
        </form>
      </div>
      <p className="login-foot">Access is audited.</p>
    </main>
  );
}
