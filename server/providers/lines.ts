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
