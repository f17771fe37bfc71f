import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createOllamaProvider } from '../../server/providers/ollama.js';
import type { StreamPart } from '../../server/providers/types.js';
import { startHttpServer, type CountingServer } from '../helpers/http-server.js';

const line = (o: object) => `${JSON.stringify(o)}\n`;
const token = (content: string) => line({ model: 'm', message: { role: 'assistant', content }, done: false });
const DONE = line({ model: 'm', message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', eval_count: 3 });

/**
 * An Ollama-shaped server that writes its final line and ends the body a moment later (as a real
 * server's last write and its chunked terminator may arrive in separate reads), counting the TCP
 * connections it accepts and closes. `tail` decides what follows the final line.
 */
function ndjsonServer(tail: (res: ServerResponse) => void) {
  return startHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.write(token('a ') + token('b ') + token('c '));
    setTimeout(() => {
      res.write(DONE);
      tail(res);
    }, 10);
  });
}

const timeouts = { connectMs: 5_000, firstTokenMs: 5_000, idleMs: 5_000 };

async function answer(url: string, stopAfterFirst = false): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const part of createOllamaProvider({ baseUrl: url, timeouts }).stream({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })) {
    parts.push(part);
    if (stopAfterFirst) break;
  }
  return parts;
}

const waitFor = async (check: () => boolean, ms = 3_000) => {
  for (const until = Date.now() + ms; !check() && Date.now() < until; ) await new Promise((r) => setTimeout(r, 10));
  return check();
};

describe('Ollama provider: connections to the model server', () => {
  let server: CountingServer | undefined;
  afterEach(() => server?.close());

  it('reuses one keep-alive connection for answer after answer', async () => {
    server = await ndjsonServer((res) => setTimeout(() => res.end(), 10));
    for (let i = 0; i < 5; i++) {
      const parts = await answer(server.url);
      expect(parts.at(-1)).toMatchObject({ type: 'finish', reason: 'stop' });
      // The next request starts once this body has been read to its end in the background.
      await new Promise((r) => setTimeout(r, 40));
    }
    expect(server.counts()).toEqual({ accepted: 1, closed: 0 });
  });

  it('hands over the finish at once, and closes a connection whose body never ends after it', async () => {
    server = await ndjsonServer(() => undefined); // the final line, then nothing, forever
    const started = Date.now();
    const parts = await answer(server.url);
    expect(parts.at(-1)).toMatchObject({ type: 'finish' });
    expect(Date.now() - started).toBeLessThan(500);
    // Drained for at most a second, then cancelled: the connection is closed, not leaked.
    expect(await waitFor(() => server!.counts().closed === 1)).toBe(true);
  });

  it('closes the connection when the caller stops reading before the end', async () => {
    server = await ndjsonServer((res) => setTimeout(() => res.end(), 10));
    const parts = await answer(server.url, true);
    expect(parts).toHaveLength(1);
    expect(await waitFor(() => server!.counts().closed === 1)).toBe(true);
  });
});
