/**
 * The Redis outage matrix: two Arena instances (in this process, sharing a private redis-server),
 * every client action performed while Redis is down, then again after it is back, with battles
 * streaming through the outage on both instances. Used by tests/integration/outage-matrix.test.ts
 * (a subset) and scripts/outage-matrix.ts (every action × 1 s, 5 s, 30 s).
 *
 * Per action and outage it records: the answer during the outage (an ack, or a connection), whether
 * that answer is typed (ok, or a documented error code other than `internal`; a timeout is not), and
 * whether the action works after recovery. Per outage: battles whose streams had two writers (a
 * client saw two contents for one seq or had to be reset, or a final text differs from the
 * uninterrupted answer), and the process guard's fault count (an uncaught exception is an exit).
 */
import { randomUUID } from 'node:crypto';
import { newSessionToken } from '../../src/lib/server/session.js';
import { processFaultCounts } from '../../server/process-guard.js';
import { simulatedAnswer, type SimModelSpec, type Simulator } from '../../server/sim/index.js';
import { call, eventually, ok, recordFrames, startTestArena, waitFor, type ArenaClient, shareOf, type TestArena } from '../../tests/helpers/arena.js';
import type { RedisServer } from '../../tests/helpers/redis-server.js';
import { followLikeUi } from '../../tests/helpers/ui-follower.js';

export const ACTIONS = [
  'connect',
  'disconnect',
  'start',
  'send',
  'stop',
  'vote',
  'next',
  'resume',
  'watch join',
  'watch leave',
  'crowd vote',
  'leaderboard subscribe',
  'status subscribe',
] as const;
export type Action = (typeof ACTIONS)[number];

const TYPED_CODES = new Set(['bad_request', 'not_found', 'forbidden', 'conflict', 'limit', 'rate_limited', 'unavailable']);
/** Longest an action may take to answer during an outage before it counts as untyped (no answer). */
const ANSWER_TIMEOUT_MS = 15_000;

export interface CellResult {
  action: Action;
  outageMs: number;
  /** `ok`, an error code, `connected`, or `timeout`. */
  during: string;
  typed: boolean;
  recovered: boolean;
  error?: string;
}

export interface OutageResult {
  outageMs: number;
  cells: CellResult[];
  streamingBattles: number;
  twoWriterBattles: number;
  /** Why each such battle counts (for a readable failure). */
  problems: string[];
  /** Unhandled rejections and uncaught exceptions the process guard counted during this outage. */
  faults: { unhandledRejection: number; uncaughtException: number };
}

