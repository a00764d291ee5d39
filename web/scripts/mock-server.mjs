#!/usr/bin/env node
// A stand-in for the Go server, for working on the dashboard's looks without
// building Go: serves dist/ like the binary does (index.html at
// /admin/analytics and /login, assets under /static/) and answers the API
// with made-up but well-formed data. Not used by the tests, which run
// against the real server.
//
//   npm run build && node scripts/mock-server.mjs [port]
//   sign in as owner@x.test / viewer@x.test / analyst@x.test, password "demo"
//   MOCK_UNPRICED=1 adds an unpriced model; MOCK_429=1 rate-limits every API call;
//   MOCK_ASK=1 answers Ask with a canned event stream (else 503).
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const dist = fileURLToPath(new URL("../dist/", import.meta.url));
const port = Number(process.argv[2] ?? 5180);
const ROLES = {
  viewer: ["VIEW_ANALYTICS"],
  analyst: ["VIEW_ANALYTICS", "EXPORT_DATA"],
  owner: ["VIEW_ANALYTICS", "EXPORT_DATA", "MANAGE_ADMINS", "VIEW_AUDIT"],
};
const sessions = new Map();
const audit = [];

function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}
const dayNum = (s) => Math.floor(Date.parse(`${s}T00:00:00Z`) / 86400000);
const dayStr = (n) => new Date(n * 86400000).toISOString().slice(0, 10);
const r6 = (x) => Math.round(x * 1e6) / 1e6;
const r4 = (x) => Math.round(x * 1e4) / 1e4;

function day(n) {
  const r = rng(n * 7919);
  const wave = 1 + 0.25 * Math.sin(n / 5);
  const stories = Math.round((120 + r() * 60) * wave);
  const anthropic = r6(stories * (0.09 + r() * 0.02));
  const elevenlabs = r6(stories * (0.05 + r() * 0.01));
  const s3 = r6(stories * 0.0021 + r() * 0.01);
  return {
    date: dayStr(n),
    new_users: Math.round(18 + r() * 14),
    active_users: Math.round(420 + r() * 90),
    stories,
    anthropic,
    elevenlabs,
    s3,
    revenue: r6(stories * (0.42 + r() * 0.1)),
    churned: Math.round(r() * 5),
  };
}

function range(q) {
  const end = q.get("end_date") ?? dayStr(Math.floor(Date.now() / 86400000));
  const start = q.get("start_date") ?? dayStr(dayNum(end) - 30);
  const re = /^\d{4}-\d{2}-\d{2}$/;
  if (!re.test(start) || !re.test(end)) return { error: "Invalid date format (expected YYYY-MM-DD)" };
  const s = dayNum(start);
  const e = dayNum(end);
  if (e < s) return { error: "End date must be after start date" };
  if (e - s > 365) return { error: "Date range cannot exceed 365 days" };
  const days = [];
  for (let n = s; n <= e; n++) days.push(day(n));
  return { start, end, days, period: { start, end, days: e - s + 1, timezone: "UTC" } };
}

const sum = (xs, f) => xs.reduce((a, x) => a + f(x), 0);

function dashboard(r) {
  const cost = sum(r.days, (d) => d.anthropic + d.elevenlabs + d.s3);
  const revenue = sum(r.days, (d) => d.revenue);
  const stories = sum(r.days, (d) => d.stories);
  return {
    totals: {
      new_users: sum(r.days, (d) => d.new_users),
      active_users: 1800,
      churned_users: sum(r.days, (d) => d.churned),
      stories_created: stories,
      stories_completed: Math.round(stories * 0.96),
      stories_failed: Math.round(stories * 0.03),
      total_chapters: stories * 5,
      total_audio_minutes: stories * 11.37,
      api_requests: stories * 14,
      api_errors: Math.round(stories * 0.2),
      unpriced_calls: process.env.MOCK_UNPRICED ? 37 : 0,
      total_cost_cents: r4(cost * 100),
      revenue_cents: r4(revenue * 100),
      profit_margin: revenue ? ((revenue - cost) / revenue) * 100 : 0,
    },
    daily: r.days.map((d) => ({
      date: d.date,
      new_users: d.new_users,
      active_users: d.active_users,
      stories: d.stories,
      cost: r6(d.anthropic + d.elevenlabs + d.s3),
      revenue: d.revenue,
    })),
    period: r.period,
  };
}

