import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UiHandler } from '../../server/app.js';
import { processFaultCounts } from '../../server/process-guard.js';
import { rawExchange } from '../../scripts/lib/raw-http.js';
import { startTestArena, type TestArena } from '../helpers/arena.js';

/**
 * Plain HTTP to the engine path, as scanners, misdirected health checks and curious browsers send
 * it: engine.io answers, and the request never reaches the UI handler afterwards.
 */
const QUERIES = [
  '',
  '?EIO=4&transport=polling',
  '?EIO=4&transport=websocket',
  '?EIO=3&transport=polling',
  '?EIO=4&transport=polling&sid=abc',
  '?EIO=4&transport=websocket&sid=nope',
  '?transport=webtransport',
  '?EIO=9',
];
const METHODS = ['GET', 'POST', 'OPTIONS', 'HEAD', 'PUT', 'DELETE'];

describe('the engine path over plain HTTP', () => {
  let t: TestArena;
  const uiCalls: string[] = [];
  const ui: UiHandler = (req, res) => {
    uiCalls.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ui');
  };
  let target: { host: string; port: number };
  beforeAll(async () => {
    t = await startTestArena({ arena: { ui } });
    const url = new URL(t.url);
    target = { host: url.hostname, port: Number(url.port) };
  });
  afterAll(() => t.close());

  it('answers every method and query with one response from the engine; the UI never sees it', async () => {
    let sent = 0;
    for (const method of METHODS)
      for (const query of QUERIES) {
        const body = method === 'POST' || method === 'PUT' ? '1:6' : '';
        const request =
          `${method} /socket.io/${query} HTTP/1.1\r\nHost: arena.test\r\nConnection: close\r\n` +
          (body ? `Content-Type: text/plain\r\nContent-Length: ${body.length}\r\n` : '') +
          `\r\n${body}`;
        const { responses, leftover, closedByServer } = await rawExchange(target, [request], { headRequest: method === 'HEAD' });
        sent++;
        expect(responses, `${method} ${query}`).toHaveLength(1);
        expect(leftover.length, `${method} ${query}`).toBe(0);
        expect(closedByServer).toBe(true);
        expect(responses[0].status).toBeGreaterThanOrEqual(400);
        expect(responses[0].body.toString()).not.toMatch(/\n\s+at |ERR_HTTP_HEADERS_SENT/);
      }
    expect(sent).toBe(METHODS.length * QUERIES.length);
    expect(uiCalls.filter((c) => c.includes('/socket.io/'))).toEqual([]);
    expect(processFaultCounts()).toEqual({ unhandledRejection: 0, uncaughtException: 0 });
  });

  it('answers plain fetches (polling, websocket without upgrade, bare) and keeps serving', async () => {
    for (const query of QUERIES) {
      for (const method of ['GET', 'POST', 'OPTIONS']) {
        const res = await fetch(`${t.url}/socket.io/${query}`, { method, body: method === 'POST' ? '1:6' : undefined });
        expect(res.status, `${method} ${query}`).toBeGreaterThanOrEqual(400);
        await res.arrayBuffer();
      }
    }
    expect(uiCalls.filter((c) => c.includes('/socket.io/'))).toEqual([]);
    // Other paths still reach the UI, and a real client still connects.
    expect(await (await fetch(`${t.url}/anything`)).text()).toBe('ui');
    const client = await t.client();
    expect(client.connected).toBe(true);
  });

  it('answers several requests pipelined on one keep-alive connection, one response each', async () => {
    const one = (path: string) => `GET ${path} HTTP/1.1\r\nHost: arena.test\r\n\r\n`;
    const last = `GET /healthz HTTP/1.1\r\nHost: arena.test\r\nConnection: close\r\n\r\n`;
    const { responses, leftover } = await rawExchange(target, [
      one('/socket.io/?EIO=4&transport=polling') + one('/healthz') + one('/socket.io/') + last,
    ]);
    expect(leftover.length).toBe(0);
    expect(responses.map((r) => r.status)).toEqual([400, 200, 400, 200]);
  });
});
