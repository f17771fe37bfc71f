import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../server/sim/index.js';
import { ok, recordFrames, startTestArena, TEST_MODELS, shareOf, type TestArena } from '../helpers/arena.js';
import { deleteRedisKeys, REDIS_URL } from '../helpers/redis-keys.js';

// Over a second of streaming per side, in hundreds of small frames: joins land mid-stream.
const MODELS = TEST_MODELS.map((m) => ({ ...m, tokensPerSecond: 300, maxTokens: 500 }));
const JOINS = 24;
const PARALLEL = 6;

describe('a spectator joining on an instance where nobody else watches', () => {
  const prefix = `latejoin:${randomUUID()}:`;
  let sim: Simulator;
  let a: TestArena;
  let b: TestArena;
  beforeAll(async () => {
    sim = await startSimulator({ flavor: 'ollama', models: MODELS, preloaded: true });
    const config = { redisUrl: REDIS_URL, redisPrefix: prefix, limits: { battlesPerMinute: 1000, promptsPerMinutePerIp: 1000 } };
    a = await startTestArena({ sim, config });
    b = await startTestArena({ sim, config });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await sim?.close();
    await deleteRedisKeys(prefix);
  });

  /** One battle on A, one spectator on B joining mid-stream: every seq after its view arrives live. */
  async function joinOnce(i: number): Promise<{ missing: number[]; received: number }> {
    const owner = await a.client();
    const ownerFrames = recordFrames(owner);
    const { battle } = await ok(owner, 'battle:start', { prompt: `Late join ${i}` });
    await ownerFrames.until(() => ownerFrames.events(battle.id).filter((e) => e.t === 'delta').length >= 1 + (i % 5));
    const spectator = await b.client();
    const frames = recordFrames(spectator);
    const joined = await ok(spectator, 'watch:join', shareOf(battle));
    await ownerFrames.settled(battle.id);
    const last = ownerFrames.events(battle.id).at(-1)!.seq;
    await frames.until(() => frames.events(battle.id).some((e) => e.seq === last), 3_000).catch(() => undefined);
    const got = new Set(frames.events(battle.id).map((e) => e.seq));
    const missing: number[] = [];
    for (let seq = joined.battle.seq + 1; seq <= last; seq++) if (!got.has(seq)) missing.push(seq);
    owner.close();
    spectator.close();
    return { missing, received: got.size };
  }

  it(`misses no event in ${JOINS} joins (subscription awaited before the battle is read)`, async () => {
    const results: { missing: number[]; received: number }[] = [];
    for (let i = 0; i < JOINS; i += PARALLEL) results.push(...(await Promise.all(Array.from({ length: PARALLEL }, (_, k) => joinOnce(i + k)))));
    expect(results).toHaveLength(JOINS);
    expect(results.filter((r) => r.received > 0)).toHaveLength(JOINS);
    expect(results.filter((r) => r.missing.length > 0)).toEqual([]);
  });
});