function costs(r) {
  const an = sum(r.days, (d) => d.anthropic);
  const el = sum(r.days, (d) => d.elevenlabs);
  const s3 = sum(r.days, (d) => d.s3);
  const total = an + el + s3;
  const svc = (m) => ({ cost_cents: r4(m * 100), cost_dollars: r6(m), percentage: total ? (m / total) * 100 : 0 });
  const stories = sum(r.days, (d) => d.stories);
  const model = (service, name, share, extra) => {
    const c = r6(share);
    return {
      service,
      model: name,
      calls: Math.round(stories * (extra.k ?? 1)),
      errors: Math.round(stories * 0.004),
      unpriced_calls: 0,
      input_tokens: 0,
      output_tokens: 0,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      characters: 0,
      bytes_transferred: 0,
      requests: 0,
      ...extra,
      cost_cents: r4(c * 100),
      cost_dollars: c,
      percentage: total ? (c / total) * 100 : 0,
    };
  };
  const by_model = [
    model("anthropic", "claude-sonnet-4-5", an * 0.82, { k: 5, input_tokens: stories * 9000, output_tokens: stories * 4200, cache_read_input_tokens: stories * 30000 }),
    model("elevenlabs", "eleven_multilingual_v2", el, { k: 5, characters: stories * 21000 }),
    model("anthropic", "claude-haiku-4-5", an * 0.18, { k: 3, input_tokens: stories * 3000, output_tokens: stories * 600 }),
    model("s3", "standard", s3, { k: 6, bytes_transferred: stories * 48e6, requests: stories * 6 }),
  ];
  if (process.env.MOCK_UNPRICED) {
    by_model.push({ ...model("anthropic", "claude-experimental-x", 0, { k: 0.01 }), unpriced_calls: 37, calls: 37 });
  }
  return {
    breakdown: { anthropic: svc(an), elevenlabs: svc(el), s3: svc(s3), total: { cost_cents: r4(total * 100), cost_dollars: r6(total) } },
    daily: r.days.map((d) => ({ date: d.date, anthropic: d.anthropic, elevenlabs: d.elevenlabs, s3: d.s3 })),
    by_model,
    by_operation: [
      { service: "anthropic", operation: "write_chapter", calls: stories * 5, errors: 12, unpriced_calls: 0, cost_cents: r4(an * 90), cost_dollars: r6(an * 0.9), percentage: total ? (an * 0.9 * 100) / total : 0 },
      { service: "elevenlabs", operation: "narrate", calls: stories * 5, errors: 3, unpriced_calls: 0, cost_cents: r4(el * 100), cost_dollars: r6(el), percentage: total ? (el * 100) / total : 0 },
      { service: "anthropic", operation: "outline", calls: stories, errors: 1, unpriced_calls: 0, cost_cents: r4(an * 10), cost_dollars: r6(an * 0.1), percentage: total ? (an * 10) / total : 0 },
      { service: "s3", operation: "put_audio", calls: stories * 6, errors: 0, unpriced_calls: 0, cost_cents: r4(s3 * 100), cost_dollars: r6(s3), percentage: total ? (s3 * 100) / total : 0 },
    ],
    unpriced_calls: process.env.MOCK_UNPRICED ? 37 : 0,
    period: r.period,
  };
}

function growth(r) {
  const before = 8000 + (dayNum(r.start) - 20000) * 20;
  let total = before;
  const daily = r.days.map((d) => {
    total += d.new_users;
    return { date: d.date, new_users: d.new_users, total_users: total, active_users: d.active_users, churned: d.churned };
  });
  return {
    daily,
    growth_rate: before ? ((total - before) / before) * 100 : 0,
    total_new: total - before,
    total_churned: sum(r.days, (d) => d.churned),
    users_before: before,
    users_at_end: total,
    active_users: 1800,
    period: r.period,
  };
}

function top(r, sort, limit) {
  const rand = rng(dayNum(r.start) + dayNum(r.end));
  const users = Array.from({ length: 40 }, (_, i) => ({
    user_id: `u_${(100000 + i * 7919).toString(36)}`,
    email: i % 9 === 4 ? null : `reader${i + 1}@example.com`,
    stories: Math.round(5 + rand() * 60),
    api_calls: Math.round(50 + rand() * 900),
    audio_minutes: r4(rand() * 700),
    cost_dollars: r6(rand() * 40),
  }));
  const key = { cost: "cost_dollars", stories: "stories", api_calls: "api_calls" }[sort] ?? "cost_dollars";
  return users.sort((a, b) => b[key] - a[key]).slice(0, limit);
}

function csv(r) {
  const rows = dashboard(r).daily.map((d) => [d.date, d.new_users, d.active_users, d.stories, d.cost, d.revenue].join(","));
  return ["Date,New Users,Active Users,Stories,Cost,Revenue", ...rows].join("\n") + "\n";
}

function send(res, status, body, headers = {}) {
  const isText = typeof body === "string";
  res.writeHead(status, { "Content-Type": isText ? "text/plain; charset=utf-8" : "application/json", ...headers });
  res.end(isText ? body : JSON.stringify(body));
}

function cookieSession(req) {
  const m = /(?:^|;\s*)session=([^;]+)/.exec(req.headers.cookie ?? "");
  return m ? sessions.get(m[1]) : undefined;
}

function log(s, action, outcome = "allowed", details = {}) {
  audit.unshift({
    id: audit.length + 1,
    time: new Date().toISOString(),
    admin_id: s?.email ?? "",
    admin_email: s?.email ?? "",
    door: "rest",
    action,
    outcome,
    reason: outcome === "denied" ? "missing permission EXPORT_DATA" : "",
    details,
  });
}

const MIME = { ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".woff2": "font/woff2", ".html": "text/html; charset=utf-8" };

