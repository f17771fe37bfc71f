/**
 * The relay scenarios: (a) one instance vs the baseline, (b) two instances + Redis, (c) capacity
 * ladder, (d) slow consumers. Each starts its own processes and stops them before returning.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { simulatedAnswer, type SimModelSpec } from '../../server/sim/index.js';
import type { GcReport } from '../../scripts/lib/gc-hook.js';
import type { LatencySummary } from './histogram.js';
import { connectIdle, measureDirect, runLoad, type LoadOptions, type LoadResult } from './load.js';
import { kernelQueues, ProcSampler, readProc, scrapeArena, startArena, startBaseline, startSim, systemBusySeconds, type ArenaMetrics, type Proc, type UsageSummary } from './procs.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (msg: string) => console.error(`[bench] ${msg}`);

export interface RelaySettings {
  quick: boolean;
  tokensPerSecond: number;
  ttftMs: number;
  /** Measured seconds per load run (after warm-up). */
  durationS: number;
  warmupS: number;
  duels: number;
  spectators: number;
  /** Idle connections for the memory-per-connection figure. */
  idleClients: number;
  steps: number[];
  spectatorsPerDuel: number;
  maxSpectators: number;
  capacityDurationS: number;
  p99LimitMs: number;
  redisUrl: string;
  slowClients: number;
  slowDuelsEach: number;
  slowDurationS: number;
  /** Scenario (d)'s duels and model speed (quick mode: fewer, faster duels so paused sockets fill sooner). */
  slowDuels: number;
  slowTokensPerSecond: number;
  turnsPerBattle: number;
  /** --variants only: which variants to run (default all, plus the baseline). */
  variantFilter?: string[];
}

export const MODEL_NAMES = ['mdl-aurora:1b', 'mdl-borealis:2b', 'mdl-cinder:3b', 'mdl-dune:4b'];

export function models(s: RelaySettings): SimModelSpec[] {
  return MODEL_NAMES.map((name) => ({ name, tokensPerSecond: s.tokensPerSecond, ttftMs: s.ttftMs, loadMs: 0, maxTokens: 60 }));
}

/** Prompts every model answers in 40–60 tokens (the simulator is deterministic). */
export function pickPrompts(specs: SimModelSpec[], count = 24): { prompts: string[]; meanTokens: number } {
  const topics = ['tides', 'volcanoes', 'compilers', 'bread', 'orbits', 'glaciers', 'markets', 'bridges', 'owls', 'rivers', 'chess', 'clocks'];
  const prompts: string[] = [];
  let tokens = 0;
  for (let i = 0; prompts.length < count && i < 5_000; i++) {
    const prompt = `Benchmark prompt ${i}: explain ${topics[i % topics.length]} in a short paragraph.`;
    const lengths = specs.map((spec) => simulatedAnswer(spec, [{ role: 'user', content: prompt }]).tokens.length);
    if (lengths.every((n) => n >= 40 && n <= 60)) {
      prompts.push(prompt);
      tokens += lengths.reduce((a, b) => a + b, 0) / lengths.length;
    }
  }
  return { prompts, meanTokens: tokens / prompts.length };
}

export interface Row {
  label: string;
  duels: number;
  spectators: number;
  load: LoadResult;
  servers: UsageSummary[];
  sim: UsageSummary;
  idleKbPerConn?: number;
  /** CPU used by processes that are not part of this benchmark, during the window (% of one core). */
  otherCpuPct: number;
  /** Arena instances only: event-loop lag over the window and frames per relayed token. */
  arena?: { loopP50Ms: number; loopP99Ms: number; loopMaxMs: number; framesPerToken: number }[];
}

/** Every row measured in this process (for the run's background-load summary). */
export const measuredRows: Row[] = [];
/** Seconds spent waiting for other processes to go quiet before measuring. */
export const quietWait = { seconds: 0, gaveUp: 0 };

/**
 * Waits (bounded) until the machine is quiet: between load runs this benchmark's own processes
 * are idle, so busy CPU then belongs to someone else (tests, builds on a shared box).
 */
