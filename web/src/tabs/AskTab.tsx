import { useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { CheckCircle2, Loader2, Send, Sparkles, Square, Wrench } from "lucide-react";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "../components/ui/card";
import { Button } from "../components/ui/button";
import { ErrorState } from "../components/ErrorState";
import { ApiError, postEventStream } from "../lib/api";
import { eventText } from "../lib/sse";

interface Step {
  kind: "progress" | "tool";
  text: string;
}

interface Exchange {
  id: number;
  question: string;
  steps: Step[];
  answer: string;
  error: unknown;
  done: boolean;
}

const EXAMPLES = [
  "What drove spending in the last 7 days?",
  "Which model costs the most per story this month?",
  "How did signups change over the last 30 days?",
];

function toolText(data: unknown): string {
  if (data && typeof data === "object") {
    const d = data as Record<string, unknown>;
    const name = d.tool ?? d.name ?? d.tool_name;
    if (typeof name === "string") {
      const input = d.input ?? d.arguments ?? d.tool_input;
      return input && typeof input === "object" && Object.keys(input).length > 0 ? `${name} ${JSON.stringify(input)}` : name;
    }
  }
  return eventText(data);
}

/**
 * The Ask conversation. It lives in the page, not the tab, so switching tabs
 * neither loses the answers nor stops a stream.
 */
export function useAsk() {
  const [history, setHistory] = useState<Exchange[]>([]);
  const abort = useRef<AbortController | null>(null);
  const busy = history.length > 0 && !history[0].done;

  const patch = (id: number, f: (x: Exchange) => Exchange) => setHistory((h) => h.map((x) => (x.id === id ? f(x) : x)));

  const ask = async (q: string) => {
    const text = q.trim();
    if (!text || busy) return;
    const id = Date.now();
    setHistory((h) => [{ id, question: text, steps: [], answer: "", error: null, done: false }, ...h].slice(0, 10));
    const ctl = new AbortController();
    abort.current = ctl;
    try {
      await postEventStream(
        "/admin/analytics/ask",
        { question: text },
        (e) => {
          if (e.event === "answer") patch(id, (x) => ({ ...x, answer: x.answer + eventText(e.data) }));
          else if (e.event === "error") patch(id, (x) => ({ ...x, error: new ApiError(500, eventText(e.data)) }));
          else if (e.event === "tool") patch(id, (x) => ({ ...x, steps: [...x.steps, { kind: "tool", text: toolText(e.data) }] }));
          else patch(id, (x) => ({ ...x, steps: [...x.steps, { kind: "progress", text: eventText(e.data) }] }));
        },
        ctl.signal,
      );
    } catch (err) {
      if (!(err instanceof DOMException && err.name === "AbortError")) patch(id, (x) => ({ ...x, error: err }));
    } finally {
      patch(id, (x) => ({ ...x, done: true }));
      abort.current = null;
    }
  };

  return { history, busy, ask, stop: () => abort.current?.abort() };
}

export type AskState = ReturnType<typeof useAsk>;

/** Ask in plain words; Claude answers with the same guarded tools, as the signed-in admin. */
export function AskTab({ state }: { state: AskState }) {
  const { history, busy, stop } = state;
  const [question, setQuestion] = useState("");
  const ask = (q: string) => {
    if (!q.trim() || busy) return;
    setQuestion("");
    void state.ask(q);
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    ask(question);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && (e.metaKey || e.ctrlKey)) {
      e.preventDefault();
      ask(question);
    }
  };

  return (
    <div className="stack">
      <Card>
        <CardHeader>
          <CardTitle>Ask about the numbers</CardTitle>
          <CardDescription>
            Claude answers with the same tools as this page, as you: each question counts toward your rate limit and is audited.
          </CardDescription>
        </CardHeader>
        <CardContent>
          <form className="ask-form" onSubmit={submit}>
            <textarea
              name="question"
              aria-label="Question"
              placeholder="e.g. Why did costs go up last week?"
              rows={3}
              maxLength={2000}
              value={question}
              onChange={(e) => setQuestion(e.target.value)}
              onKeyDown={onKeyDown}
            />
            <div className="ask-actions">
              <div className="ask-examples">
                {EXAMPLES.map((x) => (
                  <button key={x} type="button" className="chip" onClick={() => ask(x)} disabled={busy}>
                    {x}
                  </button>
                ))}
              </div>
              {busy ? (
                <Button variant="outline" onClick={stop}>
                  <Square size={14} aria-hidden="true" />
                  Stop
                </Button>
              ) : (
                <Button type="submit" disabled={!question.trim()} data-testid="ask-submit">
                  <Send size={16} aria-hidden="true" />
                  Ask
                </Button>
              )}
            </div>
          </form>
        </CardContent>
      </Card>

      {history.map((x) => (
        <Card key={x.id} className="ask-exchange" data-testid="ask-exchange">
          <CardContent>
            <p className="ask-question">
              <Sparkles size={16} aria-hidden="true" />
              {x.question}
            </p>
            {x.steps.length > 0 && (
              <ol className="ask-steps">
                {x.steps.map((s, i) => (
                  <li key={i}>
                    {s.kind === "tool" ? <Wrench size={13} aria-hidden="true" /> : <CheckCircle2 size={13} aria-hidden="true" />}
                    <span>{s.text}</span>
                  </li>
                ))}
              </ol>
            )}
            {x.answer && <div className="ask-answer">{x.answer}</div>}
            {!x.done && !x.answer && (
              <p className="ask-thinking">
                <Loader2 size={14} className="spin" aria-hidden="true" /> Working…
              </p>
            )}
            {x.error != null && <ErrorState error={x.error} compact title="Claude couldn't answer" />}
            {x.done && !x.answer && x.error == null && <p className="muted">Stopped.</p>}
          </CardContent>
        </Card>
      ))}
    </div>
  );
}
