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
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      const batch = lines.map(stripCarriageReturn).filter(Boolean);
      if (batch.length) yield batch;
    }
    finished = true;
    const last = stripCarriageReturn(buffered + decoder.decode());
    if (last) yield [last];
  } finally {
    if (!finished) reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
