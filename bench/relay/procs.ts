/**
 * The processes a relay benchmark runs (simulator, Arena instances, the baseline server), each in
 * its own OS process, and their CPU and memory read from /proc.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SimModelSpec } from '../../server/sim/index.js';
import { GC_HOOK_NODE_ARGS, gcReports, type GcReport } from '../../scripts/lib/gc-hook.js';
import { spawnProcess, stopProcess, waitForLine } from '../../scripts/lib/process.js';

export const ROOT = new URL('../../', import.meta.url).pathname;
/** Arena's admin token for this run only (exports and the admin API). */
const ADMIN_TOKEN = randomBytes(24).toString('base64url');
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

export interface Proc {
  name: string;
  pid: number;
  url: string;
  /** Arena only: /metrics on its own listener. */
  metricsUrl?: string;
  child: ChildProcess;
  /** Log lines at warn level or above (Arena) / stderr lines, for the report. */
  problems: string[];
  /** Arena only (the harness GC hook): full GC, then the process's memory. */
  gc(): Promise<GcReport>;
  stop(): Promise<void>;
}

const live = new Set<Proc>();

/** Stops every process this harness started (on exit, errors, Ctrl-C). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop()));
}

/** A bench's entry point: a failure sets the exit code; every started process is stopped either way. */
export function runBench(main: () => Promise<void>): void {
  main()
    .catch((err) => {
      console.error(err);
      process.exitCode = 1;
    })
    .finally(async () => {
      await stopAll();
      // Client sockets and timers must not keep the process alive.
      setTimeout(() => process.exit(), 500).unref();
    });
}

interface SpawnOptions {
  name: string;
  args: string[];
  env?: Record<string, string>;
  /** Finds the URL in a stdout line. */
  url: (line: string) => string | undefined;
  /** Which stdout lines are worth keeping as problems. */
  problem?: (line: string) => boolean;
  cleanup?: () => void;
  timeoutMs?: number;
  /** How many URL lines to wait for (one per worker). */
  listeners?: number;
}

async function spawnProc(opts: SpawnOptions): Promise<Proc> {
  const problems: string[] = [];
  // The GC hook's reports share stderr with the process: answer gc() with them, keep the rest.
  let reports: ReturnType<typeof gcReports> | undefined;
  const spawned = spawnProcess({
    args: opts.args,
    cwd: ROOT,
    env: opts.env,
    onStderr: (chunk) => {
      const text = reports?.filter(chunk) ?? chunk;
      for (const line of text.split('\n')) if (line.trim() && problems.length < 50) problems.push(`stderr: ${line.slice(0, 300)}`);
      return text;
    },
  });
  const child = spawned.proc;
  reports = gcReports(child);
  const proc: Proc = {
    name: opts.name,
    pid: child.pid!,
    url: '',
    child,
    problems,
    gc: reports.collect,
    stop: async () => {
      live.delete(proc);
      await stopProcess(child, 5_000);
      opts.cleanup?.();
    },
  };
  live.add(proc);
  // stdout is always drained (spawnProcess): a full pipe would block the process being measured.
  // Lines after the start are kept as problems (those `problem` picks) or echoed (BENCH_ECHO).
  let started = false;
  let heard = 0;
  spawned.onLine((line) => {
    if (!started) return;
    if (opts.problem?.(line) && problems.length < 50) problems.push(line.slice(0, 300));
    if (process.env.BENCH_ECHO === opts.name) console.error(`[${opts.name}] ${line}`);
  });
  try {
    const count = opts.listeners ?? 1;
    const url = (line: string) => {
      const found = opts.url(line);
      if (found !== undefined && ++heard >= count) started = true;
      return found;
    };
    proc.url = await waitForLine(spawned, url, { name: opts.name, count, timeoutMs: opts.timeoutMs ?? 60_000 });
  } catch (err) {
    void proc.stop();
    throw err;
  }
  return proc;
}

/** `dist/arena.mjs sim` when the build knows --stamp, else the simulator from source (tsx). */
export function simCommand(): { args: string[]; source: string } {
  const dist = join(ROOT, 'dist/arena.mjs');
  if (existsSync(dist)) {
    const help = execFileSync(process.execPath, [dist, 'sim', '--help'], { cwd: ROOT, timeout: 20_000 }).toString();
    if (help.includes('--stamp')) return { args: [dist, 'sim'], source: 'node dist/arena.mjs sim --stamp' };
  }
  return { args: ['--import', 'tsx', join(ROOT, 'server/cli.ts'), 'sim'], source: 'node --import tsx server/cli.ts sim --stamp (dist/ predates --stamp)' };
}

