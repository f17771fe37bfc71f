import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSessionToken } from '../../src/lib/server/session.js';
import { simulatedAnswer, startSimulator, type Simulator } from '../../server/sim/index.js';
import type { BattleView } from '../../src/lib/shared/protocol.js';
import { applyEvents } from '../../src/lib/client/battle-state.js';
import { eventually, ok, recordFrames, startTestArena, TEST_MODELS, waitFor, type ArenaClient, type TestArena } from '../helpers/arena.js';
import { startArenaProcess } from '../helpers/process.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const SLOW = TEST_MODELS.map((m) => ({ ...m, tokensPerSecond: 25, maxTokens: 50 }));
const spec = (name: string) => SLOW.find((m) => m.name === name)!;
const settled = (v: BattleView) => v.turns.at(-1) !== undefined && (['left', 'right'] as const).every((s) => ['done', 'stopped', 'interrupted', 'error'].includes(v.turns.at(-1)!.answers[s].status));

/** The UI's reducer over everything a client receives. */
function track(client: ArenaClient, battleId: string, initial: BattleView) {
  const state = { view: initial };
  client.on('battle:events', (f) => {
    if (f.battleId === battleId) state.view = applyEvents(state.view, f.events).view;
  });
  return state;
}

describe('faults across instances', () => {
  let redis: RedisServer;
  let sim: Simulator;
  beforeAll(async () => {
    redis = await startRedisServer();
    sim = await startSimulator({ flavor: 'ollama', models: SLOW, preloaded: true });
  });
  afterAll(async () => {
    await sim?.close();
    await redis?.close();
  });

  it('when the instance streaming a battle is killed, another continues the answer from the partial text', async () => {
    const prefix = `kill:${randomUUID()}:`;
    const file = join(mkdtempSync(join(tmpdir(), 'arena-kill-')), 'arena.yaml');
    writeFileSync(file, `redisPrefix: "${prefix}"\nbackends:\n  - { id: sim, kind: ollama, url: "${sim.url}" }\n`);
    const doomed = await startArenaProcess({ ARENA_CONFIG: file, ARENA_DEMO: 'off', REDIS_URL: redis.url });
    const survivor = await startTestArena({ sim, config: { redisUrl: redis.url, redisPrefix: prefix } });
    try {
      const session = newSessionToken();
      const onDoomed: ArenaClient = connect(doomed.url, { transports: ['websocket'], auth: { session }, reconnection: false });
      const rec = recordFrames(onDoomed);
      const { battle } = await ok(onDoomed, 'battle:start', { prompt: 'Survive the crash.' });
      await rec.until(() => rec.events(battle.id).filter((e) => e.t === 'delta').length >= 4);
      doomed.proc.kill('SIGKILL');

      const onSurvivor = await survivor.client(session);
      const state = await ok(onSurvivor, 'session:state', {});
      expect(state.battle?.id).toBe(battle.id);
      const view = track(onSurvivor, battle.id, state.battle!);
      const partial = state.battle!.turns[0].answers.left.text;
      await waitFor(() => settled(view.view), 20_000, 'the answer to finish on the survivor');
      expect(view.view.turns[0].answers.left.resumed || view.view.turns[0].answers.right.resumed).toBe(true);

      const { reveal } = await ok(onSurvivor, 'battle:vote', { battleId: battle.id, choice: 'left' });
      for (const side of ['left', 'right'] as const) {
        const full = simulatedAnswer(spec(reveal[side].model), [{ role: 'user', content: 'Survive the crash.' }]).text;
        expect(view.view.turns[0].answers[side].text).toBe(full);
      }
      expect(view.view.turns[0].answers.left.text.startsWith(partial)).toBe(true);
      onDoomed.close();
    } finally {
      await survivor.close();
      await doomed.stop();
    }
  });

  it('survives a Redis restart under load: no crash, local streams continue, no acknowledged vote lost', async () => {
    const prefix = `restart:${randomUUID()}:`;
    const config = { redisUrl: redis.url, redisPrefix: prefix, limits: { battlesPerMinute: 100 } };
    const a: TestArena = await startTestArena({ sim, config });
    const b: TestArena = await startTestArena({ sim, config });
    try {
      const client = await a.client();
      const rec = recordFrames(client);
      const acked: string[] = [];
      for (let i = 0; i < 2; i++) {
        const { battle } = await ok(client, 'battle:start', { prompt: `before ${i}` });
        await ok(client, 'battle:stop', { battleId: battle.id });
        await rec.settled(battle.id);
        await ok(client, 'battle:vote', { battleId: battle.id, choice: 'left' });
        acked.push(battle.id);
      }

      const { battle: streaming } = await ok(client, 'battle:start', { prompt: 'Keep streaming through the outage.' });
      await rec.until(() => rec.events(streaming.id).some((e) => e.t === 'delta'));
      await redis.kill('SIGKILL');
      const deltasAtKill = rec.events(streaming.id).filter((e) => e.t === 'delta').length;
      // The local client keeps receiving tokens while Redis is gone.
      await rec.until(() => rec.events(streaming.id).filter((e) => e.t === 'delta').length >= deltasAtKill + 3, 5_000);
      // A vote while Redis is down is refused, not acknowledged and lost.
      await rec.settled(streaming.id, 0);
      const during = await (client.timeout(15_000) as any).emitWithAck('battle:vote', { battleId: streaming.id, choice: 'tie' });
      expect(during.ok).toBe(false);

      await redis.start();
      await eventually(async () => expect((await b.arena.store.listVotes()).map((v) => v.battleId)).toEqual(acked));
      // Sync resumes: a new battle and vote work end to end, and B sees the vote.
      const { battle: after } = await ok(client, 'battle:start', { prompt: 'after the restart' });
      await ok(client, 'battle:stop', { battleId: after.id });
      await rec.settled(after.id);
      await ok(client, 'battle:vote', { battleId: after.id, choice: 'right' });
      expect((await b.arena.store.listVotes()).map((v) => v.battleId)).toContain(after.id);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a leaderboard refresh that fails in a Redis outage is retried: the vote reaches the board once Redis is back', async () => {
    const config = { redisUrl: redis.url, redisPrefix: `board:${randomUUID()}:`, limits: { battlesPerMinute: 100 } };
    const a: TestArena = await startTestArena({ sim, config });
    // B refreshes 1.5 s after hearing of a vote, when Redis is down; its store commands give up
    // after a few reconnect attempts, so that refresh fails.
    const logged: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (logged.push(String(JSON.parse(chunk.toString()).msg)), done()) });
    const b: TestArena = await startTestArena({ sim, config, arena: { leaderboardDebounceMs: 1_500, logger: pino({ level: 'error' }, sink) } });
    try {
      const viewer = await b.client();
      const pushes: number[] = [];
      viewer.on('leaderboard:update', (board) => pushes.push(board.countedVotes));
      expect((await ok(viewer, 'leaderboard:subscribe', {})).board.countedVotes).toBe(0);

      const client = await a.client();
      const rec = recordFrames(client);
      const heardOfVote = new Promise<void>((resolve) => b.arena.io.on('arena:votes', () => resolve()));
      const { battle } = await ok(client, 'battle:start', { prompt: 'one vote' });
      await ok(client, 'battle:stop', { battleId: battle.id });
      await rec.settled(battle.id);
      await ok(client, 'battle:vote', { battleId: battle.id, choice: 'left' });
      // Redis goes down once B has heard of the vote (A tells it through Redis), before B refreshes.
      await heardOfVote;
      await redis.kill('SIGKILL');
      await waitFor(() => logged.includes('leaderboard recompute failed'), 15_000, "B's failed refresh");
      expect(pushes).toEqual([]);

      await redis.start();
      await waitFor(() => pushes.includes(1), 15_000, "B's board with the vote after the retry");
      expect((await ok(viewer, 'leaderboard:subscribe', {})).board.countedVotes).toBe(1);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
