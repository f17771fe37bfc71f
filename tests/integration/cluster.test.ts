import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSessionToken } from '../../src/lib/server/session.js';
import { simulatedAnswer, startSimulator, type Simulator } from '../../server/sim/index.js';
import type { BattleView, Leaderboard, SeqEvent } from '../../src/lib/shared/protocol.js';
import { applyEvents } from '../../src/lib/client/battle-state.js';
import { call, ok, recordFrames, startTestArena, TEST_MODELS, waitFor, type ArenaClient, shareOf, type TestArena } from '../helpers/arena.js';
import { deleteRedisKeys, REDIS_IS_CLUSTER, REDIS_URL } from '../helpers/redis-keys.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

// Slower than the default test models, so a stream is still running when a test interrupts it.
const SIM_MODELS = TEST_MODELS.map((m) => ({ ...m, tokensPerSecond: 60, maxTokens: 40 }));
const spec = (name: string) => SIM_MODELS.find((m) => m.name === name)!;

/** A client-side transcript built exactly as the UI builds it: view, then events by seq. */
function follow(client: ArenaClient, battleId: string, initial: BattleView) {
  let view = initial;
  const seen: SeqEvent[] = [];
  client.on('battle:events', (frame) => {
    if (frame.battleId !== battleId) return;
    seen.push(...frame.events);
    view = applyEvents(view, frame.events).view;
  });
  return {
    get view() {
      return view;
    },
    seen,
    apply(events: SeqEvent[]) {
      view = applyEvents(view, events).view;
    },
    settled: () => {
      const last = view.turns.at(-1);
      return Boolean(last && ['done', 'stopped', 'interrupted', 'error'].includes(last.answers.left.status) && ['done', 'stopped', 'interrupted', 'error'].includes(last.answers.right.status));
    },
  };
}

