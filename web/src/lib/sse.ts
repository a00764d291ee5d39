// A reader for text/event-stream bodies over fetch (EventSource cannot POST
// or send the CSRF header).

export interface SSEEvent {
  event: string;
  /** The data parsed as JSON when it is JSON, else the raw text. */
  data: unknown;
  id?: string;
}

/** Parses one SSE block (the lines between blank lines); null for comments only. */
export function parseBlock(block: string): SSEEvent | null {
  let event = "message";
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split(/\r\n|\r|\n/)) {
    if (line === "" || line.startsWith(":")) continue;
    const i = line.indexOf(":");
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? "" : line.slice(i + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
    else if (field === "id") id = value;
  }
  if (data.length === 0 && event === "message") return null;
  const text = data.join("\n");
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // plain text data
  }
  return { event, data: parsed, id };
}

/** Splits a growing buffer into complete blocks and the unfinished rest. */
export function splitBlocks(buffer: string): { blocks: string[]; rest: string } {
  const parts = buffer.split(/\r\n\r\n|\n\n|\r\r/);
  const rest = parts.pop() ?? "";
  return { blocks: parts, rest };
}

/** Reads an event stream to its end, calling onEvent for each event. */
export async function readEventStream(body: ReadableStream<Uint8Array>, onEvent: (e: SSEEvent) => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
    const { blocks, rest } = splitBlocks(done ? `${buffer}\n\n` : buffer);
    buffer = rest;
    for (const b of blocks) {
      const e = parseBlock(b);
      if (e) onEvent(e);
    }
    if (done) return;
  }
}

/** The human-readable text of an event's data, whatever shape it came in. */
export function eventText(data: unknown): string {
  if (data == null) return "";
  if (typeof data === "string") return data;
  if (typeof data === "object") {
    const d = data as Record<string, unknown>;
    for (const k of ["text", "answer", "message", "error", "content", "status"]) {
      if (typeof d[k] === "string") return d[k] as string;
    }
  }
  return JSON.stringify(data);
}
