import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyFailure } from '../../server/providers/classify.js';
import { postStreaming, type StreamingResponse } from '../../server/providers/http-stream.js';
import { startHttpServer } from '../helpers/http-server.js';

async function serve(handler: Parameters<typeof startHttpServer>[0]) {
  const server = await startHttpServer(handler);
  return { ...server, url: new URL(`${server.url}/api/chat`), accepted: () => server.counts().accepted };
}

const post = (url: URL) => postStreaming(url, { headers: { 'content-type': 'application/json' }, body: '{}', signal: new AbortController().signal });

async function allLines(res: StreamingResponse): Promise<string[]> {
  const reader = res.lines();
  const out: string[] = [];
  try {
    for (let batch = await reader.next(); batch; batch = await reader.next()) out.push(...batch);
  } finally {
    reader.close();
  }
  return out;
}

const BYTES = Buffer.from('{"a":"é"}\r\n\n{"b":"🙂 ✓"}\n{"c":"last, no newline"}');
const EXPECTED = ['{"a":"é"}', '{"b":"🙂 ✓"}', '{"c":"last, no newline"}'];

/** Writes `pieces` as separate writes, a few milliseconds apart, then ends. */
function writePieces(res: ServerResponse, pieces: Buffer[]): void {
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  const next = (i: number) => {
    if (i === pieces.length) return void res.end();
    res.write(pieces[i]);
    setTimeout(() => next(i + 1), 2);
  };
  next(0);
}

describe('postStreaming: an NDJSON body over node:http as line batches', () => {
  let server: Awaited<ReturnType<typeof serve>> | undefined;
  afterEach(() => server?.close());

  it('gives every non-empty line, whatever byte boundary cuts the body, multi-byte characters intact', async () => {
    let cut = 0;
    server = await serve((_req, res) => writePieces(res, cut === 0 ? [BYTES] : [BYTES.subarray(0, cut), BYTES.subarray(cut)]));
    for (cut = 0; cut < BYTES.length; cut += 3) expect(await allLines(await post(server.url)), `cut at ${cut}`).toEqual(EXPECTED);
    // Every body was read to its end: one connection carried them all.
    expect(server.accepted()).toBe(1);
  });

  it('decodes a body delivered one byte at a time', async () => {
    server = await serve((_req, res) => writePieces(res, [...BYTES].map((b) => Buffer.of(b))));
    expect(await allLines(await post(server.url))).toEqual(EXPECTED);
  });

  it('reports a connection lost mid-body as a reset, after the lines that made it', async () => {
    server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write('{"first":1}\n');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const reader = (await post(server.url)).lines();
    expect(await reader.next()).toEqual(['{"first":1}']);
    const failure = await reader.next().then(() => null, (err: unknown) => err);
    expect(classifyFailure(failure, 'ollama m')).toMatchObject({ code: 'connection_reset' });
    reader.close();
  });

  it('retries once when a pooled connection turns out closed by the server', async () => {
    server = await serve((_req, res, nth) => {
      // The server drops an idle keep-alive connection just as the next request arrives on it.
      if (nth > 1) return void res.socket?.destroy();
      writePieces(res, [Buffer.from('{"ok":true}\n')]);
    });
    expect(await allLines(await post(server.url))).toEqual(['{"ok":true}']);
    expect(await allLines(await post(server.url))).toEqual(['{"ok":true}']);
    expect(server.accepted()).toBe(2);
  });

  it('reads an error status as text', async () => {
    server = await serve((_req, res) => res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"model \\"m\\" not found"}'));
    const res = await post(server.url);
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('{"error":"model \\"m\\" not found"}');
  });

  it('rejects at once when the caller aborts before the headers', async () => {
    server = await serve(() => undefined); // never answers
    const controller = new AbortController();
    const pending = postStreaming(server.url, { headers: {}, body: '{}', signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });
});