export async function startSim(models: SimModelSpec[]): Promise<Proc> {
  const dir = mkdtempSync(join(tmpdir(), 'arena-bench-sim-'));
  const file = join(dir, 'models.json');
  writeFileSync(file, JSON.stringify(models));
  const { args } = simCommand();
  return spawnProc({
    name: 'sim',
    args: [...args, '--flavor', 'ollama', '--port', '0', '--models', file, '--stamp'],
    url: (line) => /listening on (http:\/\/\S+)/.exec(line)?.[1],
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  });
}

export interface ArenaSpawn {
  simUrl: string;
  redisUrl?: string;
  redisPrefix?: string;
  maxTurns?: number;
  name?: string;
  /** `serve --workers N` (N > 1: the primary forks N workers on one port). */
  workers?: number;
  /** Diagnostics: run bench/relay/arena-variant.ts (Arena from source) with BENCH_VARIANT set. */
  variant?: string;
}

/** The production server: `node dist/arena.mjs serve`, configured by a YAML file and env. */
export async function startArena(opts: ArenaSpawn): Promise<Proc> {
  const dir = mkdtempSync(join(tmpdir(), 'arena-bench-'));
  const yaml = [
    `demo: 'off'`,
    `backends:`,
    `  - { id: sim, kind: ollama, url: '${opts.simUrl}' }`,
    `arena:`,
    `  maxTurns: ${opts.maxTurns ?? 8}`,
    // Every bench client comes from 127.0.0.1: per-IP and per-session budgets raised for load.
    // limits.maxBufferedPackets (the slow-client bound) stays at its default: scenario (d) tests it.
    `limits:`,
    `  battlesPerMinute: 100000`,
    `  promptsPerMinutePerIp: 100000000`,
    `  connectionsPerMinutePerIp: 100000000`,
    `  eventsPerSecond: 1000`,
    ...(opts.redisPrefix ? [`redisPrefix: '${opts.redisPrefix}'`] : []),
  ].join('\n');
  writeFileSync(join(dir, 'arena.yaml'), yaml + '\n');
  let metricsUrl: string | undefined;
  const proc = await spawnProc({
    name: opts.name ?? 'arena',
    // BENCH_ARENA_NODE_ARGS: diagnostics only (e.g. --trace-gc); empty in normal runs.
    args: [
      ...(process.env.BENCH_ARENA_NODE_ARGS ?? '').split(' ').filter(Boolean),
      ...GC_HOOK_NODE_ARGS,
      ...(opts.variant ? ['--import', 'tsx', join(ROOT, 'bench/relay/arena-variant.ts')] : [join(ROOT, 'dist/arena.mjs'), 'serve']),
      ...(opts.workers && opts.workers > 1 ? ['--workers', String(opts.workers)] : []),
    ],
    listeners: opts.workers ?? 1,
    env: {
      MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2', // as `npm start` and the Docker image run it
      PORT: '0',
      HOST: '127.0.0.1',
      METRICS_PORT: '0',
      ARENA_CONFIG: join(dir, 'arena.yaml'),
      DATA_DIR: join(dir, 'data'),
      LOG_LEVEL: 'info',
      ARENA_ADMIN_TOKEN: ADMIN_TOKEN,
      ...(opts.variant ? { BENCH_VARIANT: opts.variant } : {}),
      ...(opts.redisUrl ? { REDIS_URL: opts.redisUrl } : { REDIS_URL: '' }),
    },
    url: (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; url?: string; metricsUrl?: string };
        if (entry.msg !== 'arena listening') return undefined;
        metricsUrl = entry.metricsUrl;
        return entry.url;
      } catch {
        return undefined;
      }
    },
    // pino levels: 40 warn, 50 error, 60 fatal.
    problem: (line) => /"level":(4|5|6)\d/.test(line),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  });
  proc.metricsUrl = metricsUrl;
  return proc;
}

export async function startBaseline(simUrl: string, models: string[]): Promise<Proc> {
  return spawnProc({
    name: 'baseline',
    // BENCH_BASELINE_NODE_ARGS: diagnostics only (bench/profile.ts sets --cpu-prof).
    args: [...(process.env.BENCH_BASELINE_NODE_ARGS ?? '').split(' ').filter(Boolean), '--import', 'tsx', join(ROOT, 'bench/baseline-server.ts'), '--sim', simUrl, '--models', models.join(',')],
    url: (line) => /baseline listening on (http:\/\/\S+)/.exec(line)?.[1],
  });
}

/** Builds dist/ when it is missing (npm run build). */
export function ensureBuilt(): string {
  const dist = join(ROOT, 'dist/arena.mjs');
  if (!existsSync(dist)) {
    console.error('[bench] dist/arena.mjs missing: npm run build');
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  }
  return dist;
}

// ---------------------------------------------------------------- /proc sampling

export interface ProcStat {
  /** CPU seconds (user + system). */
  cpu: number;
  rssMb: number;
}

export function readProc(pid: number): ProcStat | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime (fields 14, 15)
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    return { cpu, rssMb: rssKb / 1024 };
  } catch {
    return null;
  }
}

