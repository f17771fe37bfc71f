/**
 * Soak test: the built server (dist/arena.mjs) as a child process under a steady load of duels and
 * spectators for a long time, sampling its memory and open handles, to catch slow leaks.
 *
 *   npx tsx scripts/soak.ts --minutes 30 --duels 50 --spectators 100 [--sample-seconds 10]
 *     [--warmup-seconds N] [--bound 5] [--seed 1] [--json report.json]
 *
 * Load: `--duels` owners, each its own session on one connection, loop start → stream → vote →
 * think → "Next >" (a new prompt every few battles). `--spectators` viewers follow them: each
 * spectator opens the share link of its duel's current battle on a fresh connection (a page load),
 * watches it stream, casts a crowd vote now and then, and moves on when the owner does.
 * The models are a simulator in this process, so the child's numbers are Arena's alone.
 *
 * Samples (every --sample-seconds): RSS from /proc/<pid>/status, open file descriptors from
 * /proc/<pid>/fd, and — after a forced full GC in the server (a harness-only preload, see
 * startServerProcess in fuzz.ts) — RSS and V8 heap again. Growth is measured on the RSS after GC:
 * the median of the last third of the samples after the warm-up against that of the first third.
 *
 * Warm-up: Arena keeps idle battles in memory for 2 minutes before evicting them, so memory only
 * reaches its steady state after that. The default warm-up is therefore 4 minutes for runs of
 * 20 minutes or more, else 20 % of the run (short runs measure the fill, not a leak).
 *
 * Exit code: 1 when RSS growth ≥ --bound % (default 5), when open descriptors grow by more than
 * --bound % (and 10), when the server dies, a battle never finishes, or an `internal` error comes
 * back; else 0. Traffic goes to 127.0.0.1 only; every loop stops at the deadline.
 */
import { createHistogram } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';
import { io as connect, type Socket } from 'socket.io-client';
import { startSimulator } from '../server/sim/index.js';
import { Rng } from '../server/random.js';
import { connected, procFds, procRss, startServerProcess, type ServerProcess } from './fuzz.js';
import { parseArgs } from 'node:util';
import { cleanupOnSignal, runIfMain } from './lib/cli.js';

export interface SoakOptions {
  minutes: number;
  duels: number;
  spectators: number;
  sampleSeconds: number;
  warmupSeconds: number;
  boundPct: number;
  seed: number;
  log?: (line: string) => void;
}

export interface SoakSample {
  t: number;
  rssMb: number;
  gcRssMb: number;
  heapMb: number;
  /** V8 heap pages still committed after the GC (used + free pages V8 keeps for reuse). */
  heapCommittedMb: number;
  /** Memory outside the V8 heap that V8 knows of (Buffers, ArrayBuffers), after GC. */
  externalMb: number;
  fds: number;
  battles: number;
  battlesPerMin: number;
  spectatorJoins: number;
  frames: number;
  errors: number;
}

export interface SoakReport {
  options: SoakOptions;
  samples: SoakSample[];
  baseline?: SoakSample;
  last?: SoakSample;
  idle?: { gcRssMb: number; heapMb: number; fds: number };
  rssGrowthPct: number;
  heapGrowthPct: number;
  fdGrowth: number;
  totals: { battles: number; votes: number; crowdVotes: number; spectatorJoins: number; frames: number; connections: number };
  errors: Record<string, number>;
  problems: string[];
  pass: boolean;
}

const PROMPTS = [
  'Explain tides to a child.',
  'Write a haiku about rain.',
  'What is the difference between a list and a tuple in Python?',
  'Summarize the causes of the French Revolution in three sentences.',
  'Suggest a name for a bakery that sells only croissants.',
  'How do rainbows form?',
  'Give me three tips for a first marathon.',
  'Why is the sky blue?',
];

const SOAK_MODELS = [
  { name: 'soak-amber:7b', family: 'amber', tokensPerSecond: 80, ttftMs: 60, maxTokens: 60 },
  { name: 'soak-basalt:8b', family: 'basalt', tokensPerSecond: 90, ttftMs: 50, maxTokens: 60 },
  { name: 'soak-cobalt:3b', family: 'cobalt', tokensPerSecond: 120, ttftMs: 40, maxTokens: 60 },
  { name: 'soak-dolomite:1b', family: 'dolomite', tokensPerSecond: 150, ttftMs: 30, maxTokens: 60 },
];