describe('two instances, one arena (Redis)', () => {
  const prefix = `test:${randomUUID()}:`;
  let sim: Simulator;
  let a: TestArena;
  let b: TestArena;

  beforeAll(async () => {
    sim = await startSimulator({ flavor: 'ollama', models: SIM_MODELS, preloaded: true });
    const config = { redisUrl: REDIS_URL, redisPrefix: prefix, limits: { battlesPerMinute: 100 } };
    a = await startTestArena({ sim, config });
    b = await startTestArena({ sim, config });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await sim?.close();
    await deleteRedisKeys(prefix);
  });

  it('a spectator on B sees the identical token sequence as the owner on A, names only after the vote', async () => {
    const owner = await a.client();
    const ownerRec = recordFrames(owner);
    const { battle } = await ok(owner, 'battle:start', { prompt: 'Describe the moon.' });
    const { battleId, token } = shareOf(battle);
    expect(battleId).toBe(battle.id);

    await ownerRec.until(() => ownerRec.events(battle.id).some((e) => e.t === 'delta'));
    const spectator = await b.client();
    // Frames can arrive before the join's ack (the room is joined first): keep them, as the UI does.
    const early = recordFrames(spectator);
    const viewerCounts: number[] = [];
    owner.on('battle:viewers', (u) => viewerCounts.push(u.count));
    const joined = await ok(spectator, 'watch:join', { battleId, token });
    expect(joined.battle.sharePath).toBeUndefined();
    expect(joined.viewers).toBe(1);
    const watched = follow(spectator, battleId, joined.battle);
    watched.apply(early.events(battleId));
    const ownerView = follow(owner, battleId, battle);
    ownerView.apply(ownerRec.events(battle.id));

    await waitFor(() => watched.settled() && ownerView.settled(), 10_000, 'both settled');
    expect(watched.view.turns).toEqual(ownerView.view.turns);
    expect(watched.view.seq).toBe(ownerView.view.seq);
    // Every event the spectator got live is the owner's event with the same seq.
    const bySeq = new Map(ownerRec.events(battle.id).map((e) => [e.seq, JSON.stringify(e)]));
    for (const e of watched.seen) expect(JSON.stringify(e)).toBe(bySeq.get(e.seq));
    await waitFor(() => viewerCounts.includes(1), 2_000, 'viewer count on A');
    expect(JSON.stringify([joined, watched.seen])).not.toMatch(/mdl-|aurora|borealis|cinder|dune/);

    // Crowd vote: stored apart, never a rating vote.
    const crowd = await ok(spectator, 'watch:vote', { battleId, token, choice: 'right' });
    expect(crowd.crowd.right).toBe(1);
    expect(await call(spectator, 'watch:vote', { battleId, token, choice: 'left' })).toMatchObject({ ok: false, error: { code: 'conflict' } });

    // Every owner action from the spectator is refused, on either instance, with the very bytes an
    // unknown id gets: another session's battle id cannot be told from one that does not exist.
    const onA = await a.client();
    const unknownId = 'x'.repeat(battleId.length);
    for (const s of [spectator, onA]) {
      for (const [event, payload] of [
        ['battle:vote', { choice: 'left' }],
        ['battle:stop', {}],
        ['battle:send', { prompt: 'hi' }],
        ['battle:regenerate', {}],
        ['battle:next', {}],
        ['battle:resume', { afterSeq: 0 }],
      ] as const) {
        const foreign = await call(s, event, { battleId, ...payload } as never);
        expect(foreign).toMatchObject({ ok: false, error: { code: 'not_found' } });
        expect(JSON.stringify(foreign)).toBe(JSON.stringify(await call(s, event, { battleId: unknownId, ...payload } as never)));
      }
    }
    expect((await a.arena.store.listVotes()).length).toBe(0);

    await ok(owner, 'battle:vote', { battleId, choice: 'left' });
    await waitFor(() => Boolean(watched.view.reveal), 2_000, 'reveal reaches the spectator');
    // Names are public now: a crowd vote would not be blind, on either instance.
    for (const s of [await b.client(), await a.client()])
      expect(await call(s, 'watch:vote', { battleId, token, choice: 'left' })).toMatchObject({ ok: false, error: { code: 'conflict', message: expect.stringMatching(/revealed/) } });
    expect((await a.arena.store.crowdTally(battleId)).left).toBe(0);
    const models = [watched.view.reveal!.left.model, watched.view.reveal!.right.model];
    for (const side of ['left', 'right'] as const)
      expect(watched.view.turns[0].answers[side].text).toBe(simulatedAnswer(spec(watched.view.reveal![side].model), [{ role: 'user', content: 'Describe the moon.' }]).text);
    expect(models.every((m) => TEST_MODELS.some((t) => t.name === m))).toBe(true);
  });

  it('a vote cast through B on a battle A runs updates the board seen on A', async () => {
    const session = newSessionToken();
    const onA = await a.client(session);
    const rec = recordFrames(onA);
    const boards: Leaderboard[] = [];
    const watcherOnA = await a.client();
    watcherOnA.on('leaderboard:update', (board) => boards.push(board));
    const before = (await ok(watcherOnA, 'leaderboard:subscribe', {})).board.countedVotes;

    const { battle } = await ok(onA, 'battle:start', { prompt: 'Vote through B' });
    await rec.settled(battle.id);
    const onB = await b.client(session); // same person, load balancer sent them to B
    const { reveal } = await ok(onB, 'battle:vote', { battleId: battle.id, choice: 'right' });
    expect(reveal.right.model).toBeTruthy();
    await waitFor(() => boards.at(-1)?.countedVotes === before + 1, 5_000, 'board update on A');
  });

  it('a client that drops mid-stream resumes on the other instance with an identical transcript', async () => {
    const session = newSessionToken();
    const first = await a.client(session);
    const rec = recordFrames(first);
    const { battle } = await ok(first, 'battle:start', { prompt: 'Resume me elsewhere.' });
    await rec.until(() => rec.events(battle.id).filter((e) => e.t === 'delta').length >= 3);
    first.disconnect();
    const dropped = follow(first, battle.id, battle);
    dropped.apply(rec.events(battle.id));

    const second = await b.client(session);
    const resumed = follow(second, battle.id, dropped.view);
    const { events, battle: full } = await ok(second, 'battle:resume', { battleId: battle.id, afterSeq: dropped.view.seq });
    expect(full).toBeUndefined();
    resumed.apply(events);
    await waitFor(resumed.settled, 10_000, 'settled after resume');
    const { reveal } = await ok(second, 'battle:vote', { battleId: battle.id, choice: 'tie' });
    for (const side of ['left', 'right'] as const)
      expect(resumed.view.turns[0].answers[side].text).toBe(simulatedAnswer(spec(reveal[side].model), [{ role: 'user', content: 'Resume me elsewhere.' }]).text);
  });

  it('reloading the page against the other instance restores conversation, pair and vote state', async () => {
    const session = newSessionToken();
    const onA = await a.client(session);
    const rec = recordFrames(onA);
    const { battle } = await ok(onA, 'battle:start', { prompt: 'Persist me.' });
    await rec.settled(battle.id);
    await ok(onA, 'battle:vote', { battleId: battle.id, choice: 'bothbad' });
    const onB = await b.client(session);
    const state = await ok(onB, 'session:state', {});
    expect(state.battle?.id).toBe(battle.id);
    expect(state.battle?.vote).toBe('bothbad');
    expect(state.battle?.reveal?.left.model).toBeTruthy();
    expect(state.battle?.turns[0].answers.left.text).toBe(rec.text(battle.id, 'left'));
  });
});

// One Redis behind a proxy (a cluster's nodes would redirect past it): the single-Redis pass only.
if (!REDIS_IS_CLUSTER) describe('two instances, one of them on a slow link to Redis', () => {
  const prefix = `test:${randomUUID()}:`;
  let sim: Simulator;
  let proxy: TcpProxy;
  let a: TestArena;
  let b: TestArena;

  beforeAll(async () => {
    sim = await startSimulator({ flavor: 'ollama', models: SIM_MODELS, preloaded: true });
    const redis = new URL(REDIS_URL);
    proxy = await startTcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
    const config = { redisPrefix: prefix, limits: { battlesPerMinute: 100 } };
    a = await startTestArena({ sim, config: { ...config, redisUrl: proxy.url } });
    b = await startTestArena({ sim, config: { ...config, redisUrl: REDIS_URL } });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await proxy?.close();
    await sim?.close();
    await deleteRedisKeys(prefix);
  });

  it('a share link opened on B the moment A acknowledges the start finds the battle', async () => {
    const owner = await a.client();
    const spectator = await b.client();
    // A's writes now take 40 ms to be confirmed; B reads at once.
    proxy.delay(40);
    for (let i = 0; i < 3; i++) {
      const { battle } = await ok(owner, 'battle:start', { prompt: `Open the link at once, #${i}.` });
      const joined = await call(spectator, 'watch:join', shareOf(battle));
      expect(joined.ok, `battle ${i}: ${JSON.stringify(joined)}`).toBe(true);
    }
    proxy.delay(0);
  });
});
