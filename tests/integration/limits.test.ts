import { randomUUID } from 'node:crypto';
import { io as connect } from 'socket.io-client';
import { afterAll, describe, expect, it } from 'vitest';
import { newSessionToken } from '../../src/lib/server/session.js';
import { startSimulator } from '../../server/sim/index.js';
import { call, ok, startTestArena, TEST_MODELS, type TestArena } from '../helpers/arena.js';
import { deleteRedisKeys, REDIS_URL } from '../helpers/redis-keys.js';


describe('rate limits', () => {
  const arenas: TestArena[] = [];
  const prefix = `limits:${randomUUID()}:`;
  afterAll(async () => {
    for (const a of arenas) await a.close();
    await deleteRedisKeys(prefix);
  });
  const arena = async (opts: Parameters<typeof startTestArena>[0]) => {
    const t = await startTestArena(opts);
    arenas.push(t);
    return t;
  };

  it('limits new battles per session with a clear error, and shares the budget across instances', async () => {
    const sim = await startSimulator({ flavor: 'ollama', models: TEST_MODELS, preloaded: true });
    const config = { redisUrl: REDIS_URL, redisPrefix: prefix, limits: { battlesPerMinute: 3 } };
    const a = await arena({ sim, config });
    const b = await arena({ sim, config });
    const session = newSessionToken();
    const onA = await a.client(session);
    const onB = await b.client(session);
    await ok(onA, 'battle:start', { prompt: 'one' });
    await ok(onB, 'battle:start', { prompt: 'two' });
    await ok(onA, 'battle:start', { prompt: 'three' });
    for (const client of [onA, onB]) {
      const refused = await call(client, 'battle:start', { prompt: 'four' });
      expect(refused).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
      expect(!refused.ok && refused.error.message).toMatch(/Too many new battles a minute\. Try again in \d+ s\./);
    }
    // Another session has its own budget.
    await ok(await a.client(), 'battle:start', { prompt: 'someone else' });
    await Promise.all(arenas.splice(0).map((x) => x.close()));
    await sim.close();
  });

  it('limits connections per address', async () => {
    const t = await arena({ config: { limits: { connectionsPerMinutePerIp: 3 } } });
    for (let i = 0; i < 3; i++) await t.client();
    const refused = connect(t.url, { transports: ['websocket'], auth: { session: newSessionToken() }, reconnection: false });
    const error = await new Promise<Error>((resolve) => refused.once('connect_error', resolve));
    expect(error.message).toMatch(/Too many connections from your address/);
    refused.close();
  });

  it('limits votes per session and floods per socket, staying responsive to others', async () => {
    const t = await arena({ config: { limits: { votesPerMinute: 2, eventsPerSecond: 10 } } });
    const client = await t.client();
    const replies = await Promise.all(Array.from({ length: 3 }, () => call(client, 'battle:vote', { battleId: 'nope', choice: 'left' })));
    expect(replies.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['not_found', 'not_found', 'rate_limited']);

    const flooder = await t.client();
    const flood = await Promise.all(Array.from({ length: 40 }, () => call(flooder, 'session:state', {})));
    const limited = flood.filter((r) => !r.ok && r.error.code === 'rate_limited').length;
    expect(limited).toBeGreaterThanOrEqual(25);
    const started = Date.now();
    await ok(await t.client(), 'session:state', {});
    // Margin: one request takes a few ms; 1 s fails only if the flood starved other clients.
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('admin endpoints', () => {
  let t: TestArena;
  const token = 'admin-token-0123456789';
  afterAll(() => t?.close());

  it('require the admin token, mask secrets, and can make exports private', async () => {
    t = await startTestArena({ config: { adminToken: token, exportAccess: 'admin' } });
    const get = (path: string, auth?: string) => fetch(`${t.url}${path}`, { headers: auth ? { authorization: `Bearer ${auth}` } : {} });
    expect((await get('/api/admin/config')).status).toBe(401);
    expect((await get('/api/admin/config', 'wrong-token-0123456789')).status).toBe(401);
    const res = await get('/api/admin/config', token);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(token);
    expect(text).toContain('****6789');
    expect((await get('/api/export/battles.jsonl')).status).toBe(401);
    // Not on the public port even with the token: metrics have their own listener.
    expect((await get('/metrics')).status).toBe(404);
    expect((await get('/metrics', token)).status).toBe(404);
    expect((await fetch(t.arena.metricsUrl()!)).status).toBe(200);
    const full = await (await get('/api/admin/status', token)).json();
    expect(JSON.stringify(full)).toContain('inFlight');
    expect(JSON.stringify(await (await get('/api/status')).json())).not.toContain('inFlight');
    expect((await get('/api/export/battles.jsonl', token)).status).toBe(200);
    const refresh = await fetch(`${t.url}/api/admin/refresh`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(refresh.status).toBe(200);
  });

  it('are off without a configured token', async () => {
    const off = await startTestArena();
    try {
      expect((await fetch(`${off.url}/api/admin/config`)).status).toBe(404);
      // Exports default to the admin token: with none configured, nobody downloads conversations.
      expect((await fetch(`${off.url}/api/export/battles.jsonl`)).status).toBe(404);
      expect((await fetch(`${off.url}/api/export/preferences.jsonl`)).status).toBe(404);
      const client = await off.client();
      expect((await ok(client, 'session:state', {})).info.publicExport).toBe(false);
      // The public port never serves metrics, even to this machine; their own port does.
      expect((await fetch(`${off.url}/metrics`)).status).toBe(404);
      expect(await (await fetch(off.arena.metricsUrl()!)).text()).toContain('arena_connected_clients');
    } finally {
      await off.close();
    }
  });
});