type Ack = { ok: boolean; error?: { code: string; message: string } } & Record<string, any>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A bound on a wait: unref'd, so it never keeps the process alive once the work is done. */
const boundedWait = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;
const ID = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';

export async function runSoak(server: ServerProcess, opts: SoakOptions): Promise<SoakReport> {
  const log = opts.log ?? (() => undefined);
  const pid = server.proc.pid!;
  const rng = new Rng(opts.seed);
  const started = Date.now();
  const deadline = started + opts.minutes * 60_000;
  const running = () => Date.now() < deadline && server.proc.exitCode === null && server.proc.signalCode === null;
  const errors: Record<string, number> = {};
  const problems: string[] = [];
  const totals = { battles: 0, votes: 0, crowdVotes: 0, spectatorJoins: 0, frames: 0, connections: 0 };
  const sockets = new Set<Socket>();
  const countError = (code: string) => (errors[code] = (errors[code] ?? 0) + 1);

  async function open(session: string): Promise<Socket | undefined> {
    const socket = connect(server.url, { transports: ['websocket'], auth: { session }, reconnection: false, forceNew: true });
    const err = await connected(socket);
    if (err) {
      countError(`connect: ${err.message}`);
      socket.close();
      return undefined;
    }
    totals.connections++;
    sockets.add(socket);
    socket.on('disconnect', () => sockets.delete(socket));
    return socket;
  }
  async function ask(socket: Socket, event: string, payload: unknown): Promise<Ack | undefined> {
    try {
      const res = (await socket.timeout(30_000).emitWithAck(event, payload)) as Ack;
      if (!res.ok) countError(`${event}: ${res.error?.code}`);
      if (res.error?.code === 'internal') problems.push(`internal error on ${event}: ${res.error.message}`);
      return res;
    } catch {
      // A spectator that moved on closes its connection with requests still in flight.
      countError(socket.connected ? `${event}: no ack` : `${event}: connection closed before the ack`);
      return undefined;
    }
  }
  const session = () => Array.from({ length: 43 }, () => ID[rng.int(0, 63)]).join('');

  // ------------------------------------------------------------------ spectators of one duel
  interface Current {
    id: string;
    token: string;
    settled: Promise<void>;
  }
  function spectate(duel: number, count: number) {
    const sessions = Array.from({ length: count }, session);
    const active = new Map<number, Socket>();
    const generation = new Map<number, number>();
    return {
      /** The duel moved to a new battle: every spectator loads its share link on a fresh connection. */
      async follow(current: Current) {
        await Promise.all(
          sessions.map(async (s, j) => {
            const mine = (generation.get(j) ?? 0) + 1;
            generation.set(j, mine);
            active.get(j)?.close();
            active.delete(j);
            if (!running()) return;
            const socket = await open(s);
            if (!socket) return;
            // The duel moved on again while this connection was opening: a newer one replaces it.
            if (generation.get(j) !== mine) return void socket.close();
            active.set(j, socket);
            socket.on('battle:events', (frame: { events: unknown[] }) => (totals.frames += frame.events.length));
            const res = await ask(socket, 'watch:join', { battleId: current.id, token: current.token });
            if (res?.ok) totals.spectatorJoins++;
            // Now and then a crowd vote, once both answers are in.
            if (rng.chance(0.3))
              void current.settled.then(async () => {
                const vote = await ask(socket, 'watch:vote', { battleId: current.id, token: current.token, choice: rng.pick(['left', 'right', 'tie', 'bothbad']) });
                if (vote?.ok) totals.crowdVotes++;
              });
          }),
        );
      },
      close() {
        for (const s of active.values()) s.close();
      },
      duel,
    };
  }

  // ------------------------------------------------------------------ one duel: start → stream → vote → next
  async function duel(index: number, spectatorCount: number) {
    const viewers = spectate(index, spectatorCount);
    const socket = await open(session());
    if (!socket) return viewers.close();
    const ends = new Map<string, { count: number; done?: () => void }>();
    socket.on('battle:events', (frame: { battleId: string; events: { t: string }[] }) => {
      totals.frames += frame.events.length;
      const e = ends.get(frame.battleId);
      if (!e) return;
      e.count += frame.events.filter((ev) => ev.t === 'end').length;
      if (e.count >= 2) e.done?.();
    });
    let battle: { id: string; sharePath: string } | undefined;
    let sinceNewPrompt = 0;
    // Owners start at staggered moments, like arriving visitors.
    await sleep(rng.int(0, 3_000));
    while (running()) {
      const fresh = !battle || sinceNewPrompt >= rng.int(3, 6);
      const res = fresh
        ? await ask(socket, 'battle:start', { prompt: rng.pick(PROMPTS), mode: 'arena' })
        : await ask(socket, 'battle:next', { battleId: battle!.id });
      if (!res?.ok) {
        await sleep(2_000);
        if (!socket.connected) break;
        if (!fresh) battle = undefined;
        continue;
      }
      sinceNewPrompt = fresh ? 1 : sinceNewPrompt + 1;
      battle = res.battle;
      const id = battle!.id;
      const entry: { count: number; done?: () => void } = { count: 0 };
      const settled = new Promise<void>((resolve) => (entry.done = resolve));
      ends.set(id, entry);
      const token = new URL(battle!.sharePath, 'http://x').searchParams.get('t') ?? '';
      void viewers.follow({ id, token, settled });
      const finished = await Promise.race([settled.then(() => true), boundedWait(60_000).then(() => false)]);
      ends.delete(id);
      if (!finished) {
        problems.push(`battle ${id} did not finish within 60 s`);
        continue;
      }
      totals.battles++;
      const vote = await ask(socket, 'battle:vote', { battleId: id, choice: rng.pick(['left', 'right', 'tie', 'bothbad']) });
      if (vote?.ok) totals.votes++;
      // Reading the reveal, deciding what next.
      await sleep(rng.int(500, 2_000));
    }
    viewers.close();
    socket.close();
  }

  // ------------------------------------------------------------------ sampling
  const samples: SoakSample[] = [];
  let lastBattles = 0;
  let lastAt = started;
  async function sample(): Promise<SoakSample | undefined> {
    if (server.proc.exitCode !== null) return undefined;
    try {
      const rss = procRss(pid);
      const fds = procFds(pid);
      const gc = await server.gc();
      const now = Date.now();
      const s: SoakSample = {
        t: Math.round((now - started) / 1000),
        rssMb: mb(rss),
        gcRssMb: mb(gc.rss),
        heapMb: mb(gc.heapUsed),
        heapCommittedMb: mb(gc.heapTotal),
        externalMb: mb(gc.external),
        fds,
        battles: totals.battles,
        battlesPerMin: Math.round(((totals.battles - lastBattles) / Math.max(1, now - lastAt)) * 60_000),
        spectatorJoins: totals.spectatorJoins,
        frames: totals.frames,
        errors: Object.values(errors).reduce((a, b) => a + b, 0),
      };
      lastBattles = totals.battles;
      lastAt = now;
      return s;
    } catch (err) {
      problems.push(`sampling failed: ${(err as Error).message}`);
      return undefined;
    }
  }

  log(`soak: ${opts.duels} duels, ${opts.spectators} spectators, ${opts.minutes} min, sample every ${opts.sampleSeconds} s, warm-up ${opts.warmupSeconds} s, bound ${opts.boundPct} %`);
  log(header());
  const perDuel = (i: number) => Math.floor(opts.spectators / opts.duels) + (i < opts.spectators % opts.duels ? 1 : 0);
  const load = Promise.all(Array.from({ length: opts.duels }, (_, i) => duel(i, perDuel(i))));
  while (running()) {
    await sleep(Math.min(opts.sampleSeconds * 1_000, Math.max(0, deadline - Date.now())));
    const s = await sample();
    if (s) {
      samples.push(s);
      log(row(s, s.t >= opts.warmupSeconds && !samples.slice(0, -1).some((p) => p.t >= opts.warmupSeconds)));
    }
  }
  if (server.proc.exitCode !== null || server.proc.signalCode !== null) problems.push(`the server died (exit ${server.proc.exitCode}, signal ${server.proc.signalCode})`);
  await Promise.race([load, boundedWait(70_000)]);
  for (const s of sockets) s.close();

  // After the load: memory and handles should come back down once the clients are gone.
  let idle: SoakReport['idle'];
  if (server.proc.exitCode === null) {
    await sleep(5_000);
    try {
      const gc = await server.gc();
      idle = { gcRssMb: mb(gc.rss), heapMb: mb(gc.heapUsed), fds: procFds(pid) };
    } catch {
      /* reported as died above */
    }
  }

  const baseline = samples.find((s) => s.t >= opts.warmupSeconds);
  const last = samples.at(-1);
  const thirds = splitThirds(samples.filter((s) => s.t >= opts.warmupSeconds));
  const rssGrowthPct = thirds ? growthPct(thirds, (s) => s.gcRssMb) : NaN;
  const heapGrowthPct = thirds ? growthPct(thirds, (s) => s.heapMb) : NaN;
  const fdGrowth = baseline && last ? last.fds - baseline.fds : NaN;
  if (!thirds) problems.push(`fewer than ${MIN_SAMPLES} samples after the warm-up to measure growth (run longer or sample more often)`);
  if (rssGrowthPct >= opts.boundPct) problems.push(`RSS (after GC) grew ${rssGrowthPct} % after the warm-up (medians of the first and last thirds); bound ${opts.boundPct} %`);
  if (fdGrowth > Math.max(10, (baseline?.fds ?? 0) * (opts.boundPct / 100))) problems.push(`open descriptors grew by ${fdGrowth} (${baseline!.fds} → ${last!.fds})`);
  if (totals.battles === 0) problems.push('no battle completed');
  return { options: opts, samples, baseline, last, idle, rssGrowthPct, heapGrowthPct, fdGrowth, totals, errors, problems, pass: problems.length === 0 };
}