async function file(res, path) {
  try {
    const body = await readFile(path);
    res.writeHead(200, { "Content-Type": MIME[extname(path)] ?? "application/octet-stream" });
    res.end(body);
  } catch {
    send(res, 404, { error: "not found" });
  }
}

async function body(req) {
  let s = "";
  for await (const c of req) s += c;
  try {
    return JSON.parse(s || "{}");
  } catch {
    return {};
  }
}

createServer(async (req, res) => {
  const url = new URL(req.url, "http://x");
  const p = url.pathname;
  const q = url.searchParams;
  if (req.method === "GET" && (p === "/admin/analytics" || p === "/login")) return file(res, join(dist, "index.html"));
  if (req.method === "GET" && p.startsWith("/static/")) return file(res, join(dist, normalize(p.slice(8)).replace(/^(\.\.[/\\])+/, "")));
  if (req.method === "POST" && p === "/login") {
    const b = await body(req);
    const role = /^(viewer|analyst|owner)@/.exec(b.email ?? "")?.[1];
    if (!role || b.password !== "demo") return send(res, 401, { error: "invalid email or password" });
    const id = Math.random().toString(36).slice(2);
    const s = { email: b.email, role, permissions: ROLES[role], csrf_token: `csrf-${id}` };
    sessions.set(id, s);
    log(s, "login_succeeded");
    return send(res, 200, s, { "Set-Cookie": `session=${id}; Path=/; HttpOnly; SameSite=Strict` });
  }
  const s = cookieSession(req);
  if (p === "/api/session") return s ? send(res, 200, s) : send(res, 401, { error: "not signed in" });
  if (req.method === "POST" && p === "/logout") {
    if (!s || req.headers["x-csrf-token"] !== s.csrf_token) return send(res, 403, { error: "invalid CSRF token" });
    return send(res, 200, {}, { "Set-Cookie": "session=; Path=/; Max-Age=0" });
  }
  if (!s) return send(res, 401, { error: "authentication required" });
  if (req.method === "POST" && p === "/admin/analytics/ask") {
    if (req.headers["x-csrf-token"] !== s.csrf_token) return send(res, 403, { error: "invalid CSRF token" });
    const b = await body(req);
    if (!process.env.MOCK_ASK) return send(res, 503, { error: "Ask is not configured: set ANTHROPIC_API_KEY on the server" });
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
    const ev = (event, data) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const wait = (ms) => new Promise((ok) => setTimeout(ok, ms));
    ev("progress", { message: `Thinking about: ${b.question}` });
    await wait(400);
    ev("tool", { tool: "get_cost_breakdown", input: { start_date: "2026-11-19", end_date: "2026-11-26" } });
    await wait(600);
    ev("answer", { text: "ElevenLabs narration was 93.6% of spend ($10,027.40 of $10,709.01).\n\nAnthropic was 6.2%; S3 is negligible." });
    return res.end();
  }
  if (process.env.MOCK_429 && p.startsWith("/admin/analytics/"))
    return send(res, 429, { error: "Rate limit exceeded: 30 analytics requests per minute" }, { "Retry-After": "42" });
  if (p === "/admin/audit") {
    if (!s.permissions.includes("VIEW_AUDIT")) return send(res, 403, { error: "missing permission VIEW_AUDIT" });
    const entries = audit.filter((e) => (!q.get("admin") || e.admin_email === q.get("admin")) && (!q.get("action") || e.action === q.get("action")));
    return send(res, 200, { entries: entries.slice(0, Number(q.get("limit") ?? 50)), next_before: null });
  }
  const r = range(q);
  if (r.error) return send(res, 400, { error: r.error });
  await new Promise((ok) => setTimeout(ok, 150));
  switch (p) {
    case "/admin/analytics/dashboard":
      log(s, "analytics_dashboard_viewed", "allowed", { start_date: r.start, end_date: r.end });
      return send(res, 200, dashboard(r));
    case "/admin/analytics/costs":
      return send(res, 200, costs(r));
    case "/admin/analytics/users/growth":
      return send(res, 200, growth(r));
    case "/admin/analytics/users/top":
      return send(res, 200, top(r, q.get("sort_by"), Number(q.get("limit") ?? 10)));
    case "/admin/analytics/export": {
      if (!s.permissions.includes("EXPORT_DATA")) {
        log(s, "analytics_data_exported", "denied", { format: q.get("format") });
        return send(res, 403, { error: "missing permission EXPORT_DATA" });
      }
      log(s, "analytics_data_exported", "allowed", { start_date: r.start, end_date: r.end, format: q.get("format") ?? "csv", alert: "DATA_EXPORT" });
      if (q.get("format") === "json") return send(res, 200, { format: "json", data: dashboard(r).daily });
      return send(res, 200, csv(r), {
        "Content-Type": "text/csv",
        "Content-Disposition": `attachment; filename=analytics_${r.start}_${r.end}.csv`,
      });
    }
  }
  send(res, 404, { error: "not found" });
}).listen(port, "127.0.0.1", () => console.log(`mock analytics listening on http://127.0.0.1:${port}`));