async function waitForQuiet(maxWaitS: number, thresholdPct = 20): Promise<void> {
  const started = performance.now();
  for (;;) {
    const before = systemBusySeconds();
    await sleep(1_000);
    const busyPct = (systemBusySeconds() - before) * 100;
    if (busyPct < thresholdPct) break;
    const waited = (performance.now() - started) / 1000;
    if (waited >= maxWaitS) {
      quietWait.gaveUp++;
      log(`  machine still busy (${busyPct.toFixed(0)}% of a core used by others) after ${waited.toFixed(0)} s: measuring anyway`);
      break;
    }
    if (waited < 1.5) log(`  waiting for other processes to go quiet (${busyPct.toFixed(0)}% of a core busy)…`);
  }
  quietWait.seconds += (performance.now() - started) / 1000 - 1;
}

/** Runs one load against `servers`, sampling their CPU/RSS (and the simulator's) over the measured window. */
async function measure(label: string, servers: Proc[], sim: Proc, s: RelaySettings, load: Partial<LoadOptions> & { duels: number; spectators: number; prompts: string[] }): Promise<Row> {
  const samplers = servers.map((p) => new ProcSampler(p.pid));
  const simSampler = new ProcSampler(sim.pid);
  // A multi-worker server's /metrics answers from whichever worker takes the request: not comparable.
  const isArena = servers.map((p) => p.name.startsWith('arena') && !p.name.includes('workers'));
  let sysStart = 0;
  let sysEnd = 0;
  let windowStart = 0;
  let windowEnd = 0;
  const metricsAtStart: Promise<(ArenaMetrics | null)[]>[] = [];
  const metricsAtEnd: Promise<(ArenaMetrics | null)[]>[] = [];
  const scrapeAll = () => Promise.all(servers.map((p, i) => (isArena[i] ? scrapeArena(p) : Promise.resolve(null))));
  await waitForQuiet(s.quick ? 5 : 120);
  log(`${label}: ${load.duels} duels, ${load.spectators} spectators${load.slow ? `, ${load.slow.clients} slow` : ''}, ${load.durationMs ?? s.durationS * 1000} ms`);
  const result = await runLoad({
    servers: servers.map((p) => p.url),
    durationMs: s.durationS * 1000,
    warmupMs: s.warmupS * 1000,
    turnsPerBattle: s.turnsPerBattle,
    ...load,
    onWindow: (phase) => {
      if (phase === 'start') {
        [...samplers, simSampler].forEach((x) => x.start());
        sysStart = systemBusySeconds();
        windowStart = performance.now();
        metricsAtStart.push(scrapeAll());
      } else {
        sysEnd = systemBusySeconds();
        windowEnd = performance.now();
        metricsAtEnd.push(scrapeAll());
      }
      load.onWindow?.(phase);
    },
  });
  const usage = samplers.map((x) => x.stop());
  const simUsage = simSampler.stop();
  const before = (await metricsAtStart[0]) ?? [];
  const after = (await metricsAtEnd[0]) ?? [];
  const windowS = (windowEnd - windowStart) / 1000;
  const ours = usage.reduce((a, u) => a + u.cpuPct, 0) + simUsage.cpuPct + result.loadgen.cpuPct;
  const otherCpuPct = Math.max(0, ((sysEnd - sysStart) / windowS) * 100 - ours);
  const arenaMetrics = after.flatMap((m, i) => {
    const b = before[i];
    if (!m || !b) return [];
    return [{ loopP50Ms: m.loopP50Ms, loopP99Ms: m.loopP99Ms, loopMaxMs: m.loopMaxMs, framesPerToken: (m.frames - b.frames) / Math.max(1, m.tokens - b.tokens) }];
  });
  log(
    `  → p50 ${fmt(result.delay.all.p50)} ms, p99 ${fmt(result.delay.all.p99)} ms, ${result.tokensPerSec.total.toFixed(0)} tok/s, ` +
      `server CPU ${usage.map((u) => u.cpuPct.toFixed(0)).join('+')}%, loadgen CPU ${result.loadgen.cpuPct.toFixed(0)}%, other processes ${otherCpuPct.toFixed(0)}%` +
      (arenaMetrics.length ? `, arena loop p99 ${arenaMetrics.map((m) => m.loopP99Ms.toFixed(1)).join('+')} ms, frames/token ${arenaMetrics.map((m) => m.framesPerToken.toFixed(2)).join('+')}` : '') +
      `, errors ${JSON.stringify(result.errors)}${result.lastError ? ` (${result.lastError})` : ''}`,
  );
  for (const p of servers) if (p.problems.length) log(`  ${p.name} problems: ${p.problems.slice(0, 3).join(' | ')}`);
  const row: Row = {
    label,
    duels: load.duels,
    spectators: load.spectators,
    load: result,
    servers: usage,
    sim: simUsage,
    otherCpuPct,
    ...(arenaMetrics.length ? { arena: arenaMetrics } : {}),
  };
  measuredRows.push(row);
  return row;
}

