/**
 * The load generator: N duel owners and M spectators (real socket.io-client connections over
 * loopback, all in this one process), plus optional raw slow consumers. Each owner runs duels back
 * to back for the duration; spectators follow their duel from battle to battle via watch:join.
 * Every token carries the simulator's emission stamp, so each one received yields a delivery delay.
 */
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';
import type { EventsFrame } from '../../src/lib/shared/protocol.js';
import { Histogram, type LatencySummary } from './histogram.js';
import { SlowClient } from './slow-client.js';

export const nowUs = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const newSession = (): string => randomBytes(32).toString('base64url');

export interface LoadOptions {
  /** Owners of duel i connect to servers[i % n]; its spectators to servers[(i + 1) % n]. */
  servers: string[];
  duels: number;
  spectators: number;
  /** Measured window, after the warm-up. */
  durationMs: number;
  warmupMs: number;
  /** Turns per battle: 1 = a new battle (battle:next) after every answer; more = battle:send follow-ups. */
  turnsPerBattle: number;
  prompts: string[];
  slow?: { clients: number; duelsEach: number; keepAlive: boolean };
  /** Called when the measured window opens and closes (samplers). */
  onWindow?: (phase: 'start' | 'end') => void;
  connectConcurrency?: number;
  /** A turn that has not ended after this long is given up (counted as stuck). */
  turnTimeoutMs?: number;
}

export interface LoadResult {
  delay: { all: LatencySummary; owners: LatencySummary; spectators: LatencySummary };
  /** Owner-seen first token − its emission stamp. */
  ttftOverhead: LatencySummary;
  /** Owner-seen first token − the moment the owner sent battle:start/next/send (includes the model's TTFT). */
  ttftClient: LatencySummary;
  tokensPerSec: { owners: number; spectators: number; total: number };
  /** Turns completed in the window. */
  turns: number;
  battles: number;
  windowS: number;
  connectS: number;
  errors: { requests: number; endErrors: number; stuck: number; joins: number; connects: number; disconnects: number };
  loadgen: { cpuPct: number; eventLoopP99Ms: number; eventLoopMaxMs: number };
  /** Slow clients that connected and joined. */
  slow?: { clients: number };
  lastError?: string;
}

class Stats {
  readonly ownerDelay = new Histogram();
  readonly spectatorDelay = new Histogram();
  readonly ttftOverhead = new Histogram();
  readonly ttftClient = new Histogram();
  ownerTokens = 0;
  spectatorTokens = 0;
  measuring = false;
  turns = 0;
  battles = 0;
  requestErrors = 0;
  endErrors = 0;
  stuck = 0;
  joinFailures = 0;
  disconnects = 0;
  lastError = '';
}

/** Records every stamp in `text`; returns [count, first stamp]. */
function scan(text: string, now: number, hist: Histogram, record: boolean): [number, number] {
  let first = NaN;
  let n = 0;
  let i = text.indexOf('⟦');
  while (i >= 0) {
    const j = text.indexOf('⟧', i);
    if (j < 0) break;
    const stamp = Number(text.slice(i + 1, j));
    if (n === 0) first = stamp;
    if (record) hist.record(now - stamp);
    n++;
    i = text.indexOf('⟦', j);
  }
  return [n, first];
}

interface Turn {
  battleId: string | null;
  turn: number;
  sentAt: number;
  ends: number;
  first: { left: boolean; right: boolean };
  measured: boolean;
  done: () => void;
}

class Owner {
  battleId: string | null = null;
  token = '';
  turn = 0;
  turnsInBattle = 0;
  current: Turn | null = null;
  readonly spectators: Socket[] = [];
  readonly slow: SlowWatcher[] = [];

  constructor(
    readonly socket: Socket,
    private readonly stats: Stats,
  ) {
    socket.on('battle:events', (frame: EventsFrame) => this.onFrame(frame));
    socket.on('disconnect', (reason) => reason !== 'io client disconnect' && stats.disconnects++);
  }

