import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as connect, type Socket } from 'socket.io-client';
import { createArena, type Arena, type ArenaOptions } from '../../server/app.js';
import { newSessionToken } from '../../src/lib/server/session.js';
import { ConfigSchema, type Config } from '../../server/config/schema.js';
import { silentLogger } from '../../server/infra/log.js';
import { startSimulator, type SimModelSpec, type Simulator } from '../../server/sim/index.js';
import type {
  AckResults,
  ClientEventName,
  ClientPayload,
  ClientToServerEvents,
  EventsFrame,
  ServerToClientEvents,
} from '../../src/lib/shared/protocol.js';

export type ArenaClient = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Fast, distinct test models (names chosen so no default leak word matches by accident). */
export const TEST_MODELS: SimModelSpec[] = [
  { name: 'mdl-aurora:1b', tokensPerSecond: 400, ttftMs: 5, family: 'aurora', maxTokens: 30 },
  { name: 'mdl-borealis:2b', tokensPerSecond: 500, ttftMs: 5, family: 'borealis', maxTokens: 30 },
  { name: 'mdl-cinder:3b', tokensPerSecond: 450, ttftMs: 5, family: 'cinder', maxTokens: 30 },
  { name: 'mdl-dune:4b', tokensPerSecond: 600, ttftMs: 5, family: 'dune', maxTokens: 30 },
];

export interface TestArena {
  url: string;
  arena: Arena;
  sim: Simulator;
  dataDir: string;
  /** A new client with its own session (or the given one). */
  client(session?: string): Promise<ArenaClient>;
  close(): Promise<void>;
}

export async function startTestArena(
  opts: {
    models?: SimModelSpec[];
    config?: Record<string, unknown>;
    arena?: ArenaOptions;
    extraBackends?: Record<string, unknown>[];
    /** Share one simulator between several arenas (the caller closes it). */
    sim?: Simulator;
  } = {},
): Promise<TestArena> {
  const ownSim = !opts.sim;
  const sim = opts.sim ?? (await startSimulator({ flavor: 'ollama', models: opts.models ?? TEST_MODELS, preloaded: true }));
  const dataDir = mkdtempSync(join(tmpdir(), 'arena-test-'));
  const config: Config = ConfigSchema.parse({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    logLevel: 'silent',
    backends: [{ id: 'sim', kind: 'ollama', url: sim.url }, ...(opts.extraBackends ?? [])],
    metrics: { port: 0 },
    ...opts.config,
  });
  const arena = await createArena(config, { logger: silentLogger, leaderboardDebounceMs: 20, ...opts.arena });
  const url = await arena.listen(0, '127.0.0.1');
  const clients: ArenaClient[] = [];
  return {
    url,
    arena,
    sim,
    dataDir,
    async client(session = newSessionToken()) {
      const socket: ArenaClient = connect(url, { transports: ['websocket'], auth: { session }, reconnection: false });
      clients.push(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      return socket;
    },
    async close() {
      clients.forEach((c) => c.close());
      await arena.close();
      if (ownSim) await sim.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A battle's share link (`/watch/<id>?t=<token>`) taken apart; throws on any other shape. */
export function shareOf(battle: { sharePath?: string }): { battleId: string; token: string } {
  const match = /^\/watch\/([^?]+)\?t=(.+)$/.exec(battle.sharePath ?? '');
  if (!match) throw new Error(`not a share link: ${battle.sharePath}`);
  return { battleId: match[1]!, token: match[2]! };
}

export async function call<E extends ClientEventName>(socket: ArenaClient, event: E, payload: ClientPayload<E>) {
  // The typed emitWithAck signature cannot be expressed for a generic event name.
  const res = await (socket.timeout(10_000) as any).emitWithAck(event, payload);
  return res as { ok: true } & AckResults[E] | { ok: false; error: { code: string; message: string } };
}

export async function ok<E extends ClientEventName>(socket: ArenaClient, event: E, payload: ClientPayload<E>): Promise<AckResults[E]> {
  const res = await call(socket, event, payload);
  if (!res.ok) throw new Error(`${event} refused: ${res.error.code}: ${res.error.message}`);
  return res;
}

/** Records every frame a client receives, and lets a test wait for a condition on them. */
export function recordFrames(socket: ArenaClient) {
  const frames: EventsFrame[] = [];
  const raw: unknown[][] = [];
  const waiters: { test: () => boolean; resolve: () => void }[] = [];
  socket.onAny((...args) => raw.push(args));
  socket.on('battle:events', (frame) => {
    frames.push(frame);
    for (const w of [...waiters]) if (w.test()) (waiters.splice(waiters.indexOf(w), 1), w.resolve());
  });
  const events = (battleId?: string) => frames.filter((f) => !battleId || f.battleId === battleId).flatMap((f) => f.events);
  return {
    frames,
    raw,
    events,
    until(test: () => boolean, timeoutMs = 10_000): Promise<void> {
      if (test()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('timed out waiting for frames')), timeoutMs);
        waiters.push({ test, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    /** Both sides of the battle's latest turn have ended. */
    settled(battleId: string, turn = 0): Promise<void> {
      return this.until(() => {
        const all = events(battleId);
        const start = all.findLastIndex((e) => e.t === 'turn' && e.turn === turn);
        return start >= 0 && all.slice(start).filter((e) => e.t === 'end' && e.turn === turn).length >= 2;
      });
    },
    /** The side's text for a turn, from its latest (re)start. */
    text(battleId: string, side: 'left' | 'right', turn = 0): string {
      const all = events(battleId);
      const start = all.findLastIndex((e) => e.t === 'turn' && e.turn === turn);
      return all
        .slice(start + 1)
        .filter((e) => e.t === 'delta' && e.side === side && e.turn === turn)
        .map((e) => (e.t === 'delta' ? (e.text ?? '') : ''))
        .join('');
    },
  };
}

/** Resolves once `condition` holds (checked every 10 ms), for state that changes without an event to await. */
export async function waitFor(condition: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Retries an async check until it passes, for state behind a service that is coming back. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
