import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../server/sim/index.js';
import { call, eventually, ok, recordFrames, startTestArena, TEST_MODELS, waitFor, shareOf, type TestArena } from '../helpers/arena.js';
import { recordProcessFaults, type FaultRecorder } from '../helpers/faults.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const SLOW = TEST_MODELS.map((m) => ({ ...m, tokensPerSecond: 40, maxTokens: 40 }));

describe('a Redis outage never kills an instance (two instances, private Redis)', () => {
  let redis: RedisServer;
  let sim: Simulator;
  let a: TestArena;
  let b: TestArena;
  let faults: FaultRecorder;
  beforeAll(async () => {
    faults = recordProcessFaults();
    redis = await startRedisServer();
    sim = await startSimulator({ flavor: 'ollama', models: SLOW, preloaded: true });
    const config = { redisUrl: redis.url, redisPrefix: `outage:${randomUUID()}:`, limits: { battlesPerMinute: 100 } };
    a = await startTestArena({ sim, config });
    b = await startTestArena({ sim, config });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await sim?.close();
    await redis?.close();
    faults?.stop();
  });

  it('room subscribe/unsubscribe and viewer counts while Redis is down: typed answers, no unhandled rejection, rooms work after', async () => {
    const owner = await a.client();
    const frames = recordFrames(owner);
    const { battle } = await ok(owner, 'battle:start', { prompt: 'Stream through an outage.' });
    const { token } = shareOf(battle);
    const spectator = await b.client();
    await ok(spectator, 'watch:join', { battleId: battle.id, token });

    await redis.kill('SIGKILL');
    // Each of these once killed an instance ~0.3 s later: a room created or deleted on the
    // subscriber, or a viewer count asking the other instances through the publisher.
    const late = await b.client();
    const joined = await call(late, 'watch:join', { battleId: battle.id, token });
    expect(joined.ok || joined.error.code === 'unavailable').toBe(true);
    expect((await call(late, 'leaderboard:subscribe', {})).ok).toBe(true);
    expect((await call(late, 'status:subscribe', {})).ok).toBe(true);
    spectator.close(); // a spectator closing its tab: room deleted, viewer count re-announced
    await frames.settled(battle.id);
    const vote = await call(owner, 'battle:vote', { battleId: battle.id, choice: 'left' });
    expect(vote).toMatchObject({ ok: false, error: { code: 'unavailable', retryAfterSeconds: expect.any(Number) } });
    owner.close(); // the owner leaving
    // Past every retry of the commands above (three reconnect attempts, ≤ 1 s apart).
    await new Promise((r) => setTimeout(r, 4_000));
    expect(faults.messages).toEqual([]);
    expect(await faults.count(a.arena)).toBe(0);
    // Asks of the other instances settle at once with a typed answer, never hang or reject.
    const asked = Date.now();
    expect(await b.arena.relay.forward({ action: 'stop', battleId: battle.id, sessionHash: 'nobody', payload: {} })).toBe('unreachable');
    expect(await b.arena.relay.announceViewers(battle.id)).toBeGreaterThanOrEqual(0);
    expect(Date.now() - asked).toBeLessThan(1_000);

    await redis.start();
    // After recovery: a battle on A reaches a spectator on B live (room subscriptions work again),
    // and the refused vote can be cast now.
    const owner2 = await a.client();
    const frames2 = recordFrames(owner2);
    const { battle: after } = await eventually(() => ok(owner2, 'battle:start', { prompt: 'After the outage.' }));
    const watcher = await b.client();
    const watched = recordFrames(watcher);
    await ok(watcher, 'watch:join', { battleId: after.id, token: shareOf(after).token });
    await frames2.settled(after.id);
    await waitFor(() => watched.events(after.id).some((e) => e.t === 'end'), 5_000, 'live frames on B');
    expect((await ok(late, 'watch:join', { battleId: battle.id, token })).battle.id).toBe(battle.id);
    expect(faults.messages).toEqual([]);
    expect(await faults.count(a.arena)).toBe(0);
  });
});