  private onFrame(frame: EventsFrame): void {
    const now = nowUs();
    const stats = this.stats;
    const turn = this.current;
    // The new battle's first frames can beat the ack that names it.
    if (turn && turn.battleId === null && frame.battleId !== this.battleId) turn.battleId = frame.battleId;
    const isCurrent = turn !== null && frame.battleId === turn.battleId;
    for (const e of frame.events) {
      if (e.t === 'delta') {
        if (!e.text) continue;
        const [n, first] = scan(e.text, now, stats.ownerDelay, stats.measuring);
        if (stats.measuring) stats.ownerTokens += n;
        if (isCurrent && e.turn === turn.turn && !turn.first[e.side] && n > 0) {
          turn.first[e.side] = true;
          if (turn.measured && stats.measuring) {
            stats.ttftOverhead.record(now - first);
            stats.ttftClient.record(now - turn.sentAt);
          }
        }
      } else if (e.t === 'end' && isCurrent && e.turn === turn.turn) {
        if (e.status === 'error') stats.endErrors++;
        if (++turn.ends === 2) turn.done();
      }
    }
  }
}

class SlowWatcher {
  private pendingInitial: number;
  paused = false;

  constructor(
    readonly client: SlowClient,
    duels: number,
    private readonly keepAlive: boolean,
    private readonly stats: Stats,
  ) {
    this.pendingInitial = duels;
  }

  async join(battleId: string, token: string): Promise<void> {
    if (this.paused) return this.client.join(battleId, token, true);
    try {
      await this.client.join(battleId, token);
    } catch {
      this.stats.joinFailures++;
    }
    if (--this.pendingInitial <= 0 && !this.paused) {
      this.paused = true;
      this.client.pause(this.keepAlive);
    }
  }
}

function spectate(socket: Socket, stats: Stats): void {
  socket.on('battle:events', (frame: EventsFrame) => {
    if (!stats.measuring) return;
    const now = nowUs();
    for (const e of frame.events) {
      if (e.t === 'delta' && e.text) stats.spectatorTokens += scan(e.text, now, stats.spectatorDelay, true)[0];
    }
  });
  socket.on('disconnect', (reason) => reason !== 'io client disconnect' && stats.disconnects++);
}

export function connectClient(url: string, timeoutMs = 30_000): Promise<Socket> {
  const socket = io(url, { transports: ['websocket'], auth: { session: newSession() }, reconnection: false, forceNew: true, timeout: timeoutMs });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => (socket.close(), reject(err)));
  });
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i]!, i);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** K connected clients that do nothing (memory per idle connection). */
export async function connectIdle(url: string, count: number): Promise<{ close(): void }> {
  const sockets = await pool(Array.from({ length: count }), 50, () => connectClient(url));
  return { close: () => sockets.forEach((s) => s.close()) };
}

type AckRes = { ok: true; battle?: { id: string; sharePath?: string } } | { ok: false; error: { code: string; message: string } };