const round = (n: number) => Math.round(n * 10) / 10;
/** The upper median (element ⌊n/2⌋ of the sorted samples), via a perf_hooks histogram of thousandths (5 significant figures). */
const median = (xs: number[]): number => {
  const h = createHistogram({ figures: 5 });
  for (const x of xs) h.record(Math.max(1, Math.round(x * 1000)));
  return h.count ? h.percentile(((Math.floor(xs.length / 2) + 1) / xs.length) * 100) / 1000 : NaN;
};
const MIN_SAMPLES = 6;
type Thirds = { early: SoakSample[]; late: SoakSample[] };

/**
 * Single samples after a GC swing by ±10 % (how much of the young generation and of freed pages
 * V8 holds at that instant), so growth compares the medians of the first and last thirds after
 * the warm-up rather than two single samples.
 */
function splitThirds(after: SoakSample[]): Thirds | undefined {
  if (after.length < MIN_SAMPLES) return undefined;
  const third = Math.floor(after.length / 3);
  return { early: after.slice(0, third), late: after.slice(-third) };
}
const medianOf = (samples: SoakSample[], pick: (s: SoakSample) => number) => median(samples.map(pick));
const growthPct = ({ early, late }: Thirds, pick: (s: SoakSample) => number) =>
  round(((medianOf(late, pick) - medianOf(early, pick)) / medianOf(early, pick)) * 100);
