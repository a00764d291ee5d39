#!/usr/bin/env node
// A stand-in for the Go server, for working on the dashboard's looks without
// building Go: serves dist/ like the binary does (index.html at
// /admin/analytics and /login, assets under /static/) and answers the API
// with made-up but well-formed data (budgets, alerts and anomalies too).
// Not used by the tests, which run against the real server.
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
  owner: ["VIEW_ANALYTICS", "EXPORT_DATA", "MANAGE_ADMINS", "VIEW_AUDIT", "MANAGE_PRICES", "MANAGE_BUDGETS"],
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

// DAU is the day's active users; WAU and MAU are made up from the 7 and 30
// days ending each day (days before the range count, as on the server).
function engagement(r) {
  const daily = r.days.map((d) => {
    const n = dayNum(d.date);
    const back = (k) => Array.from({ length: k }, (_, i) => day(n - i).active_users);
    const dau = d.active_users;
    const wau = Math.max(dau, Math.round(sum(back(7), (x) => x) * 0.45));
    const mau = Math.max(wau, Math.round(sum(back(30), (x) => x) * 0.16));
    return { date: d.date, dau, wau, mau, stickiness: mau ? r6(dau / mau) : 0 };
  });
  const average_stickiness = daily.length ? r6(sum(daily, (d) => d.stickiness) / daily.length) : 0;
  return { daily, average_stickiness, period: r.period };
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

// Unit economics (issue 13): a fixed population of users whose revenue and
// cost depend on the range, keyset-paged like the server (the cursor is the
// offset here, which is all a drawing board needs).
function economicsUsers(r) {
  const rand = rng(dayNum(r.start) * 31 + dayNum(r.end));
  const scale = r.days.length / 30;
  return Array.from({ length: 137 }, (_, i) => {
    const stories = Math.round(rand() * 14 * scale);
    const cost_cents = r4(stories * (60 + rand() * 180) + rand() * 40);
    const paying = rand() < 0.3;
    const revenue_cents = paying ? Math.round((999 + (rand() < 0.2 ? 1000 : 0)) * Math.max(1, Math.round(scale))) : 0;
    const margin_cents = r4(revenue_cents - cost_cents);
    return {
      user_id: `u_${(200000 + i * 7919).toString(36)}`,
      email: i % 11 === 3 ? null : `reader${i + 1}@example.com`,
      revenue_cents,
      cost_cents,
      margin_cents,
      margin_pct: revenue_cents ? (margin_cents / revenue_cents) * 100 : null,
      stories,
      cost_per_story_cents: stories ? r4(cost_cents / stories) : null,
    };
  }).filter((u) => u.stories > 0 || u.revenue_cents > 0);
}

function economics(r, q) {
  const sortBy = q.get("sort_by") || "margin";
  const order = q.get("order") || "asc";
  const limit = Number(q.get("limit") || 50);
  if (!["margin", "cost", "revenue", "stories"].includes(sortBy)) return { error: `sort_by must be one of margin, cost, revenue, stories (got "${sortBy}")` };
  if (order !== "asc" && order !== "desc") return { error: `order must be asc or desc (got "${order}")` };
  if (!(limit >= 1 && limit <= 500)) return { error: `limit must be between 1 and 500 (got ${limit})` };
  const users = economicsUsers(r);
  const key = `${sortBy}_cents` in users[0] ? `${sortBy}_cents` : sortBy;
  const dir = order === "desc" ? -1 : 1;
  users.sort((a, b) => dir * (a[key] - b[key]) || a.user_id.localeCompare(b.user_id));
  const from = Number(q.get("cursor") ? Buffer.from(q.get("cursor"), "base64url").toString() : 0);
  const page = users.slice(from, from + limit);
  const losing = users.filter((u) => u.margin_cents < 0);
  return {
    users: page,
    summary: {
      users: users.length,
      paying_users: users.filter((u) => u.revenue_cents > 0).length,
      users_losing_money: losing.length,
      loss_cents: r4(sum(losing, (u) => u.margin_cents)),
      revenue_cents: r4(sum(users, (u) => u.revenue_cents)),
      cost_cents: r4(sum(users, (u) => u.cost_cents)),
      margin_cents: r4(sum(users, (u) => u.margin_cents)),
    },
    next_cursor: from + limit < users.length ? Buffer.from(String(from + limit)).toString("base64url") : null,
    sort_by: sortBy,
    order,
    limit,
    period: r.period,
  };
}

function stories(r, limit) {
  const rand = rng(dayNum(r.start) * 17 + dayNum(r.end));
  const n = Math.min(400, sum(r.days, (d) => d.stories) >> 3);
  const all = Array.from({ length: n }, (_, i) => {
    const u = rand();
    const status = u < 0.03 ? "failed" : u < 0.035 ? "in_progress" : "completed";
    const chapters = status === "completed" ? 3 + Math.floor(rand() * 7) : Math.floor(rand() * 3);
    const audio_seconds = status === "completed" ? chapters * (200 + Math.round(rand() * 160)) : 0;
    const anthropic = r4(chapters * (18 + rand() * 30) + 6);
    const elevenlabs = r4(audio_seconds * (0.11 + rand() * 0.05));
    const s3 = r4(0.02 + audio_seconds * 0.0004);
    return {
      story_id: `s_${(900000 + i * 104729).toString(36)}`,
      user_id: `u_${(200000 + Math.floor(rand() * 137) * 7919).toString(36)}`,
      date: r.days[Math.floor(rand() * r.days.length)].date,
      status,
      chapters,
      audio_seconds,
      cost_cents: r4(anthropic + elevenlabs + s3),
      by_service: { anthropic, elevenlabs, s3 },
    };
  });
  const done = all.filter((s) => s.status === "completed").map((s) => s.cost_cents).sort((a, b) => a - b);
  const rank = (p) => done[Math.max(Math.ceil(p * done.length), 1) - 1];
  const max = done[done.length - 1] ?? 0;
  const width = max / 20;
  const histogram = done.length
    ? Array.from({ length: 20 }, (_, i) => ({ from_cents: r4(i * width), to_cents: r4((i + 1) * width), stories: done.filter((c) => Math.min(19, Math.floor(c / width)) === i).length }))
    : [];
  const completedCost = sum(done, (c) => c);
  const audioMin = sum(all.filter((s) => s.status === "completed"), (s) => s.audio_seconds) / 60;
  return {
    stories: all.length,
    completed: done.length,
    failed: all.filter((s) => s.status === "failed").length,
    in_progress: all.filter((s) => s.status === "in_progress").length,
    cost_cents: r4(sum(all, (s) => s.cost_cents)),
    failed_cost_cents: r4(sum(all.filter((s) => s.status === "failed"), (s) => s.cost_cents)),
    cost_per_completed_story_cents: done.length
      ? { mean: r4(completedCost / done.length), p50: rank(0.5), p90: rank(0.9), p99: rank(0.99), max }
      : { mean: null, p50: null, p90: null, p99: null, max: null },
    cost_per_audio_minute_cents: audioMin ? completedCost / audioMin : null,
    histogram,
    top: [...all].sort((a, b) => b.cost_cents - a.cost_cents || a.story_id.localeCompare(b.story_id)).slice(0, limit),
    period: r.period,
  };
}

// Cohorts of full weeks (Monday first) or months that start inside the range.
function cohorts(r, period) {
  if (period !== "week" && period !== "month") return { error: `period must be week or month (got "${period}")` };
  const s = dayNum(r.start);
  const e = dayNum(r.end);
  const starts = [];
  if (period === "week") {
    let d = s + ((4 - ((s % 7) + 7)) % 7 + 7) % 7; // 1970-01-01 was a Thursday: Monday is n % 7 === 4
    for (; d <= e; d += 7) starts.push(d);
  } else {
    const first = new Date(s * 86400000);
    let y = first.getUTCFullYear(), m = first.getUTCMonth() + (first.getUTCDate() === 1 ? 0 : 1);
    for (;;) {
      const d = Math.floor(Date.UTC(y, m, 1) / 86400000);
      if (d > e) break;
      starts.push(d);
      m++;
    }
  }
  const list = starts.map((d, i) => {
    const rand = rng(d * 13 + (period === "week" ? 1 : 2));
    const size = Math.round((period === "week" ? 110 : 480) + rand() * 60);
    const n = starts.length - i;
    const retained = [];
    const revenue_cents = [];
    const cost_cents = [];
    let rev = 0, cost = 0;
    for (let k = 0; k < n; k++) {
      const active = k === 0 ? Math.round(size * (0.85 + rand() * 0.1)) : Math.round(size * (0.55 * Math.pow(0.8, k - 1)) * (0.9 + rand() * 0.2));
      retained.push(active);
      rev += active * (k === 0 ? 250 : 420) * (0.8 + rand() * 0.4);
      cost += active * 180 * (0.8 + rand() * 0.4);
      revenue_cents.push(Math.round(rev));
      cost_cents.push(r4(cost));
    }
    return { cohort: dayStr(d), size, retained, revenue_cents, cost_cents };
  });
  return { granularity: period, cohorts: list, unattributed_users: 12, period: r.period };
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

// Prices and admin lifecycle, in memory (the shapes of the contract, not its rules).
const prices = [
  { service: "anthropic", model: "claude-sonnet-4-5", aliases: ["claude-sonnet-4-5-20250929"], effective_from: "2025-09-29", rates: { input: "3.00", output: "15.00", cache_write_5m: "3.75", cache_write_1h: "6.00", cache_read: "0.30" }, long_context_threshold: 200000, long_context_rates: {}, note: "", source: "built-in" },
  { service: "anthropic", model: "claude-haiku-4-5", aliases: [], effective_from: "2025-10-15", rates: { input: "1.00", output: "5.00", cache_write_5m: "1.25", cache_write_1h: "2.00", cache_read: "0.10" }, note: "", source: "built-in" },
  { service: "elevenlabs", model: "eleven_multilingual_v2", aliases: [], effective_from: "2025-01-01", rates: { characters: "0.30" }, note: "", source: "file" },
  { service: "s3", model: "standard", aliases: [], effective_from: "2025-01-01", rates: { transfer_out: "0.09", tier1_requests: "0.005", tier2_requests: "0.0004" }, note: "", source: "built-in" },
];
let unpriced = process.env.MOCK_UNPRICED ? [{ service: "anthropic", model: "claude-experimental-x", calls: 262 }] : [];
const admins = [
  { id: 1, email: "owner@x.test", role: "owner", disabled: false, created_at: "2026-01-05T09:00:00Z", last_login_at: new Date().toISOString() },
  { id: 2, email: "analyst@x.test", role: "analyst", disabled: false, created_at: "2026-02-11T14:30:00Z", last_login_at: null },
  { id: 3, email: "viewer@x.test", role: "viewer", disabled: true, created_at: "2026-03-02T08:15:00Z", last_login_at: "2026-06-01T10:00:00Z" },
];
const tokens = [
  { id: 1, admin_id: 1, admin_email: "owner@x.test", name: "grafana", created_at: "2026-04-01T00:00:00Z", expires_at: "2026-12-30T00:00:00Z", last_used_at: "2026-11-28T07:00:00Z", revoked_at: null },
  { id: 2, admin_id: 2, admin_email: "analyst@x.test", name: "laptop", created_at: "2026-05-01T00:00:00Z", expires_at: null, last_used_at: null, revoked_at: "2026-06-01T00:00:00Z" },
];
const ingestKeys = [
  { id: 1, name: "story-backend", created_at: "2026-01-05T09:00:00Z", expires_at: null, last_used_at: new Date().toISOString(), revoked_at: null },
];

async function lifecycle(req, res, p, q) {
  const m = req.method;
  if (p === "/admin/prices" && m === "GET") return send(res, 200, { entries: prices, unpriced });
  if (p === "/admin/prices" && m === "POST") {
    const b = await body(req);
    let added = 0, replaced = 0;
    for (const e of b.entries ?? []) {
      const i = prices.findIndex((x) => x.service === e.service && x.model === e.model && x.effective_from === e.effective_from);
      const entry = { aliases: [], note: "", ...e, source: "database" };
      if (i >= 0) { prices[i] = entry; replaced++; } else { prices.push(entry); added++; }
    }
    return send(res, 200, { added, replaced, entries: prices });
  }
  if (p === "/admin/prices" && m === "DELETE") {
    const i = prices.findIndex((x) => x.source === "database" && x.service === q.get("service") && x.model === q.get("model") && x.effective_from === q.get("effective_from"));
    if (i < 0) return send(res, 404, { error: "no database entry with that service, model and effective_from" });
    prices.splice(i, 1);
    return send(res, 200, { removed: 1 });
  }
  if (p === "/admin/prices/reprice" && m === "POST") {
    const b = await body(req);
    const priced = unpriced.filter((u) => prices.some((x) => x.model === u.model) && (!b.model || b.model === u.model));
    const by_model = priced.map((u) => ({ service: u.service, model: u.model, calls: u.calls, calls_repriced: u.calls, old_cost_cents: 0, new_cost_cents: u.calls * 1.25, unpriced_before: u.calls, unpriced_after: 0 }));
    const n = by_model.reduce((a, x) => a + x.calls, 0);
    if (!b.dry_run) unpriced = unpriced.filter((u) => !priced.includes(u));
    return send(res, 200, { dry_run: !!b.dry_run, calls_examined: n, calls_repriced: n, unpriced_before: n, unpriced_after: 0, old_cost_cents: 0, new_cost_cents: n * 1.25, by_model });
  }
  if (p === "/admin/admins" && m === "GET") return send(res, 200, { admins });
  let mm = /^\/admin\/admins\/(\d+)(\/reset-password)?$/.exec(p);
  if (mm) {
    const a = admins.find((x) => x.id === Number(mm[1]));
    if (!a) return send(res, 404, { error: "no such admin" });
    const owners = admins.filter((x) => x.role === "owner" && !x.disabled);
    const last = owners.length === 1 && owners[0] === a;
    if (mm[2] && m === "POST") return send(res, 200, { password: Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2) });
    if (m === "PATCH") {
      const b = await body(req);
      if (last && ((b.role && b.role !== "owner") || b.disabled)) return send(res, 409, { error: `${a.email} is the last enabled owner` });
      Object.assign(a, b);
      return send(res, 200, a);
    }
    if (m === "DELETE") {
      if (last) return send(res, 409, { error: `${a.email} is the last enabled owner` });
      admins.splice(admins.indexOf(a), 1);
      res.writeHead(204);
      return res.end();
    }
  }
  if (p === "/admin/tokens" && m === "GET") return send(res, 200, { tokens });
  if (p === "/admin/ingest-keys" && m === "GET") return send(res, 200, { ingest_keys: ingestKeys });
  mm = /^\/admin\/(tokens|ingest-keys)\/(\d+)$/.exec(p);
  if (mm && m === "DELETE") {
    const list = mm[1] === "tokens" ? tokens : ingestKeys;
    const t = list.find((x) => x.id === Number(mm[2]) && !x.revoked_at);
    if (!t) return send(res, 404, { error: `no live ${mm[1] === "tokens" ? "token" : "ingest key"} with id ${mm[2]}` });
    t.revoked_at = new Date().toISOString();
    res.writeHead(204);
    return res.end();
  }
  return send(res, 404, { error: "not found" });
}

// Budgets (made-up standing; the real figures come from the Go server).
const budgets = [
  { id: 1, name: "Claude this month", scope: "service", scope_value: "anthropic", period: "month", amount_dollars: "500.00", thresholds: [50, 80, 100], webhooks: [{ id: 1, url: "https://hooks.example.com/x", format: "standard" }], notify_anomalies: false },
  { id: 2, name: "Per reader per day", scope: "each_user", scope_value: "", period: "day", amount_dollars: "2.00", thresholds: [80, 100], webhooks: [{ id: 2, url: "https://hooks.slack.com/services/T0/B0/x", format: "slack" }], notify_anomalies: true },
];
let nextBudget = 3;
function budgetStatus(b) {
  const today = new Date().toISOString().slice(0, 10);
  const start = b.period === "day" ? today : `${today.slice(0, 8)}01`;
  const amount = Number(b.amount_dollars);
  const spend = b.id === 1 ? amount * 0.83 : b.id === 2 ? 2.5 : amount * 0.12;
  const pct = Math.round((spend / amount) * 1000) / 10;
  const p = (user_id, sp) => ({ user_id, spend_dollars: sp.toFixed(2), percent: Math.round((sp / amount) * 1000) / 10, remaining_dollars: Math.max(0, amount - sp).toFixed(2), thresholds_fired: b.thresholds.filter((t) => sp * 100 >= amount * t), forecast_dollars: (sp * 1.3).toFixed(2), projected_date: sp >= amount ? today : null });
  const end = b.period === "day" ? today : dayStr(dayNum(`${today.slice(0, 8)}01`) + 40).slice(0, 8) + "01";
  const st = { budget: b, period_start: start, period_end: b.period === "day" ? today : dayStr(dayNum(end) - 1), today, timezone: "UTC", ...p(undefined, spend) };
  if (b.scope === "each_user") Object.assign(st, p("u42", 2.5), { users: [p("u42", 2.5), p("u7", 1.7)] });
  return { ...st, percent: b.scope === "each_user" ? 125 : pct };
}
async function budgetsAPI(req, res, p, q) {
  const now = new Date().toISOString();
  if (p === "/admin/anomalies") {
    const r = range(q);
    if (r.error) return send(res, 400, { error: r.error });
    const daily = costs(r).daily;
    const top = daily.reduce((a, d) => (d.elevenlabs > (a?.elevenlabs ?? 0) ? d : a), null);
    const anomalies = top ? [{ service: "elevenlabs", date: top.date, cost_dollars: top.elevenlabs.toFixed(2), baseline_dollars: (top.elevenlabs * 0.6).toFixed(2), threshold_dollars: (top.elevenlabs * 0.8).toFixed(2) }] : [];
    return send(res, 200, { period: { start: r.start, end: r.end, days: daily.length, timezone: "UTC" }, anomalies });
  }
  if (p === "/admin/alerts") {
    const d = (state, attempts, extra = {}) => ({ id: attempts, message_id: `msg_${attempts}`, url: "https://hooks.example.com/x", format: "standard", state, attempts, next_attempt_at: state === "pending" ? now : null, delivered_at: state === "delivered" ? now : null, last_error: state === "delivered" ? "" : "receiver answered 503 Service Unavailable", attempt_log: [{ at: now, status_code: state === "delivered" ? 200 : 503, error: "", duration_ms: 40 }], ...extra });
    const a = (id, t, deliveries) => ({ id, key: `threshold:1:x:${t}:`, type: "budget.threshold_crossed", budget_id: 1, budget_name: "Claude this month", user_id: "", service: "", period_start: now.slice(0, 8) + "01", period_end: now.slice(0, 10), threshold_percent: t, body: { data: { spend_dollars: "415.00", amount_dollars: "500.00" } }, created_at: now, deliveries });
    return send(res, 200, { alerts: [a(2, 80, [d("pending", 3)]), a(1, 50, [d("delivered", 1)])] });
  }
  const m = /^\/admin\/budgets(?:\/(\d+))?(\/status)?$/.exec(p);
  if (!m) return send(res, 404, { error: "not found" });
  const b = m[1] ? budgets.find((x) => x.id === Number(m[1])) : null;
  if (m[1] && !b) return send(res, 404, { error: `budget ${m[1]} not found` });
  const secretless = (x) => ({ ...x, webhooks: x.webhooks.map(({ secret, ...w }) => w) });
  const hooks = (ws) => (ws ?? []).map((w, i) => ({ id: nextBudget * 10 + i, url: w.url, format: w.format ?? "standard", secret: (w.format ?? "standard") === "standard" ? `whsec_${Buffer.from(Math.random().toString(36)).toString("base64")}` : undefined }));
  if (m[2]) return send(res, 200, budgetStatus(b));
  if (req.method === "GET") return send(res, 200, b ? secretless(b) : { budgets: budgets.map(secretless) });
  const in_ = req.method === "DELETE" ? {} : await body(req);
  if (req.method === "POST") {
    const nb = { id: nextBudget++, thresholds: [50, 80, 100], notify_anomalies: false, ...in_, webhooks: hooks(in_.webhooks), created_at: now, updated_at: now };
    budgets.push(nb);
    return send(res, 201, nb);
  }
  if (req.method === "PATCH") {
    Object.assign(b, in_, in_.webhooks ? { webhooks: hooks(in_.webhooks) } : {}, { updated_at: now });
    return send(res, 200, b);
  }
  if (req.method === "DELETE") {
    budgets.splice(budgets.indexOf(b), 1);
    res.writeHead(204).end();
    return;
  }
  send(res, 405, { error: "method not allowed" });
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
    const today = new Date().toISOString().slice(0, 10);
    const s = { email: b.email, role, permissions: ROLES[role], csrf_token: `csrf-${id}`, today, timezone: "UTC" };
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
  const csrfOK = req.headers["x-csrf-token"] === s.csrf_token;
  if (p === "/admin/prices" || p === "/admin/prices/reprice" || /^\/admin\/(admins|tokens|ingest-keys)(\/|$)/.test(p)) {
    if (req.method !== "GET" && !csrfOK) return send(res, 403, { error: "invalid CSRF token" });
    const need = p.startsWith("/admin/prices") ? (req.method === "GET" ? null : "MANAGE_PRICES") : "MANAGE_ADMINS";
    if (need && !s.permissions.includes(need)) return send(res, 403, { error: `missing permission ${need}` });
    return lifecycle(req, res, p, q);
  }
  if (p === "/admin/alerts" || p === "/admin/anomalies" || /^\/admin\/budgets(\/|$)/.test(p)) {
    if (req.method !== "GET" && !csrfOK) return send(res, 403, { error: "invalid CSRF token" });
    if (req.method !== "GET" && !s.permissions.includes("MANAGE_BUDGETS")) return send(res, 403, { error: "missing permission MANAGE_BUDGETS" });
    return budgetsAPI(req, res, p, q);
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
    case "/admin/analytics/engagement":
      return send(res, 200, engagement(r));
    case "/admin/analytics/users/economics": {
      const e = economics(r, q);
      return e.error ? send(res, 400, e) : send(res, 200, e);
    }
    case "/admin/analytics/stories": {
      const limit = Number(q.get("limit") || 10);
      if (!(limit >= 1 && limit <= 100)) return send(res, 400, { error: `limit must be between 1 and 100 (got ${limit})` });
      return send(res, 200, stories(r, limit));
    }
    case "/admin/analytics/cohorts": {
      const c = cohorts(r, q.get("period") || "week");
      return c.error ? send(res, 400, c) : send(res, 200, c);
    }
    case "/admin/analytics/users/top":
      return send(res, 200, top(r, q.get("sort_by"), Number(q.get("limit") ?? 10)));
    case "/admin/analytics/export": {
      if (!s.permissions.includes("EXPORT_DATA")) {
        log(s, "analytics_data_exported", "denied", { format: q.get("format") });
        return send(res, 403, { error: "missing permission EXPORT_DATA" });
      }
      log(s, "analytics_data_exported", "allowed", { start_date: r.start, end_date: r.end, format: q.get("format") ?? "csv", alert: "DATA_EXPORT" });
      const table = q.get("table") || "daily";
      if (table !== "daily") {
        const all = new URLSearchParams({ limit: "500" });
        const rows =
          table === "users" ? economics(r, all).users
          : table === "stories" ? stories(r, 100).top
          : table === "cohorts" ? cohorts(r, q.get("period") || "week").cohorts
          : null;
        if (!rows) return send(res, 400, { error: `table must be one of daily, users, stories, cohorts (got "${table}")` });
        if (q.get("format") === "json") return send(res, 200, { format: "json", table, [table]: rows });
        const flat = table === "cohorts"
          ? rows.flatMap((c) => c.retained.map((n, k) => ({ cohort: c.cohort, size: c.size, period: k, retained: n, revenue_cents: c.revenue_cents[k], cost_cents: c.cost_cents[k] })))
          : rows.map(({ by_service, ...x }) => ({ ...x, ...(by_service ? { anthropic_cents: by_service.anthropic, elevenlabs_cents: by_service.elevenlabs, s3_cents: by_service.s3 } : {}) }));
        const head = Object.keys(flat[0] ?? { empty: "" });
        const body = [head.join(","), ...flat.map((x) => head.map((h) => x[h] ?? "").join(","))].join("\n") + "\n";
        return send(res, 200, body, { "Content-Type": "text/csv", "Content-Disposition": `attachment; filename=analytics_${table}_${r.start}_${r.end}.csv` });
      }
      if (q.get("format") === "json") return send(res, 200, { format: "json", data: dashboard(r).daily });
      return send(res, 200, csv(r), {
        "Content-Type": "text/csv",
        "Content-Disposition": `attachment; filename=analytics_${r.start}_${r.end}.csv`,
      });
    }
  }
  send(res, 404, { error: "not found" });
}).listen(port, "127.0.0.1", () => console.log(`mock analytics listening on http://127.0.0.1:${port}`));
