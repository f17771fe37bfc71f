import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatedAnswer, startSimulator, type Simulator } from '../../server/sim/index.js';
import type { SeqEvent } from '../../src/lib/shared/protocol.js';
import { ok, recordFrames, startTestArena, TEST_MODELS, waitFor, shareOf, type TestArena } from '../helpers/arena.js';
import { recordProcessFaults, type FaultRecorder } from '../helpers/faults.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { followLikeUi } from '../helpers/ui-follower.js';

// ~8 s per answer: still streaming through the partition or outage below.
const SLOW = TEST_MODELS.map((m) => ({ ...m, tokensPerSecond: 20, maxTokens: 160 }));
const spec = (name: string) => SLOW.find((m) => m.name === name)!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The battle's stored log, checked for one content per seq (a Redis Stream cannot hold two). */
async function storedLog(url: string, prefix: string, battleId: string): Promise<SeqEvent[]> {
  const redis = new Redis(url);
  try {
    const entries = await redis.xrange(`${prefix}log:${battleId}`, '-', '+');
    return entries.map(([, fields]) => JSON.parse(fields[1]) as SeqEvent);
  } finally {
    redis.disconnect();
  }
}

function expectFullAnswers(view: { turns: { answers: Record<'left' | 'right', { text: string }> }[] }, reveal: Record<'left' | 'right', { model: string }>, prompt: string) {
  for (const side of ['left', 'right'] as const)
    expect(view.turns[0].answers[side].text).toBe(simulatedAnswer(spec(reveal[side].model), [{ role: 'user', content: prompt }]).text);
}

describe('fenced takeovers: one writer per battle', () => {
  let redis: RedisServer;
  let sim: Simulator;
  let faults: FaultRecorder;
  beforeAll(async () => {
    faults = recordProcessFaults();
    redis = await startRedisServer();
    sim = await startSimulator({ flavor: 'ollama', models: SLOW, preloaded: true });
  });
  afterAll(async () => {
    await sim?.close();
    await redis?.close();
    faults?.stop();
  });

  it('a Redis outage longer than the lease hands no battle over: the holder keeps it and every outage event is stored', async () => {
    const prefix = `fence-outage:${randomUUID()}:`;
    const config = { redisUrl: redis.url, redisPrefix: prefix, limits: { battlesPerMinute: 100 } };
    const a = await startTestArena({ sim, config });
    const b = await startTestArena({ sim, config });
    try {
      const owner = await a.client();
      const early = recordFrames(owner);
      const prompt = 'Hold on through the outage.';
      const { battle } = await ok(owner, 'battle:start', { prompt });
      const ui = followLikeUi(owner, battle, { owner: true });
      ui.apply(early.events(battle.id));
      const spectatorOnB = await b.client();
      const { battle: watched } = await ok(spectatorOnB, 'watch:join', { battleId: battle.id, token: shareOf(battle).token });
      const spectatorUi = followLikeUi(spectatorOnB, watched, { token: shareOf(battle).token });
      await waitFor(() => ui.state.view.turns[0]?.answers.left.text.length > 0, 5_000, 'first tokens');

      let adoptedByB = false;
      const watchB = setInterval(() => (adoptedByB ||= b.arena.battles.streamingBattles() > 0), 20);
      await redis.kill('SIGKILL');
      await sleep(5_000); // > the 3 s lease
      await redis.start();
      await waitFor(() => ui.settled() && spectatorUi.settled(), 20_000, 'both settled');
      await sleep(1_500); // any late adoption would have happened by now
      clearInterval(watchB);

      expect(adoptedByB).toBe(false);
      const { reveal } = await ok(owner, 'battle:vote', { battleId: battle.id, choice: 'left' });
      expectFullAnswers(ui.state.view, reveal, prompt);
      expect(ui.state.conflicts).toEqual([]);
      expect(ui.state.resets).toBe(0);
      expect(spectatorUi.state.conflicts).toEqual([]);
      // Nothing the holder streamed during the outage was dropped: the log replays to the same texts.
      const log = await storedLog(redis.url, prefix, battle.id);
      expect(log.map((e) => e.seq)).toEqual(log.map((_, i) => i + 1));
      for (const side of ['left', 'right'] as const)
        expect(log.filter((e) => e.t === 'delta' && e.side === side).map((e) => (e.t === 'delta' ? (e.text ?? '') : '')).join('')).toBe(ui.state.view.turns[0].answers[side].text);
      expect(faults.messages).toEqual([]);
      expect(await faults.count(a.arena)).toBe(0);
    } finally {
      await a.close();
      await b.close();
    }
  }, 60_000);

  it('a holder cut off from Redis loses its battle to a fenced takeover: its late writes are refused, its clients move to the new writer', async () => {
    const prefix = `fence-partition:${randomUUID()}:`;
    const port = Number(new URL(redis.url).port);
    const proxy: TcpProxy = await startTcpProxy({ host: '127.0.0.1', port });
    const limits = { battlesPerMinute: 100 };
    const a = await startTestArena({ sim, config: { redisUrl: proxy.url, redisPrefix: prefix, limits } });
    const b = await startTestArena({ sim, config: { redisUrl: redis.url, redisPrefix: prefix, limits } });
    try {
      const owner = await a.client();
      const early = recordFrames(owner);
      const prompt = 'Split me if you can.';
      const { battle } = await ok(owner, 'battle:start', { prompt });
      const ui = followLikeUi(owner, battle, { owner: true });
      ui.apply(early.events(battle.id));
      const spectatorOnB = await b.client();
      const { battle: watched } = await ok(spectatorOnB, 'watch:join', { battleId: battle.id, token: shareOf(battle).token });
      const spectatorUi = followLikeUi(spectatorOnB, watched, { token: shareOf(battle).token });
      await waitFor(() => ui.state.view.turns[0]?.answers.left.text.length > 0, 5_000, 'first tokens');

      // A alone loses Redis; it keeps streaming to its own client. B sees the lease expire and adopts.
      await proxy.cut();
      await waitFor(() => b.arena.battles.streamingBattles() > 0, 10_000, 'B adopting the battle');
      await sleep(1_000);
      await proxy.restore();
      // A hears it was fenced (its renewal or its backlog append refused) and resets its client.
      await waitFor(() => ui.state.resets > 0, 10_000, "A's client reset to the new writer");
      await waitFor(() => ui.settled() && spectatorUi.settled(), 20_000, 'both settled');
      // A stops its fenced streams: wait for that rather than sleeping a fixed 500 ms.
      await waitFor(() => a.arena.battles.streamingBattles() === 0, 5_000, 'A stopped streaming');

      const { reveal } = await ok(owner, 'battle:vote', { battleId: battle.id, choice: 'right' });
      expectFullAnswers(ui.state.view, reveal, prompt);
      // The spectator on B only ever got stored events: one content per seq, the log's.
      expect(spectatorUi.state.conflicts).toEqual([]);
      const log = await storedLog(redis.url, prefix, battle.id);
      expect(log.map((e) => e.seq)).toEqual(log.map((_, i) => i + 1));
      for (const side of ['left', 'right'] as const)
        expect(log.filter((e) => e.t === 'delta' && e.side === side).map((e) => (e.t === 'delta' ? (e.text ?? '') : '')).join('')).toBe(ui.state.view.turns[0].answers[side].text);
      expect(faults.messages).toEqual([]);
      expect(await faults.count(a.arena)).toBe(0);
    } finally {
      await a.close();
      await b.close();
      await proxy.close();
    }
  }, 60_000);
});