/** Idle battles stay in memory 2 minutes, evicted by a sweep every 15 s: steady state after ~3. */
const IDLE_WINDOW_S = 3 * 60;

function header(): string {
  return '| t (s) | RSS MB | RSS after GC MB | V8 heap MB | V8 committed MB | external MB | open fds | battles | battles/min | spectator joins | frames | errors |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
}
function row(s: SoakSample, baseline = false): string {
  return `| ${s.t}${baseline ? ' (baseline)' : ''} | ${s.rssMb} | ${s.gcRssMb} | ${s.heapMb} | ${s.heapCommittedMb} | ${s.externalMb} | ${s.fds} | ${s.battles} | ${s.battlesPerMin} | ${s.spectatorJoins} | ${s.frames} | ${s.errors} |`;
}

export function formatSoak(r: SoakReport): string {
  const lines = [header(), ...r.samples.map((s) => row(s, s === r.baseline))];
  lines.push('');
  lines.push(
    `totals: ${r.totals.battles} battles voted (${r.totals.votes} votes), ${r.totals.spectatorJoins} spectator joins, ${r.totals.crowdVotes} crowd votes, ${r.totals.frames} events received, ${r.totals.connections} connections`,
  );
  lines.push(`errors: ${JSON.stringify(r.errors)}`);
  const thirds = splitThirds(r.samples.filter((s) => s.t >= r.options.warmupSeconds));
  if (thirds) {
    const change = (pick: (s: SoakSample) => number) =>
      `${medianOf(thirds.early, pick)} → ${medianOf(thirds.late, pick)} MB (${growthPct(thirds, pick)} %)`;
    lines.push(
      `memory growth after the warm-up, medians of the first vs last third (t=${thirds.early[0]!.t}–${thirds.early.at(-1)!.t} s vs ${thirds.late[0]!.t}–${thirds.late.at(-1)!.t} s): ` +
        `RSS after GC ${change((s) => s.gcRssMb)} (bound ${r.options.boundPct} %); V8 heap ${change((s) => s.heapMb)}; V8 committed ${change((s) => s.heapCommittedMb)}; external ${change((s) => s.externalMb)}`,
    );
  }
  if (r.baseline && r.last)
    lines.push(
      `single samples (t=${r.baseline.t} s → t=${r.last.t} s): RSS after GC ${r.baseline.gcRssMb} → ${r.last.gcRssMb} MB; V8 heap ${r.baseline.heapMb} → ${r.last.heapMb} MB; ` +
        `raw RSS ${r.baseline.rssMb} → ${r.last.rssMb} MB; open fds ${r.baseline.fds} → ${r.last.fds}`,
    );
  if (r.baseline && r.baseline.t < IDLE_WINDOW_S)
    lines.push(
      `note: the baseline (t=${r.baseline.t} s) falls inside the first ${IDLE_WINDOW_S / 60} minutes, before Arena evicts idle battles (2 min): ` +
        'growth then includes battles it still holds on purpose. Judge leaks on runs of 20+ minutes with the default warm-up.',
    );
  if (r.idle) lines.push(`after the load (clients gone, 5 s): RSS after GC ${r.idle.gcRssMb} MB, V8 heap ${r.idle.heapMb} MB, open fds ${r.idle.fds}`);
  lines.push(r.problems.length ? `FAIL:\n  - ${r.problems.join('\n  - ')}` : 'PASS');
  return lines.join('\n');
}

