import { describe, expect, it } from "vitest";
import { emptyDraft, entryFromDraft, removePath, sortEntries, validateDraft, type PriceDraft } from "./prices";
import type { PriceEntry } from "./types";

const anthropic: PriceDraft = {
  service: "anthropic",
  model: " claude-x ",
  effective_from: "2026-01-01",
  rates: { input: "3.00", output: "15.00", cache_write_5m: "3.75", cache_write_1h: "6.00", cache_read: "0.30", characters: "9" },
  note: "",
};

describe("validateDraft", () => {
  it("accepts a complete entry", () => {
    expect(validateDraft(anthropic)).toEqual({});
  });

  it("names every missing or malformed field", () => {
    const errs = validateDraft({ ...emptyDraft("s3"), model: "a b", effective_from: "2026-02-30" });
    expect(Object.keys(errs).sort()).toEqual(
      ["effective_from", "model", "rate.tier1_requests", "rate.tier2_requests", "rate.transfer_out"].sort(),
    );
    expect(errs.effective_from).toBe("Invalid date (expected YYYY-MM-DD)");
  });

  it("wants dollars as plain decimals", () => {
    for (const bad of ["$3", "3,00", "-1", "1e-3", ".5", "3."]) {
      expect(validateDraft({ ...anthropic, rates: { ...anthropic.rates, input: bad } })["rate.input"]).toBeDefined();
    }
    expect(validateDraft({ ...anthropic, rates: { ...anthropic.rates, input: "0.0004" } })).toEqual({});
  });
});

describe("entryFromDraft", () => {
  it("sends only the service's own rates, trimmed, and no empty note", () => {
    expect(entryFromDraft(anthropic)).toEqual({
      service: "anthropic",
      model: "claude-x",
      effective_from: "2026-01-01",
      rates: { input: "3.00", output: "15.00", cache_write_5m: "3.75", cache_write_1h: "6.00", cache_read: "0.30" },
    });
    expect(entryFromDraft({ ...emptyDraft("elevenlabs", "v1", "2026-01-01"), rates: { characters: " 0.30 " }, note: " late " })).toEqual({
      service: "elevenlabs",
      model: "v1",
      effective_from: "2026-01-01",
      rates: { characters: "0.30" },
      note: "late",
    });
  });
});

describe("catalog helpers", () => {
  const e = (service: PriceEntry["service"], model: string, from: string): PriceEntry => ({
    service,
    model,
    effective_from: from,
    rates: {},
    source: "built-in",
  });
  it("sorts by service, model, newest first", () => {
    const got = sortEntries([e("s3", "standard", "2025-01-01"), e("anthropic", "b", "2025-01-01"), e("anthropic", "b", "2026-01-01"), e("anthropic", "a", "2020-01-01")]);
    expect(got.map((x) => `${x.service}/${x.model}/${x.effective_from}`)).toEqual([
      "anthropic/a/2020-01-01",
      "anthropic/b/2026-01-01",
      "anthropic/b/2025-01-01",
      "s3/standard/2025-01-01",
    ]);
  });
  it("builds the DELETE path with every key escaped", () => {
    expect(removePath({ service: "anthropic", model: "claude x/1&y", effective_from: "2026-01-01" })).toBe(
      "/admin/prices?service=anthropic&model=claude+x%2F1%26y&effective_from=2026-01-01",
    );
  });
});
