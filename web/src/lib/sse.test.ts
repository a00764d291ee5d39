import { describe, expect, it } from "vitest";
import { eventText, parseBlock, readEventStream, splitBlocks, type SSEEvent } from "./sse";

describe("parseBlock", () => {
  it("reads event and JSON data", () => {
    expect(parseBlock('event: answer\ndata: {"text":"42 stories"}')).toEqual({ event: "answer", data: { text: "42 stories" }, id: undefined });
  });
  it("joins data lines and keeps non-JSON text", () => {
    expect(parseBlock("data: line one\ndata: line two")?.data).toBe("line one\nline two");
  });
  it("skips comments and keep-alives", () => {
    expect(parseBlock(": ping")).toBeNull();
  });
});

describe("splitBlocks", () => {
  it("keeps an unfinished block for later", () => {
    expect(splitBlocks("event: a\ndata: 1\n\nevent: b\nda")).toEqual({ blocks: ["event: a\ndata: 1"], rest: "event: b\nda" });
  });
});

describe("readEventStream", () => {
  it("reassembles events split across chunks, and a last event without a blank line", async () => {
    const chunks = ['event: progress\ndata: {"mess', 'age":"Calling get_cost_breakdown"}\n\nevent: ans', 'wer\ndata: {"text":"Costs rose 12%."}'];
    const enc = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const ch of chunks) c.enqueue(enc.encode(ch));
        c.close();
      },
    });
    const got: SSEEvent[] = [];
    await readEventStream(body, (e) => got.push(e));
    expect(got.map((e) => [e.event, eventText(e.data)])).toEqual([
      ["progress", "Calling get_cost_breakdown"],
      ["answer", "Costs rose 12%."],
    ]);
  });
});

describe("eventText", () => {
  it("finds the text in common shapes", () => {
    expect(eventText({ answer: "a" })).toBe("a");
    expect(eventText({ error: "Rate limit exceeded" })).toBe("Rate limit exceeded");
    expect(eventText("plain")).toBe("plain");
    expect(eventText({ tool: "get_top_users" })).toBe('{"tool":"get_top_users"}');
  });
});