/**
 * RSS growth of `proc` per idle connected client (KiB): a warm-up round first (a fresh process's
 * heap is still settling), then RSS after each of four rounds of K more idle clients; the
 * least-squares slope over those four points, per client.
 */
async function idleMemory(proc: Proc, clients: number, settleMs: number): Promise<number> {
  const warm = await connectIdle(proc.url, clients);
  await sleep(settleMs / 2);
  warm.close();
  await sleep(settleMs);
  const points: [number, number][] = [];
  const held: { close(): void }[] = [];
  for (let round = 1; round <= 4; round++) {
    held.push(await connectIdle(proc.url, clients));
    await sleep(settleMs);
    points.push([round * clients, readProc(proc.pid)!.rssMb * 1024]);
  }
  held.forEach((h) => h.close());
  await sleep(settleMs);
  const mx = points.reduce((a, [x]) => a + x, 0) / points.length;
  const my = points.reduce((a, [, y]) => a + y, 0) / points.length;
  const num = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const den = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return num / den;
}

export interface SingleResult {
  direct: LatencySummary;
  arena: Row;
  baseline: Row;
}

/** (a) One Arena instance and the baseline, same simulator, same clients. */
export async function singleInstance(s: RelaySettings, prompts: string[]): Promise<SingleResult> {
  const sim = await startSim(models(s));
  try {
    log('direct: simulator → bench client, no relay');
    const direct = await measureDirect(sim.url, MODEL_NAMES[0]!, 20, prompts);
    const arenaRow = await withProc(startArena({ simUrl: sim.url }), async (arena) => {
      const idle = await idleMemory(arena, s.idleClients, s.quick ? 400 : 1_000);
      const row = await measure('Arena', [arena], sim, s, { duels: s.duels, spectators: s.spectators, prompts });
      return { ...row, idleKbPerConn: idle };
    });
    const baselineRow = await withProc(startBaseline(sim.url, MODEL_NAMES), async (baseline) => {
      const idle = await idleMemory(baseline, s.idleClients, s.quick ? 400 : 1_000);
      const row = await measure('baseline', [baseline], sim, s, { duels: s.duels, spectators: s.spectators, prompts });
      return { ...row, idleKbPerConn: idle };
    });
    return { direct, arena: arenaRow, baseline: baselineRow };
  } finally {
    await sim.stop();
  }
}

export interface ClusterResult {
  single?: Row;
  cluster: Row;
  prefix: string;
}