export interface UsageSummary {
  /** Average CPU over the window, % of one core. */
  cpuPct: number;
  rssAvgMb: number;
  rssMaxMb: number;
  rssEndMb: number;
  samples: { t: number; cpuPct: number; rssMb: number }[];
}

/** The process and every descendant (`arena serve --workers N`: the primary and its workers), summed. */
export function readProcTree(pid: number): ProcStat | null {
  const own = readProc(pid);
  if (!own) return null;
  for (const child of childPids(pid)) {
    const sub = readProcTree(child);
    if (sub) (own.cpu += sub.cpu), (own.rssMb += sub.rssMb);
  }
  return own;
}

function childPids(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) => readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

/** Samples a process (and its children) every `everyMs` until stopped. */
export class ProcSampler {
  private timer: NodeJS.Timeout | null = null;
  private first: { t: number; stat: ProcStat } | null = null;
  private last: { t: number; stat: ProcStat } | null = null;
  private readonly samples: UsageSummary['samples'] = [];

  constructor(
    readonly pid: number,
    private readonly everyMs = 1_000,
  ) {}

  start(): this {
    const take = () => {
      const stat = readProcTree(this.pid);
      if (!stat) return;
      const t = performance.now();
      const prev = this.last;
      if (!this.first) this.first = { t, stat };
      this.last = { t, stat };
      if (prev) this.samples.push({ t: (t - this.first.t) / 1000, cpuPct: ((stat.cpu - prev.stat.cpu) / ((t - prev.t) / 1000)) * 100, rssMb: stat.rssMb });
    };
    take();
    this.timer = setInterval(take, this.everyMs);
    return this;
  }

  stop(): UsageSummary {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const stat = readProcTree(this.pid);
    if (stat) this.last = { t: performance.now(), stat };
    const { first, last } = this;
    const rss = this.samples.map((s) => s.rssMb);
    return {
      cpuPct: first && last && last.t > first.t ? ((last.stat.cpu - first.stat.cpu) / ((last.t - first.t) / 1000)) * 100 : NaN,
      rssAvgMb: rss.length ? rss.reduce((a, b) => a + b, 0) / rss.length : (last?.stat.rssMb ?? NaN),
      rssMaxMb: rss.length ? Math.max(...rss) : (last?.stat.rssMb ?? NaN),
      rssEndMb: last?.stat.rssMb ?? NaN,
      samples: this.samples,
    };
  }
}

/** Machine-wide busy CPU seconds (all cores), from /proc/stat. */
export function systemBusySeconds(): number {
  const cols = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = cols;
  return (user! + nice! + system! + irq! + softirq! + (steal ?? 0)) / CLK_TCK;
}

/** What Arena's /metrics says (prom-client resets its event-loop histogram at every scrape). */
export interface ArenaMetrics {
  loopP50Ms: number;
  loopP99Ms: number;
  loopMaxMs: number;
  frames: number;
  tokens: number;
  connectedClients: number;
  /** Clients Arena dropped for not reading (limits.maxBufferedPackets). */
  slowDrops: number;
}

export async function scrapeArena(arena: Proc): Promise<ArenaMetrics | null> {
  if (!arena.metricsUrl) return null;
  try {
    const res = await fetch(arena.metricsUrl, { signal: AbortSignal.timeout(5_000) });
    if (!res.ok) return null;
    const text = await res.text();
    const value = (name: string) => {
      const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
      return m ? Number(m[1]) : NaN;
    };
    return {
      loopP50Ms: value('nodejs_eventloop_lag_p50_seconds') * 1000,
      loopP99Ms: value('nodejs_eventloop_lag_p99_seconds') * 1000,
      loopMaxMs: value('nodejs_eventloop_lag_max_seconds') * 1000,
      frames: value('arena_frames_sent_total'),
      tokens: value('arena_tokens_relayed_total'),
      connectedClients: value('arena_connected_clients'),
      slowDrops: Number(/^arena_errors_total\{type="slow_client"\} ([0-9.eE+-]+)$/m.exec(text)?.[1] ?? 0),
    };
  } catch {
    return null;
  }
}

/** Bytes waiting in kernel socket queues on connections to `port` (send queue on the server side). */
export function kernelQueues(port: number): { sockets: number; txBytes: number; rxBytes: number } {
  let sockets = 0;
  let txBytes = 0;
  let rxBytes = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 5) continue;
      const localPort = parseInt(cols[1]!.split(':')[1]!, 16);
      if (localPort !== port || cols[3] !== '01') continue; // 01 = ESTABLISHED
      const [tx, rx] = cols[4]!.split(':').map((h) => parseInt(h, 16));
      sockets++;
      txBytes += tx!;
      rxBytes += rx!;
    }
  }
  return { sockets, txBytes, rxBytes };
}