// ------------------------------------------------------------------ CLI

function positive(name: string, value: string | undefined, fallback: number, max: number): number {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > max) throw new Error(`--${name}: a number in (0, ${max}]`);
  return n;
}

async function main() {
  const { values: args } = parseArgs({
    options: Object.fromEntries(
      ['minutes', 'duels', 'spectators', 'sample-seconds', 'warmup-seconds', 'bound', 'seed', 'json'].map((name) => [name, { type: 'string' as const }]),
    ),
  }) as { values: Record<string, string | undefined> };
  const minutes = positive('minutes', args.minutes, 30, 24 * 60);
  const opts: SoakOptions = {
    minutes,
    duels: Math.round(positive('duels', args.duels, 50, 1_000)),
    spectators: Math.round(positive('spectators', args.spectators ?? '100', 100, 10_000)),
    sampleSeconds: positive('sample-seconds', args['sample-seconds'], 10, 3_600),
    warmupSeconds: args['warmup-seconds'] !== undefined ? Number(args['warmup-seconds']) : minutes >= 20 ? 4 * 60 : Math.round(minutes * 60 * 0.2),
    boundPct: positive('bound', args.bound, 5, 100),
    seed: Number(args.seed ?? 1),
    log: (line) => console.log(line),
  };
  if (args.spectators === '0') opts.spectators = 0;

  const sim = await startSimulator({ flavor: 'ollama', models: SOAK_MODELS, preloaded: true });
  // All the load comes from 127.0.0.1: per-address limits are raised, and the per-session battle
  // limit leaves room for an owner who votes and moves on every few seconds.
  const server = await startServerProcess({
    simUrl: sim.url,
    config: { limits: { battlesPerMinute: 120, promptsPerMinutePerIp: 1_000_000, connectionsPerMinutePerIp: 1_000_000 } },
  });
  console.log(`started dist/arena.mjs (pid ${server.proc.pid}) at ${server.url}; models on the simulator at ${sim.url}`);
  const cleanup = async () => {
    await server.stop();
    await sim.close();
  };
  cleanupOnSignal(cleanup);
  try {
    const report = await runSoak(server, opts);
    console.log('');
    console.log(formatSoak(report));
    if (server.errors.length) {
      console.log(`server logged ${server.errors.length} error line(s), e.g.: ${JSON.stringify(server.errors.slice(0, 3)).slice(0, 1_500)}`);
      report.problems.push(`the server logged ${server.errors.length} error line(s)`);
      report.pass = false;
    }
    if (args.json) writeFileSync(args.json, JSON.stringify({ ...report, serverErrors: server.errors }, null, 2));
    process.exitCode = report.pass ? 0 : 1;
  } finally {
    await cleanup();
  }
}

runIfMain(import.meta.url, main);
