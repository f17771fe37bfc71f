import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server } from 'socket.io';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBattles, type ArenaModels, type Battles, type Caller } from '../../server/arena/battles.js';
import { ArenaFailure } from '../../server/arena/errors.js';
import { LocalCluster } from '../../server/cluster/types.js';
import { ConfigSchema } from '../../server/config/schema.js';
import { silentLogger } from '../../server/infra/log.js';
import { createMetrics } from '../../server/infra/metrics.js';
import { createStaticProvider } from '../../server/providers/static.js';
import type { StreamPart } from '../../server/providers/types.js';
import { pairingStatsFromLeaderboard, samplePair } from '../../server/rating/pairing.js';
import { createRoomRelay, type ArenaIo } from '../../server/realtime/relay.js';
import { openSqliteStore } from '../../server/store/sqlite.js';
import type { Store } from '../../server/store/types.js';
import type { SeqEvent } from '../../src/lib/shared/protocol.js';

/**
 * The command layer with real collaborators: the embedded store, the static provider, the local
 * cluster, the relay on a Socket.IO server without clients. The clock is fake (timers and Date);
 * setImmediate stays real so the event log flushes as it does in production.
 */

const FINISH: StreamPart = { type: 'finish', reason: 'stop', usage: { completionTokens: 3 }, totalMs: 0 };
const MODELS = ['mdl-alpha', 'mdl-beta', 'mdl-gamma'];
const T0 = new Date('2026-01-01T00:00:00Z').getTime();

/** Each model answers with its own text (never its name); `slow` streams part by part with a real pause between. */
function models(slow = false): ArenaModels {
  const provider = createStaticProvider((req) => [{ type: 'text', text: `Answer ${MODELS.indexOf(req.model)}: ` }, ...Array.from({ length: slow ? 200 : 3 }, () => ({ type: 'text' as const, text: 'word ' })), FINISH], {
    delayMs: slow ? 20 : 0,
  });
  return {
    available: () => MODELS,
    describe: (id) => ({ label: id.toUpperCase(), demo: false }),
    leakWords: (id) => [id.replace('mdl-', '')],
    stream: (id, req) => provider.stream({ model: id, ...req }),
  };
}

let dir: string;
let store: Store;
let io: ArenaIo;
let battles: Battles;
let frames: SeqEvent[];

function open(opts: { slow?: boolean; maxTurns?: number } = {}): Battles {
  const config = ConfigSchema.parse({ dataDir: dir, backends: [{ id: 'static', kind: 'ollama', url: 'http://127.0.0.1:1' }] });
  const relay = createRoomRelay(io, { shared: false, logger: silentLogger });
  battles = createBattles({
    store,
    cluster: new LocalCluster('test'),
    models: models(opts.slow),
    limits: { ...config.arena, maxTurns: opts.maxTurns ?? config.arena.maxTurns },
    logger: silentLogger,
    metrics: createMetrics(),
    pickPair: (available, exclude) => samplePair(config.arena.pairing, available, pairingStatsFromLeaderboard({ rows: [] }), Math.random, exclude),
    // The real relay; frames are also kept here to look at.
    port: { ...relay, sendFrame: (battleId, events) => (frames.push(...events), relay.sendFrame(battleId, events)) },
  });
  return battles;
}

const caller = (sessionHash = 'session-a'): Caller => ({ sessionHash, join: async () => undefined });

async function settled(battleId: string): Promise<void> {
  await vi.waitFor(
    async () => {
      const current = await battles.live.currentRecord(battleId);
      const turn = current!.record.turns.at(-1)!;
      expect(turn.answers.left.status).not.toMatch(/^(pending|streaming|loading)$/);
      expect(turn.answers.right.status).not.toMatch(/^(pending|streaming|loading)$/);
      expect(battles.streamingBattles()).toBe(0);
    },
    { timeout: 5_000, interval: 5 },
  );
}

async function refusal(work: Promise<unknown>): Promise<string> {
  const err = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ArenaFailure);
  return (err as ArenaFailure).code;
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'], now: T0 });
  dir = mkdtempSync(join(tmpdir(), 'arena-commands-'));
  store = openSqliteStore({ dir, logger: silentLogger });
  io = new Server();
  frames = [];
});

