// Test helpers for component tests (Vitest + happy-dom + Testing Library):
// a fresh QueryClient per test, and a fetch stand-in that records requests
// and answers from a route table. The real server is exercised by the
// Playwright suite; these tests pin down what each component sends and shows.
import type { ReactElement } from "react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import { vi } from "vitest";
import { ToastProvider } from "../components/Toast";

export function renderWithClient(ui: ReactElement) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  const utils = render(
    <QueryClientProvider client={client}>
      <ToastProvider>{ui}</ToastProvider>
    </QueryClientProvider>,
  );
  return { client, ...utils };
}

export interface Sent {
  method: string;
  path: string;
  body: unknown;
  headers: Record<string, string>;
}

type Reply = { status: number; body?: unknown } | ((req: Sent) => { status: number; body?: unknown });

/** Replaces fetch: `routes` maps "METHOD /path" (query included) to a reply. */
export function stubFetch(routes: Record<string, Reply>) {
  const sent: Sent[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), "http://localhost");
    const method = (init.method ?? "GET").toUpperCase();
    const headers: Record<string, string> = {};
    const h = init.headers;
    const pairs: [string, string][] =
      h instanceof Headers ? Array.from(h.entries()) : Array.isArray(h) ? (h as [string, string][]) : Object.entries(h ?? {});
    for (const [k, v] of pairs) headers[k.toLowerCase()] = v;
    const req: Sent = {
      method,
      path: url.pathname + url.search,
      body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
      headers,
    };
    sent.push(req);
    const route = routes[`${method} ${req.path}`];
    if (!route) return new Response(JSON.stringify({ error: `no stub for ${method} ${req.path}` }), { status: 599 });
    const r = typeof route === "function" ? route(req) : route;
    if (r.status === 204) return new Response(null, { status: 204 });
    return new Response(r.body === undefined ? "" : JSON.stringify(r.body), {
      status: r.status,
      headers: { "Content-Type": "application/json" },
    });
  });
  vi.stubGlobal("fetch", fn);
  return sent;
}
