import { describe, expect, it } from 'vitest';
import { readLines } from '../../server/providers/lines.js';

function streamOf(pieces: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      pieces.forEach((p) => controller.enqueue(p));
      controller.close();
    },
  });
}

async function lines(pieces: Uint8Array[]): Promise<string[]> {
  const out: string[] = [];
  for await (const line of readLines(streamOf(pieces))) out.push(line);
  return out;
}

const BYTES = new TextEncoder().encode('{"a":"é"}\r\n\n{"b":"🙂 ✓"}\n{"c":"last, no newline"}');
const EXPECTED = ['{"a":"é"}', '{"b":"🙂 ✓"}', '{"c":"last, no newline"}'];

describe('readLines', () => {
  it('yields every non-empty line, the last one even without a newline', async () => {
    expect(await lines([BYTES])).toEqual(EXPECTED);
  });

  it('gives the same lines whatever single byte boundary cuts the body', async () => {
    for (let cut = 1; cut < BYTES.length; cut++) {
      expect(await lines([BYTES.subarray(0, cut), BYTES.subarray(cut)]), `cut at ${cut}`).toEqual(EXPECTED);
    }
  });

  it('decodes multi-byte characters delivered one byte at a time', async () => {
    expect(await lines([...BYTES].map((b) => Uint8Array.of(b)))).toEqual(EXPECTED);
  });

  it('cancels the body when the reader stops early', async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new TextEncoder().encode('line\n'));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const line of readLines(body)) {
      expect(line).toBe('line');
      break;
    }
    expect(cancelled).toBe(true);
  });
});