afterEach(async () => {
  await battles?.close();
  io.disconnectSockets(true);
  await store.close();
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

describe('battle commands', () => {
  it('start no timer before start(), and none after close()', async () => {
    open();
    expect(vi.getTimerCount()).toBe(0);
    battles.start();
    expect(vi.getTimerCount()).toBe(1); // idle eviction (one instance: no heartbeat, no orphan scan)
    await battles.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('starts a blind duel, streams both sides to the store, and reveals the names only with the vote', async () => {
    open().start();
    const { battle } = await battles.commands.start(caller(), { prompt: 'Hello?', mode: 'arena', route: 'arena' });
    expect((await store.getBattle(battle.id))!.createdAt).toBe(T0);
    expect(JSON.stringify(battle)).not.toMatch(/mdl-/);
    await settled(battle.id);
    expect(frames.map((e) => e.seq)).toEqual(frames.map((_, i) => i + 1));
    expect(JSON.stringify(frames)).not.toMatch(/mdl-/);

    const stored = (await store.getBattle(battle.id))!;
    const pair = [stored.models.left, stored.models.right];
    expect(stored.turns[0].answers.left.text).toBe(`Answer ${MODELS.indexOf(pair[0])}: word word word `);
    expect(stored.leak).toEqual({ left: false, right: false });

    // (vi.waitFor moves the fake clock too: the vote is stamped 30 s after whatever time it is now.)
    const votedAt = Date.now() + 30_000;
    vi.advanceTimersByTime(30_000);
    const voted = await battles.commands.vote(caller(), { battleId: battle.id, choice: 'left' });
    expect(voted).toMatchObject({ counted: true, reveal: { left: { model: pair[0], label: pair[0].toUpperCase() }, right: { model: pair[1], label: pair[1].toUpperCase() } } });
    expect((await store.getBattle(battle.id))!.vote).toEqual({ choice: 'left', at: votedAt });
    expect(frames.at(-1)).toMatchObject({ t: 'vote', choice: 'left' });
    expect(await refusal(battles.commands.vote(caller(), { battleId: battle.id, choice: 'right' }))).toBe('conflict');
  });

  it("answers another session's battle exactly like an unknown one", async () => {
    open().start();
    const { battle } = await battles.commands.start(caller(), { prompt: 'Mine.', mode: 'arena', route: 'arena' });
    await settled(battle.id);
    for (const work of [
      battles.commands.vote(caller('session-b'), { battleId: battle.id, choice: 'left' }),
      battles.commands.send(caller('session-b'), { battleId: battle.id, prompt: 'And?' }),
      battles.commands.next(caller('session-b'), { battleId: battle.id }),
      battles.commands.vote(caller(), { battleId: 'no-such-id', choice: 'left' }),
    ])
      expect(await refusal(work)).toBe('not_found');
  });

  it('refuses a vote and a follow-up while streaming; stop ends both sides as stopped', async () => {
    open({ slow: true }).start();
    const { battle } = await battles.commands.start(caller(), { prompt: 'Take your time.', mode: 'arena', route: 'arena' });
    await vi.waitFor(() => expect(battles.streamingBattles()).toBe(1), { timeout: 5_000, interval: 5 });
    expect(await refusal(battles.commands.vote(caller(), { battleId: battle.id, choice: 'tie' }))).toBe('conflict');
    expect(await refusal(battles.commands.send(caller(), { battleId: battle.id, prompt: 'More?' }))).toBe('conflict');
    await battles.commands.stop(caller(), { battleId: battle.id });
    await settled(battle.id);
    const { answers } = (await store.getBattle(battle.id))!.turns[0];
    expect([answers.left.status, answers.right.status]).toEqual(['stopped', 'stopped']);
  });

  it('keeps each side to its own history on a follow-up, up to maxTurns', async () => {
    open({ maxTurns: 2 }).start();
    const { battle } = await battles.commands.start(caller(), { prompt: 'One.', mode: 'arena', route: 'arena' });
    await settled(battle.id);
    await battles.commands.send(caller(), { battleId: battle.id, prompt: 'Two.' });
    await settled(battle.id);
    expect((await store.getBattle(battle.id))!.turns.map((t) => t.prompt)).toEqual(['One.', 'Two.']);
    expect(await refusal(battles.commands.send(caller(), { battleId: battle.id, prompt: 'Three.' }))).toBe('limit');
  });

  it('evicts an idle battle after two minutes; the next command brings it back from the store', async () => {
    open().start();
    const { battle } = await battles.commands.start(caller(), { prompt: 'Then silence.', mode: 'arena', route: 'arena' });
    await settled(battle.id);
    expect(battles.live.get(battle.id)).toBeDefined();
    vi.advanceTimersByTime(60_000);
    expect(battles.live.get(battle.id)).toBeDefined();
    vi.advanceTimersByTime(75_000);
    expect(battles.live.get(battle.id)).toBeUndefined();
    const voted = await battles.commands.vote(caller(), { battleId: battle.id, choice: 'bothbad' });
    expect(voted.reveal).toBeDefined();
    expect(battles.live.get(battle.id)).toBeDefined();
  });

  it('"Next >" opens an unseen pair for the same prompt; a closed service refuses new work', async () => {
    open().start();
    const { battle } = await battles.commands.start(caller(), { prompt: 'Cycle me.', mode: 'arena', route: 'arena' });
    await settled(battle.id);
    const first = (await store.getBattle(battle.id))!.models;
    const { battle: next } = await battles.commands.next(caller(), { battleId: battle.id });
    await settled(next.id);
    const second = (await store.getBattle(next.id))!.models;
    expect([second.left, second.right].sort()).not.toEqual([first.left, first.right].sort());
    await battles.close();
    expect(await refusal(battles.commands.start(caller(), { prompt: 'Too late.', mode: 'arena', route: 'arena' }))).toBe('unavailable');
  });
});
