import { describe, expect, it } from "vitest";
import {
  createRequest,
  describeScope,
  draftFromBudget,
  emptyBudgetDraft,
  parseDollars,
  parseThresholds,
  patchRequest,
  validateBudget,
  type BudgetDraft,
} from "./budgets";
import type { Budget } from "./types";

const budget: Budget = {
  id: 7,
  name: "Claude this month",
  scope: "service",
  scope_value: "anthropic",
  period: "month",
  amount_dollars: "500.00",
  thresholds: [50, 80, 100],
  webhooks: [{ id: 3, url: "https://hooks.example.com/x", format: "standard" }],
  notify_anomalies: false,
  created_at: "2026-11-01T00:00:00Z",
  updated_at: "2026-11-01T00:00:00Z",
};

describe("parseDollars", () => {
  it("reads exact decimals into micro-dollars", () => {
    expect(parseDollars("500")).toBe(500_000_000n);
    expect(parseDollars("500.00")).toBe(500_000_000n);
    expect(parseDollars(" 0.000125 ")).toBe(125n);
    expect(parseDollars("12.5")).toBe(12_500_000n);
  });
  it("refuses what the server refuses", () => {
    for (const s of ["", "$5", "5,00", "-1", "1.0000001", "1e3", "abc", "."]) expect(parseDollars(s)).toBeNull();
  });
});

describe("parseThresholds", () => {
  it("sorts, drops repeats, accepts commas, spaces and %", () => {
    expect(parseThresholds("100, 50 80%,50")).toEqual([50, 80, 100]);
    expect(parseThresholds("")).toEqual([50, 80, 100]);
  });
  it("says what is wrong", () => {
    expect(parseThresholds("50, x")).toBe('"x" is not a whole percent');
    expect(parseThresholds("0")).toBe("Thresholds are percents between 1 and 1000 (got 0)");
    expect(parseThresholds("1001")).toBe("Thresholds are percents between 1 and 1000 (got 1001)");
    expect(parseThresholds("1 2 3 4 5 6 7 8 9 10 11")).toBe("At most 10 thresholds");
  });
});

describe("validateBudget", () => {
  const ok: BudgetDraft = { ...emptyBudgetDraft(), name: "All", amount: "10.00" };
  it("accepts a minimal total budget", () => {
    expect(validateBudget(ok)).toEqual({});
  });
  it("names each wrong field", () => {
    const errs = validateBudget({
      ...ok,
      name: " ",
      scope: "user",
      scope_value: "",
      amount: "0",
      thresholds: "50, 2000",
      webhooks: [{ url: "ftp://x", format: "standard" }, { url: "https://u:p@h.example/", format: "slack" }],
    });
    expect(Object.keys(errs).sort()).toEqual(["amount", "name", "scope_value", "thresholds", "webhook.0", "webhook.1"]);
    expect(errs.amount).toBe("More than $0");
    expect(errs["webhook.1"]).toBe("No user name or password in the URL");
  });
  it("caps the amount at $1,000,000,000", () => {
    expect(validateBudget({ ...ok, amount: "1000000000.000001" }).amount).toBe("At most $1,000,000,000");
    expect(validateBudget({ ...ok, amount: "1000000000" })).toEqual({});
  });
});

describe("requests", () => {
  it("POST keeps the amount as typed (an exact decimal string) and sends no scope_value for total", () => {
    expect(createRequest({ ...emptyBudgetDraft(), name: " All ", scope_value: "stale", amount: "12.345678", thresholds: "80 50" })).toEqual({
      name: "All",
      scope: "total",
      scope_value: "",
      period: "month",
      amount_dollars: "12.345678",
      thresholds: [50, 80],
      webhooks: [],
    });
  });
  it("PATCH sends only what changed, and never the webhooks unless they changed", () => {
    const d = draftFromBudget(budget);
    expect(patchRequest(budget, d)).toEqual({});
    expect(patchRequest(budget, { ...d, amount: "500" })).toEqual({});
    expect(patchRequest(budget, { ...d, amount: "750.50", thresholds: "90, 100" })).toEqual({
      amount_dollars: "750.50",
      thresholds: [90, 100],
    });
    expect(patchRequest(budget, { ...d, webhooks: [...d.webhooks, { url: "https://hooks.slack.com/a", format: "slack" }] })).toEqual({
      webhooks: [
        { url: "https://hooks.example.com/x", format: "standard" },
        { url: "https://hooks.slack.com/a", format: "slack" },
      ],
    });
    expect(patchRequest(budget, { ...d, notify_anomalies: true, name: "Claude" })).toEqual({ name: "Claude", notify_anomalies: true });
  });
  it("describes scopes", () => {
    expect(describeScope(budget)).toBe("Service: Anthropic");
    expect(describeScope({ scope: "each_user", scope_value: "" })).toBe("Each user");
    expect(describeScope({ scope: "user", scope_value: "u42" })).toBe("User u42");
  });
});