function request(socket: Socket, event: string, payload: unknown, timeoutMs = 20_000): Promise<AckRes> {
  return socket
    .timeout(timeoutMs)
    .emitWithAck(event, payload)
    .catch((err: Error) => ({ ok: false, error: { code: 'timeout', message: err.message } }) as AckRes);
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const stats = new Stats();
  const n = opts.servers.length;
  const concurrency = opts.connectConcurrency ?? 50;
  const turnTimeoutMs = opts.turnTimeoutMs ?? 30_000;
  const connectStarted = performance.now();
  let connectFailures = 0;
  const tryConnect = async (url: string): Promise<Socket | null> => {
    try {
      return await connectClient(url);
    } catch (err) {
      connectFailures++;
      stats.lastError = `connect: ${(err as Error).message}`;
      return null;
    }
  };

  const ownerSockets = await pool(Array.from({ length: opts.duels }, (_, i) => i), concurrency, (i) => tryConnect(opts.servers[i % n]!));
  const owners = ownerSockets.map((s) => (s ? new Owner(s, stats) : null));
  const spectatorSockets = await pool(Array.from({ length: opts.spectators }, (_, j) => j), concurrency, async (j) => {
    const duel = j % opts.duels;
    const socket = await tryConnect(opts.servers[(duel + 1) % n]!);
    if (socket) {
      spectate(socket, stats);
      owners[duel]?.spectators.push(socket);
    }
    return socket;
  });
  const slowWatchers: SlowWatcher[] = [];
  if (opts.slow) {
    const { clients, duelsEach, keepAlive } = opts.slow;
    await pool(Array.from({ length: clients }, (_, k) => k), concurrency, async (k) => {
      const first = (k * duelsEach) % opts.duels;
      try {
        const client = await SlowClient.connect(opts.servers[(first + 1) % n]!, newSession());
        const watcher = new SlowWatcher(client, Math.min(duelsEach, opts.duels), keepAlive, stats);
        slowWatchers.push(watcher);
        for (let d = 0; d < Math.min(duelsEach, opts.duels); d++) owners[(first + d) % opts.duels]?.slow.push(watcher);
      } catch {
        connectFailures++;
      }
    });
  }
  const connectS = (performance.now() - connectStarted) / 1000;

  const startedAt = performance.now();
  const windowStart = startedAt + opts.warmupMs;
  const stopAt = windowStart + opts.durationMs;
  const eld = monitorEventLoopDelay({ resolution: 5 });
  let cpuStart = process.cpuUsage();
  const windowTimers = [
    setTimeout(() => {
      stats.measuring = true;
      cpuStart = process.cpuUsage();
      eld.enable();
      opts.onWindow?.('start');
    }, opts.warmupMs),
  ];
  let cpu = { user: 0, system: 0 };
  const windowEnded = new Promise<void>((resolve) =>
    windowTimers.push(
      setTimeout(() => {
        stats.measuring = false;
        cpu = process.cpuUsage(cpuStart);
        eld.disable();
        opts.onWindow?.('end');
        resolve();
      }, opts.warmupMs + opts.durationMs),
    ),
  );

  const runDuel = async (owner: Owner, index: number) => {
    // Staggered starts: duels do not all begin in the same millisecond.
    await sleep(Math.random() * Math.min(2_000, opts.warmupMs));
    let prompt = opts.prompts[index % opts.prompts.length]!;
    while (performance.now() < stopAt) {
      const newBattle = owner.battleId === null || owner.turnsInBattle >= opts.turnsPerBattle;
      const expectedTurn = newBattle ? 0 : owner.turn + 1;
      let done!: () => void;
      const ended = new Promise<void>((resolve) => (done = resolve));
      const turn: Turn = {
        battleId: newBattle ? null : owner.battleId,
        turn: expectedTurn,
        sentAt: nowUs(),
        ends: 0,
        first: { left: false, right: false },
        measured: stats.measuring,
        done,
      };
      owner.current = turn;
      let res: AckRes;
      if (newBattle) {
        res = owner.battleId
          ? await request(owner.socket, 'battle:next', { battleId: owner.battleId })
          : await request(owner.socket, 'battle:start', { prompt, route: 'arena' });
      } else {
        if (opts.turnsPerBattle > 1) prompt = opts.prompts[(index + owner.turnsInBattle) % opts.prompts.length]!;
        res = await request(owner.socket, 'battle:send', { battleId: owner.battleId, prompt });
      }
      if (!res.ok) {
        stats.requestErrors++;
        stats.lastError = `${res.error.code}: ${res.error.message}`;
        owner.current = null;
        if (res.error.code === 'not_found' || res.error.code === 'limit') owner.battleId = null;
        await sleep(500);
        continue;
      }
      if (newBattle) {
        const battle = res.battle!;
        turn.battleId = battle.id;
        owner.battleId = battle.id;
        owner.token = new URL(battle.sharePath!, 'http://x').searchParams.get('t')!;
        owner.turn = 0;
        owner.turnsInBattle = 0;
        stats.battles++;
        for (const spectator of owner.spectators) {
          spectator.timeout(20_000).emit('watch:join', { battleId: battle.id, token: owner.token }, (err: Error | null, ack?: AckRes) => {
            // Acks cut off because the bench closes its sockets after the window do not count.
            if ((err || !ack?.ok) && stats.measuring) {
              stats.joinFailures++;
              stats.lastError = `watch:join: ${err ? err.message : ack && !ack.ok ? `${ack.error.code}: ${ack.error.message}` : '?'}`;
            }
          });
        }
        for (const watcher of owner.slow) void watcher.join(battle.id, owner.token);
      } else {
        owner.turn = expectedTurn;
      }
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        ended.then(() => 'ended' as const),
        windowEnded.then(() => 'window' as const),
        new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), turnTimeoutMs))),
      ]);
      clearTimeout(timer);
      owner.current = null;
      if (outcome === 'window') break; // measuring is over: no need to wait for this answer
      const timedOut = outcome === 'timeout';
      owner.turnsInBattle++;
      if (timedOut) {
        stats.stuck++;
        owner.turnsInBattle = opts.turnsPerBattle; // start afresh
      } else if (stats.measuring) stats.turns++;
    }
  };

  await Promise.all(owners.map((owner, i) => (owner ? runDuel(owner, i) : Promise.resolve())));
  await windowEnded;
  windowTimers.forEach(clearTimeout);

  for (const owner of owners) owner?.socket.close();
  for (const socket of spectatorSockets) socket?.close();
  for (const watcher of slowWatchers) watcher.client.close();

  const windowS = opts.durationMs / 1000;
  const all = new Histogram().merge(stats.ownerDelay).merge(stats.spectatorDelay);
  return {
    delay: { all: all.summary(), owners: stats.ownerDelay.summary(), spectators: stats.spectatorDelay.summary() },
    ttftOverhead: stats.ttftOverhead.summary(),
    ttftClient: stats.ttftClient.summary(),
    tokensPerSec: {
      owners: stats.ownerTokens / windowS,
      spectators: stats.spectatorTokens / windowS,
      total: (stats.ownerTokens + stats.spectatorTokens) / windowS,
    },
    turns: stats.turns,
    battles: stats.battles,
    windowS,
    connectS,
    errors: {
      requests: stats.requestErrors,
      endErrors: stats.endErrors,
      stuck: stats.stuck,
      joins: stats.joinFailures,
      connects: connectFailures,
      disconnects: stats.disconnects,
    },
    loadgen: {
      cpuPct: ((cpu.user + cpu.system) / 1e6 / windowS) * 100,
      eventLoopP99Ms: eld.percentile(99) / 1e6,
      eventLoopMaxMs: eld.max / 1e6,
    },
    ...(opts.slow ? { slow: { clients: slowWatchers.length } } : {}),
    ...(stats.lastError ? { lastError: stats.lastError } : {}),
  };
}

/** Streams straight from the simulator (no relay): the floor of what stamps can measure. */
export async function measureDirect(simUrl: string, model: string, streams: number, prompts: string[]): Promise<LatencySummary> {
  const hist = new Histogram();
  await Promise.all(
    Array.from({ length: streams }, async (_, i) => {
      const res = await fetch(`${simUrl}/api/chat`, {
        method: 'POST',
        body: JSON.stringify({ model, messages: [{ role: 'user', content: prompts[i % prompts.length] }], stream: true }),
      });
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const now = nowUs();
        scan(decoder.decode(value, { stream: true }), now, hist, true);
      }
    }),
  );
  return hist.summary();
}
