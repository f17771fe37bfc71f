/**
 * Splits a response body into text lines (NDJSON). Bytes are decoded in streaming mode so a
 * multi-byte character cut across two network reads survives intact. Stopping early cancels
 * the body, which closes the HTTP request.
 */
export async function* readLines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = stripCarriageReturn(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
        if (line) yield line;
      }
    }
    finished = true;
    const last = stripCarriageReturn(buffered + decoder.decode());
    if (last) yield last;
  } finally {
    if (!finished) reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

function stripCarriageReturn(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/**
 * Like `readLines`, but every line that arrived in one network read comes out as one batch.
 * Under load the kernel hands over many NDJSON lines per read: a caller that merges a batch's
 * tokens passes them down its pipeline (async generators, timers, metrics) once, not once each.
 */
export async function* readLineBatches(body: ReadableStream<Uint8Array>): AsyncGenerator<string[]> {
  const reader = new LineBatchReader(body);
  try {
    for (let batch = await reader.next(); batch; batch = await reader.next()) yield batch;
  } finally {
    reader.close();
  }
}

/**
 * `readLineBatches` without the async generator: one awaited read per batch, no generator
 * machinery per network read on the token path. `close()` must be called (in a finally):
 * before the end it cancels the body, which closes the HTTP request.
 */
export class LineBatchReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buffered = '';
  private finished = false;

  constructor(body: ReadableStream<Uint8Array>) {
    this.reader = body.getReader();
  }

  /** The next non-empty batch of lines; null once the body has ended. */
  async next(): Promise<string[] | null> {
    while (!this.finished) {
      const { done, value } = await this.reader.read();
      if (done) {
        this.finished = true;
        const last = stripCarriageReturn(this.buffered + this.decoder.decode());
        this.buffered = '';
        return last ? [last] : null;
      }
      this.buffered += this.decoder.decode(value, { stream: true });
      const lines = this.buffered.split('\n');
      this.buffered = lines.pop()!;
      const batch: string[] = [];
      for (const line of lines) {
        const stripped = stripCarriageReturn(line);
        if (stripped) batch.push(stripped);
      }
      if (batch.length) return batch;
    }
    return null;
  }

  close(): void {
    if (!this.finished) this.reader.cancel().catch(() => undefined);
    this.reader.releaseLock();
  }
}
