import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSessionToken } from '../../src/lib/server/session.js';
import { startSimulator, type Simulator } from '../../server/sim/index.js';
import { spawnArena, stopProcess, type LogEntry, type SpawnedArena } from '../../scripts/lib/arena-process.js';
import { applyEvents } from '../../src/lib/client/battle-state.js';
import type { BattleView, Leaderboard } from '../../src/lib/shared/protocol.js';
import { runCli } from '../helpers/process.js';
import { call, ok, recordFrames, TEST_MODELS, waitFor, type ArenaClient } from '../helpers/arena.js';

const WORKERS = 2;
const BATTLES_PER_MINUTE = 8;
const DUELS = 6;
// Slow enough that a spectator joins while the answers still stream.
const SIM_MODELS = TEST_MODELS.map((m) => ({ ...m, tokensPerSecond: 40, maxTokens: 120 }));

/**
 * `arena serve --workers 2` without Redis: connections land on either worker (node:cluster
 * round-robin), so owners, spectators and later owner actions cross workers all the time.
 */
describe('arena serve --workers 2 (no Redis: shared through the primary process)', () => {
  let sim: Simulator;
  let arena: SpawnedArena;
  let dir: string;
  const logs: LogEntry[] = [];
  const clients: ArenaClient[] = [];

  const sessionOf = new Map<ArenaClient, string>();
  const client = async (session = newSessionToken()) => {
    const socket: ArenaClient = connect(arena.url, { transports: ['websocket'], auth: { session }, reconnection: false, forceNew: true });
    clients.push(socket);
    sessionOf.set(socket, session);
    await new Promise<void>((resolve, reject) => (socket.once('connect', () => resolve()), socket.once('connect_error', reject)));
    return socket;
  };

  /** A spectator's view as the watch page builds it: the join's view, then frames by seq. */
  async function watch(socket: ArenaClient, battleId: string, token: string) {
    const early = recordFrames(socket);
    const joined = await ok(socket, 'watch:join', { battleId, token });
    let view: BattleView = applyEvents(joined.battle, early.events(battleId)).view;
    socket.on('battle:events', (frame) => {
      if (frame.battleId === battleId) view = applyEvents(view, frame.events).view;
    });
    const ended = (s: string) => ['done', 'stopped', 'error'].includes(s);
    return {
      get view() {
        return view;
      },
      settled: () => Boolean(view.turns[0] && ended(view.turns[0].answers.left.status) && ended(view.turns[0].answers.right.status)),
    };
  }

  beforeAll(async () => {
    sim = await startSimulator({ flavor: 'ollama', models: SIM_MODELS, preloaded: true });
    dir = mkdtempSync(join(tmpdir(), 'arena-workers-'));
    writeFileSync(join(dir, 'arena.yaml'), `backends:\n  - { id: sim, kind: ollama, url: '${sim.url}' }\nlimits:\n  battlesPerMinute: ${BATTLES_PER_MINUTE}\n`);
    arena = await spawnArena({
      env: { DATA_DIR: join(dir, 'data'), ARENA_CONFIG: join(dir, 'arena.yaml'), ARENA_DEMO: 'off', REDIS_URL: '' },
      serveArgs: ['--workers', String(WORKERS)],
      onLog: (entry) => logs.push(entry),
    });
    await waitFor(() => logs.filter((l) => l.msg === 'arena listening').length === WORKERS, 30_000, 'every worker listening');
  }, 60_000);

  afterAll(async () => {
    clients.forEach((c) => c.close());
    if (arena) await stopProcess(arena.proc);
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs duels on both workers; spectators, reconnected owners and the leaderboard see one arena', async () => {
    const duels = await Promise.all(
      Array.from({ length: DUELS }, async (_, i) => {
        const session = newSessionToken();
        const owner = await client(session);
        const ownerFrames = recordFrames(owner);
        const { battle } = await ok(owner, 'battle:start', { prompt: `Workers duel ${i}: describe a lighthouse.` });
        const [, battleId, token] = battle.sharePath!.match(/^\/watch\/([^?]+)\?t=(.+)$/)!;
        // Two spectators on fresh connections: with round-robin at least one is on the other worker.
        const spectators = await Promise.all([client(), client()]);
        const watched = await Promise.all(spectators.map((s) => watch(s, battleId!, token!)));
        await ownerFrames.settled(battle.id);
        for (const w of watched) await waitFor(w.settled, 10_000, 'the spectator to see both answers end');
        for (const side of ['left', 'right'] as const) {
          const text = ownerFrames.text(battle.id, side);
          expect(text.length).toBeGreaterThan(0);
          for (const w of watched) expect(w.view.turns[0]!.answers[side].text).toBe(text);
        }
        // The owner comes back on a new connection (maybe the other worker) and votes from there.
        owner.close();
        const again = await client(session);
        const { reveal } = await ok(again, 'battle:vote', { battleId: battle.id, choice: i % 2 ? 'left' : 'right' });
        expect(Object.keys(reveal)).toEqual(expect.arrayContaining(['left', 'right']));
        return battle.id;
      }),
    );
    expect(new Set(duels).size).toBe(DUELS);

    // Both workers created battles and each vote was stored once, by the battle's owner.
    const created = logs.filter((l) => l.msg === 'battle created');
    expect(new Set(created.map((l) => l.worker))).toEqual(new Set([1, 2]));
    // (Log lines reach us a little after the acks.)
    await waitFor(() => logs.filter((l) => l.msg === 'vote stored').length >= DUELS, 5_000, 'every vote logged');
    expect(logs.filter((l) => l.msg === 'vote stored')).toHaveLength(DUELS);

    // Every connection, whichever worker it lands on, sees all the votes on the leaderboard.
    for (let i = 0; i < 4; i++) {
      const viewer = await client();
      let board: Leaderboard | undefined;
      for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
        board = (await ok(viewer, 'leaderboard:subscribe', { excludeTies: false })).board;
        if (board.totalVotes === DUELS) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(board?.totalVotes).toBe(DUELS);
      viewer.close();
    }
    expect(logs.filter((l) => Number(l.level) >= 50)).toEqual([]);
  }, 60_000);

  it('a killed worker is replaced and another worker finishes its streaming battle', async () => {
    const slow = await client();
    const ownerFrames = recordFrames(slow);
    // A long answer (tokens at 40/s): still streaming when its worker dies.
    const { battle } = await ok(slow, 'battle:start', { prompt: 'Workers crash: write a long story about a lighthouse keeper.' });
    const [, battleId, token] = battle.sharePath!.match(/^\/watch\/([^?]+)\?t=(.+)$/)!;
    await ownerFrames.until(() => ownerFrames.events(battle.id).some((e) => e.t === 'delta'));
    await waitFor(() => logs.some((l) => l.msg === 'battle created' && l.battleId === battle.id), 5_000, 'the creation log');
    const owner = logs.find((l) => l.msg === 'battle created' && l.battleId === battle.id)!.worker;
    const pid = Number(logs.findLast((l) => l.msg === 'worker started' && l.worker === owner)!.pid);
    const startedBefore = logs.filter((l) => l.msg === 'worker started').length;
    process.kill(pid, 'SIGKILL');

    await waitFor(() => logs.some((l) => l.msg === 'took over a battle from a dead instance' && l.battleId === battle.id), 15_000, 'the takeover');
    await waitFor(() => logs.filter((l) => l.msg === 'worker started').length === startedBefore + 1, 15_000, 'a replacement worker');
    // A new connection (whichever worker) watches the battle to its end.
    const spectator = await client();
    const watched = await watch(spectator, battleId!, token!);
    await waitFor(watched.settled, 15_000, 'the adopted battle to end');
    for (const side of ['left', 'right'] as const) {
      expect(watched.view.turns[0]!.answers[side].status).toBe('done');
      expect(watched.view.turns[0]!.answers[side].text.length).toBeGreaterThan(0);
    }
    // The one error line is the primary reporting the dead worker; no worker logged an error.
    expect(logs.filter((l) => Number(l.level) >= 50).map((l) => l.msg)).toEqual(['worker exited: starting another']);
  }, 60_000);

  it('counts rate limits once for the machine, whichever worker a request lands on', async () => {
    const session = newSessionToken();
    const outcomes: string[] = [];
    // Each attempt on a fresh connection: round-robin alternates workers.
    for (let i = 0; i < BATTLES_PER_MINUTE * 2 + 2; i++) {
      const socket = await client(session);
      const res = await call(socket, 'battle:start', { prompt: `Limit ${i}: one line about tides.` });
      outcomes.push(res.ok ? 'ok' : res.error.code);
      socket.close();
    }
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(BATTLES_PER_MINUTE);
    expect(outcomes.slice(BATTLES_PER_MINUTE).every((o) => o === 'rate_limited')).toBe(true);
  }, 60_000);

  it('refuses a bad --workers value with a message, no stack trace', async () => {
    const { code, stderr } = await runCli(['serve', '--workers', 'many'], { ARENA_CONFIG: '', DATA_DIR: dir });
    expect(code).toBe(2);
    expect(stderr).toContain('--workers must be a whole number from 1 to 256, or auto');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('SIGTERM stops every worker cleanly; battles streaming at that moment are stored as stopped', async () => {
    const owner = await client();
    const frames = recordFrames(owner);
    const { battle } = await ok(owner, 'battle:start', { prompt: 'Workers stop: write a long story about a lighthouse keeper.' });
    await frames.until(() => frames.events(battle.id).some((e) => e.t === 'delta'));
    const { code } = await stopProcess(arena.proc);
    expect(code).toBe(0);
    await waitFor(() => logs.filter((l) => l.msg === 'bye').length >= WORKERS, 5_000, 'every worker to say bye');
    expect(logs.filter((l) => Number(l.level) >= 50 && l.msg !== 'worker exited: starting another')).toEqual([]);

    // The same data directory, served again: the interrupted answers ended as stopped, not streaming forever.
    logs.length = 0;
    arena = await spawnArena({
      env: { DATA_DIR: join(dir, 'data'), ARENA_CONFIG: join(dir, 'arena.yaml'), ARENA_DEMO: 'off', REDIS_URL: '' },
      onLog: (entry) => logs.push(entry),
    });
    const back = await client(sessionOf.get(owner)!);
    const state = await ok(back, 'session:state', {});
    expect(state.battle?.id).toBe(battle.id);
    for (const side of ['left', 'right'] as const) expect(state.battle!.turns[0]!.answers[side].status).toBe('interrupted');
  }, 60_000);
});