export async function redisReachable(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2_000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** Deletes this run's keys (and only them). */
async function cleanRedis(url: string, prefix: string): Promise<number> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

/** (b) Two Arena instances sharing Redis; spectators on the other instance than their duel's owner. */
export async function twoInstances(s: RelaySettings, prompts: string[], single?: Row): Promise<ClusterResult> {
  const prefix = `arena-bench-${randomBytes(4).toString('hex')}:`;
  const sim = await startSim(models(s));
  try {
    const singleRow =
      (single && { ...single, label: 'Arena ×1 (run (a))' }) ??
      (await withProc(startArena({ simUrl: sim.url }), (arena) => measure('Arena ×1', [arena], sim, s, { duels: s.duels, spectators: s.spectators, prompts })));
    const a = await startArena({ simUrl: sim.url, redisUrl: s.redisUrl, redisPrefix: prefix, name: 'arena-1' });
    try {
      const b = await startArena({ simUrl: sim.url, redisUrl: s.redisUrl, redisPrefix: prefix, name: 'arena-2' });
      try {
        await sleep(1_000);
        const cluster = await measure('Arena ×2 + Redis', [a, b], sim, s, { duels: s.duels, spectators: s.spectators, prompts });
        return { single: singleRow, cluster, prefix };
      } finally {
        await b.stop();
      }
    } finally {
      await a.stop();
      const deleted = await cleanRedis(s.redisUrl, prefix).catch(() => -1);
      log(`redis: deleted ${deleted} keys under ${prefix}`);
    }
  } finally {
    await sim.stop();
  }
}

export interface CapacityResult {
  target: string;
  rows: Row[];
  /** Highest step whose p99 stayed under the limit (0 = none). */
  capacity: number;
  stoppedBecause: string;
}

/** (c) Steps up the number of duels until p99 delay passes the limit. A fresh server per step. */
export async function capacity(s: RelaySettings, prompts: string[], target: 'arena' | 'baseline', workers = 1): Promise<CapacityResult> {
  const rows: Row[] = [];
  let capacityDuels = 0;
  let stoppedBecause = `every step passed (max ${s.steps.at(-1)})`;
  const sim = await startSim(models(s));
  try {
    for (const duels of s.steps) {
      const spectators = Math.min(duels * s.spectatorsPerDuel, s.maxSpectators);
      const label = target === 'baseline' ? 'baseline' : workers > 1 ? `Arena, ${workers} workers` : 'Arena';
      const start = target === 'arena' ? startArena({ simUrl: sim.url, workers, ...(workers > 1 ? { name: `arena-workers-${workers}` } : {}) }) : startBaseline(sim.url, MODEL_NAMES);
      const row = await withProc(start, (server) => measure(label, [server], sim, { ...s, durationS: s.capacityDurationS }, { duels, spectators, prompts }));
      rows.push(row);
      const { load } = row;
      const broken = load.errors.stuck + load.errors.requests + load.errors.connects;
      if (!(load.delay.all.p99 < s.p99LimitMs)) {
        stoppedBecause = `p99 ${fmt(load.delay.all.p99)} ms > ${s.p99LimitMs} ms at ${duels} duels`;
        break;
      }
      if (broken > Math.max(5, duels * 0.02)) {
        stoppedBecause = `${broken} failed requests/turns/connections at ${duels} duels`;
        break;
      }
      capacityDuels = duels;
    }
  } finally {
    await sim.stop();
  }
  return { target: target === 'arena' && workers > 1 ? `arena, ${workers} workers (--workers ${workers})` : target, rows, capacity: capacityDuels, stoppedBecause };
}

export interface SlowResult {
  control?: SlowTrace;
  slow: SlowTrace;
}

export interface SlowTrace {
  label: string;
  row: Row;
  /** Every sample: seconds into the window, RSS, bytes queued in the kernel towards clients. */
  trace: { t: number; rssMb: number; kernelTxMb: number; sockets: number; connected: number; slowDrops: number }[];
  /** Memory after a forced full GC (harness hook) as the window starts and as it ends, under load. */
  collected: { start: GcReport; end: GcReport } | null;
}

/** (d) Spectators that stop reading (raw WebSocket, paused, pong keep-alive), RSS over time; optionally a control run without them. */
export async function slowConsumers(s: RelaySettings, prompts: string[], withControl: boolean): Promise<SlowResult> {
  const sim = await startSim(models({ ...s, tokensPerSecond: s.slowTokensPerSecond }));
  const runOne = async (label: string, slow: boolean): Promise<SlowTrace> =>
    withProc(startArena({ simUrl: sim.url, maxTurns: 100_000 }), async (arena) => {
      const port = Number(new URL(arena.url).port);
      const trace: SlowTrace['trace'] = [];
      let t0 = 0;
      let timer: NodeJS.Timeout | undefined;
      const gcAt: Promise<GcReport | null>[] = [];
      const sample = async () => {
        const t = (performance.now() - t0) / 1000;
        const stat = readProc(arena.pid);
        const kernel = kernelQueues(port);
        const metrics = await scrapeArena(arena);
        if (stat)
          trace.push({
            t,
            rssMb: stat.rssMb,
            kernelTxMb: kernel.txBytes / 2 ** 20,
            sockets: kernel.sockets,
            connected: metrics?.connectedClients ?? NaN,
            slowDrops: metrics?.slowDrops ?? NaN,
          });
      };
      const row = await measure(label, [arena], sim, { ...s, durationS: s.slowDurationS, turnsPerBattle: 100_000 }, {
        duels: s.slowDuels,
        spectators: s.slowDuels,
        prompts,
        turnsPerBattle: 100_000,
        ...(slow ? { slow: { clients: s.slowClients, duelsEach: s.slowDuelsEach, keepAlive: true } } : {}),
        onWindow: (phase) => {
          gcAt.push(arena.gc().catch(() => null));
          if (phase === 'start') {
            t0 = performance.now();
            void sample();
            timer = setInterval(() => void sample(), 2_000);
          } else {
            clearInterval(timer);
            void sample();
          }
        },
      });
      clearInterval(timer);
      await sleep(200); // the last sample's scrape
      const [start, end] = await Promise.all(gcAt);
      return { label, row, trace, collected: start && end ? { start, end } : null };
    });
  try {
    const control = withControl ? await runOne('Arena, no slow consumers', false) : undefined;
    const slow = await runOne(`Arena + ${s.slowClients} paused spectators × ${s.slowDuelsEach} duels`, true);
    return { control, slow };
  } finally {
    await sim.stop();
  }
}

/**
 * Diagnostics: Arena from source with each coalescing policy (bench/relay/arena-variant.ts), plus
 * the baseline; at a light load (20 duels) and at the (a) load. 20 s windows.
 */
export async function variants(s: RelaySettings, prompts: string[]): Promise<Row[]> {
  const sim = await startSim(models(s));
  const rows: Row[] = [];
  const short = { ...s, durationS: Math.min(s.durationS, 20) };
  try {
    for (const load of [
      { duels: 20, spectators: 100 },
      { duels: s.duels, spectators: s.spectators },
    ]) {
      for (const [variant, label] of [
        ['source', 'Arena from source: flush at the end of the event-loop turn'],
        ['turn-1ms', 'end of the turn, or once the oldest waiting delta waited 1 ms (arena.frames.maxWaitMs 1)'],
        ['task', 'end of the macrotask: only one read\'s tokens merge (arena.frames.coalesce task)'],
        ['window-5ms', 'before: a 5 ms coalescing window'],
        ['no-coalesce', 'no coalescing: one frame per delta'],
      ] as const) {
        if (s.variantFilter && !s.variantFilter.includes(variant)) continue;
        rows.push(await withProc(startArena({ simUrl: sim.url, variant }), (arena) => measure(label, [arena], sim, short, { ...load, prompts })));
      }
      if (!s.variantFilter || s.variantFilter.includes('baseline'))
        rows.push(await withProc(startBaseline(sim.url, MODEL_NAMES), (baseline) => measure('baseline', [baseline], sim, short, { ...load, prompts })));
    }
  } finally {
    await sim.stop();
  }
  return rows;
}

async function withProc<T>(starting: Promise<Proc>, fn: (proc: Proc) => Promise<T>): Promise<T> {
  const proc = await starting;
  try {
    return await fn(proc);
  } finally {
    await proc.stop();
  }
}

export function fmt(ms: number, digits = 2): string {
  if (!Number.isFinite(ms)) return '–';
  return ms >= 100 ? ms.toFixed(0) : ms.toFixed(digits);
}