interface Step {
  during(): Promise<string>;
  after(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An ack as a matrix answer: `ok` or its error code. */
async function answer(pending: Promise<{ ok: boolean; error?: { code: string } }>): Promise<string> {
  const res = await pending;
  return res.ok ? 'ok' : res.error!.code;
}

async function callLong(socket: ArenaClient, event: string, payload: object): Promise<string> {
  try {
    return await answer((socket.timeout(ANSWER_TIMEOUT_MS) as any).emitWithAck(event, payload));
  } catch {
    return 'timeout';
  }
}

export async function runOutage(opts: {
  redis: RedisServer;
  sim: Simulator;
  models: SimModelSpec[];
  outageMs: number;
  actions: readonly Action[];
}): Promise<OutageResult> {
  const { redis, sim, outageMs } = opts;
  const spec = (name: string) => opts.models.find((m) => m.name === name)!;
  const limits = { battlesPerMinute: 1000, promptsPerMinutePerIp: 1000, votesPerMinute: 1000, connectionsPerMinutePerIp: 10_000 };
  const config = { redisUrl: redis.url, redisPrefix: `matrix:${randomUUID()}:`, limits };
  const a: TestArena = await startTestArena({ sim, config });
  const b: TestArena = await startTestArena({ sim, config });
  const before = processFaultCounts();
  try {
    /** A battle of `owner` (started on its instance), stopped at once so it is settled. */
    const settledBattle = async (owner: ArenaClient, prompt: string) => {
      const frames = recordFrames(owner);
      const { battle } = await ok(owner, 'battle:start', { prompt });
      await ok(owner, 'battle:stop', { battleId: battle.id });
      await frames.settled(battle.id);
      return battle;
    };

    const steps: Record<Action, () => Promise<Step>> = {
      connect: async () => ({
        during: async () => {
          try {
            await b.client();
            return 'connected';
          } catch (err) {
            return `refused: ${(err as Error).message}`;
          }
        },
        after: async () => void (await eventually(() => b.client())),
      }),
      disconnect: async () => {
        const session = newSessionToken();
        const owner = await a.client(session);
        const battle = await settledBattle(owner, 'disconnect');
        return {
          during: async () => (owner.close(), 'ok'),
          after: async () => {
            const back = await eventually(() => b.client(session));
            const state = await eventually(() => ok(back, 'session:state', {}));
            if (state.battle?.id !== battle.id) throw new Error('session lost its battle');
          },
        };
      },
      start: async () => {
        const owner = await a.client();
        return {
          during: () => callLong(owner, 'battle:start', { prompt: 'start in outage' }),
          after: async () => {
            const { battle } = await eventually(() => ok(owner, 'battle:start', { prompt: 'start after' }));
            await ok(owner, 'battle:stop', { battleId: battle.id });
          },
        };
      },
      send: async () => {
        const owner = await a.client();
        const battle = await settledBattle(owner, 'send');
        return {
          during: () => callLong(owner, 'battle:send', { battleId: battle.id, prompt: 'follow-up in outage' }),
          after: async () => {
            // A follow-up accepted during the outage streams on: stop it (retried until it has
            // ended and a new one is accepted), then stop the new one.
            await eventually(async () => {
              await ok(owner, 'battle:stop', { battleId: battle.id });
              await ok(owner, 'battle:send', { battleId: battle.id, prompt: 'follow-up after' });
            });
            await ok(owner, 'battle:stop', { battleId: battle.id });
          },
        };
      },
      stop: async () => {
        const owner = await a.client();
        const { battle } = await ok(owner, 'battle:start', { prompt: 'stop in outage' });
        return {
          during: () => callLong(owner, 'battle:stop', { battleId: battle.id }),
          after: async () => {
            const { battle: next } = await eventually(() => ok(owner, 'battle:start', { prompt: 'stop after' }));
            await ok(owner, 'battle:stop', { battleId: next.id });
          },
        };
      },
      vote: async () => {
        const owner = await a.client();
        const battle = await settledBattle(owner, 'vote');
        let during = '';
        return {
          during: async () => (during = await callLong(owner, 'battle:vote', { battleId: battle.id, choice: 'left' })),
          after: async () => {
            if (during === 'ok') return; // stored once; a retry would be a conflict
            await eventually(() => ok(owner, 'battle:vote', { battleId: battle.id, choice: 'left' }));
          },
        };
      },
      next: async () => {
        const owner = await a.client();
        const battle = await settledBattle(owner, 'next');
        return {
          during: () => callLong(owner, 'battle:next', { battleId: battle.id }),
          after: async () => {
            const { battle: next } = await eventually(() => ok(owner, 'battle:next', { battleId: battle.id }));
            await ok(owner, 'battle:stop', { battleId: next.id });
          },
        };
      },
      resume: async () => {
        const session = newSessionToken();
        const owner = await a.client(session);
        const battle = await settledBattle(owner, 'resume');
        const elsewhere = await b.client(session);
        return {
          during: () => callLong(elsewhere, 'battle:resume', { battleId: battle.id, afterSeq: 0 }),
          after: async () => void (await eventually(() => ok(elsewhere, 'battle:resume', { battleId: battle.id, afterSeq: 0 }))),
        };
      },
      'watch join': async () => {
        const owner = await a.client();
        const battle = await settledBattle(owner, 'watch join');
        const spectator = await b.client();
        const payload = shareOf(battle);
        return {
          during: () => callLong(spectator, 'watch:join', payload),
          after: async () => void (await eventually(() => ok(spectator, 'watch:join', payload))),
        };
      },
      'watch leave': async () => {
        const owner = await a.client();
        const battle = await settledBattle(owner, 'watch leave');
        const payload = shareOf(battle);
        const spectator = await b.client();
        await ok(spectator, 'watch:join', payload);
        return {
          during: async () => (spectator.close(), 'ok'),
          after: async () => {
            const next = await eventually(() => b.client());
            const joined = await eventually(() => ok(next, 'watch:join', payload));
            if (joined.viewers !== 1) throw new Error(`viewer count ${joined.viewers} after a leave and a join`);
          },
        };
      },
      'crowd vote': async () => {
        const owner = await a.client();
        const battle = await settledBattle(owner, 'crowd vote');
        const payload = shareOf(battle);
        const spectator = await b.client();
        await ok(spectator, 'watch:join', payload);
        let during = '';
        return {
          during: async () => (during = await callLong(spectator, 'watch:vote', { ...payload, choice: 'tie' })),
          after: async () => {
            if (during === 'ok') return;
            await eventually(() => ok(spectator, 'watch:vote', { ...payload, choice: 'tie' }));
          },
        };
      },
      'leaderboard subscribe': async () => {
        const viewer = await b.client();
        return {
          during: () => callLong(viewer, 'leaderboard:subscribe', {}),
          after: async () => void (await eventually(() => ok(viewer, 'leaderboard:subscribe', { excludeTies: true }))),
        };
      },
      'status subscribe': async () => {
        const viewer = await b.client();
        return {
          during: () => callLong(viewer, 'status:subscribe', {}),
          after: async () => void (await eventually(async () => ok(await b.client(), 'status:subscribe', {}))),
        };
      },
    };

    // Battles streaming through the outage, on both instances, each with a spectator on the other.
    const streams = await Promise.all(
      ([
        [a, b],
        [a, b],
        [b, a],
      ] as const).map(async ([home, away], i) => {
        const owner = await home.client();
        const early = recordFrames(owner);
        const prompt = `Stream through a ${outageMs} ms outage, #${i}.`;
        const { battle } = await ok(owner, 'battle:start', { prompt });
        const ownerUi = followLikeUi(owner, battle, { owner: true });
        ownerUi.apply(early.events(battle.id));
        const spectator = await away.client();
        const joined = await ok(spectator, 'watch:join', shareOf(battle));
        const spectatorUi = followLikeUi(spectator, joined.battle, { token: shareOf(battle).token });
        return { owner, battle, prompt, clients: [ownerUi, spectatorUi] };
      }),
    );
    const prepared = await Promise.all(opts.actions.map(async (action) => [action, await steps[action]()] as const));

    await redis.kill('SIGKILL');
    const outageEnd = Date.now() + outageMs;
    await sleep(Math.min(200, outageMs / 2));
    const answers = prepared.map(([action, step]) => step.during().then((during) => ({ action, during })));
    await sleep(Math.max(0, outageEnd - Date.now()));
    await redis.start();
    const duringResults = await Promise.all(answers);

    const cells: CellResult[] = [];
    for (const [action, step] of prepared) {
      const during = duringResults.find((r) => r.action === action)!.during;
      const typed = during === 'ok' || during === 'connected' || TYPED_CODES.has(during);
      let recovered = true;
      let error: string | undefined;
      try {
        await step.after();
      } catch (err) {
        recovered = false;
        error = (err as Error).message;
      }
      cells.push({ action, outageMs, during, typed, recovered, ...(error ? { error } : {}) });
    }

    let twoWriterBattles = 0;
    const problems: string[] = [];
    for (const s of streams) {
      await waitFor(() => s.clients.every((c) => c.settled()), 40_000, 'streams settled after the outage').catch(() => undefined);
      const vote = await eventually(() => ok(s.owner, 'battle:vote', { battleId: s.battle.id, choice: 'tie' }), 15_000).catch(() => null);
      const expected = vote
        ? (['left', 'right'] as const).map((side) => simulatedAnswer(spec(vote.reveal[side].model), [{ role: 'user', content: s.prompt }]).text)
        : null;
      const issues = s.clients.flatMap((c, i) => {
        const who = i === 0 ? 'owner' : 'spectator';
        const found: string[] = [];
        if (!c.settled()) found.push(`${who} not settled (at seq ${c.state.view.seq} of ${s.clients[0].state.view.seq}, ${c.state.frames} frames, ${c.state.gaps} catch-ups)`);
        if (c.state.conflicts.length) found.push(`${who} saw two contents for seqs ${c.state.conflicts.slice(0, 5).join(',')}`);
        if (c.state.resets) found.push(`${who} was reset`);
        if (!expected) found.push('no vote after recovery');
        else if (c.state.view.turns[0]?.answers.left.text !== expected[0] || c.state.view.turns[0]?.answers.right.text !== expected[1])
          found.push(`${who} text differs from the uninterrupted answer`);
        return found;
      });
      if (issues.length) {
        twoWriterBattles++;
        problems.push(`${s.battle.id}: ${issues.join('; ')}`);
      }
    }
    const after = processFaultCounts();
    return {
      outageMs,
      cells,
      streamingBattles: streams.length,
      twoWriterBattles,
      problems,
      faults: {
        unhandledRejection: after.unhandledRejection - before.unhandledRejection,
        uncaughtException: after.uncaughtException - before.uncaughtException,
      },
    };
  } finally {
    await a.close();
    await b.close();
  }
}
