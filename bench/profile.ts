/**
 * Where the token path spends its CPU: runs one load against Arena (from source) or the baseline
 * under V8's sampling profiler (`--cpu-prof`) and prints the functions with the most self time,
 * plus the server's CPU microseconds per delivered token (process CPU time / tokens received by
 * all clients). Per-token CPU barely depends on what else runs on the machine, so this is the
 * figure to compare changes by on a busy box; latency figures are not.
 *
 *   npx tsx bench/profile.ts [--target arena|baseline] [--duels 50] [--spectators 250] [--seconds 10] [--top 30] [--workers N] [--built]
 *
 * Arena runs from source (tsx), so the areas below can name its files; `--built` (and any
 * `--workers` > 1) runs `dist/arena.mjs` as `npm run bench` does: closer figures, bundled names.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runLoad } from './relay/load.js';
import { readProcTree, scrapeArena, startArena, type ArenaMetrics, startBaseline, runBench, startSim } from './relay/procs.js';
import { MODEL_NAMES, models, pickPrompts, type RelaySettings } from './relay/scenarios.js';

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'arena' },
    duels: { type: 'string', default: '50' },
    spectators: { type: 'string' },
    seconds: { type: 'string', default: '10' },
    tps: { type: 'string', default: '30' },
    top: { type: 'string', default: '30' },
    workers: { type: 'string', default: '1' },
    built: { type: 'boolean', default: false },
  },
});
const duels = Number(values.duels);
const spectators = Number(values.spectators ?? duels * 5);
const target = values.target === 'baseline' ? 'baseline' : 'arena';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

async function main(): Promise<void> {
  const settings = { tokensPerSecond: Number(values.tps), ttftMs: 100 } as RelaySettings;
  const { prompts } = pickPrompts(models(settings));
  const sim = await startSim(models(settings));
  const dir = mkdtempSync(join(tmpdir(), 'arena-prof-'));
  process.env.BENCH_ARENA_NODE_ARGS = process.env.BENCH_BASELINE_NODE_ARGS = `--cpu-prof --cpu-prof-dir=${dir}`;
  const workers = Number(values.workers);
  // Several workers: every process writes its own profile.
  const server =
    target === 'baseline'
      ? await startBaseline(sim.url, MODEL_NAMES)
      : workers > 1 || values.built
        ? await startArena({ simUrl: sim.url, workers, name: workers > 1 ? `arena-workers-${workers}` : 'arena' })
        : await startArena({ simUrl: sim.url, variant: 'source' });
  let cpuStart = 0;
  let cpuEnd = 0;
  // V8's profile clock and hrtime are both the monotonic clock (µs): the window selects samples.
  const monoUs = () => Number(process.hrtime.bigint() / 1000n);
  const window = { start: 0, end: 0 };
  const scraped: Promise<ArenaMetrics | null>[] = [];
  const result = await runLoad({
    servers: [server.url],
    duels,
    spectators,
    durationMs: Number(values.seconds) * 1000,
    warmupMs: 2000,
    turnsPerBattle: 1,
    prompts,
    onWindow: (phase) => {
      const cpu = readProcTree(server.pid)!.cpu;
      if (phase === 'start') [cpuStart, window.start] = [cpu, monoUs()];
      else [cpuEnd, window.end] = [cpu, monoUs()];
      if (target === 'arena' && workers === 1) scraped.push(scrapeArena(server));
    },
  });
  const [m0, m1] = await Promise.all(scraped);
  await server.stop();
  await sim.stop();
  const delivered = result.tokensPerSec.total * result.windowS;
  console.log(`${target}: ${duels} duels + ${spectators} spectators, ${result.windowS.toFixed(1)} s, ${delivered.toFixed(0)} tokens delivered`);
  console.log(`server CPU ${((cpuEnd - cpuStart) / result.windowS * 100).toFixed(0)}% of a core; ${(((cpuEnd - cpuStart) * 1e6) / delivered).toFixed(2)} µs per delivered token`);
  if (m0 && m1) console.log(`relayed ${m1.tokens - m0.tokens} tokens in ${m1.frames - m0.frames} frames: ${((m1.frames - m0.frames) / (m1.tokens - m0.tokens)).toFixed(2)} frames per token`);
  console.log(`delay p50 ${result.delay.all.p50.toFixed(2)} ms, p99 ${result.delay.all.p99.toFixed(2)} ms (meaningless on a busy machine)`);
  // One profile per process (and one per worker thread: tsx's loader; the larger file is the main thread's).
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (!files.length) throw new Error(`no profile written in ${dir}`);
  const mains = new Map<string, string>();
  for (const f of files) {
    const pid = f.split('.')[3]!; // CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile
    const size = readFileSync(join(dir, f)).length;
    if (!mains.has(pid) || readFileSync(join(dir, mains.get(pid)!)).length < size) mains.set(pid, f);
  }
  for (const [pid, file] of mains) {
    if (mains.size > 1) console.log(`\n#### process ${pid}`);
    summarize(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile, Number(values.top), window);
  }
  const file = [...mains.values()][0]!;
  console.log(`profile: ${join(dir, file)} (open in Chrome DevTools → Performance, or speedscope)`);
}

const AREAS: [RegExp, string][] = [
  [/server\/store\/|better-sqlite3/, 'store (SQLite)'],
  [/prom-client|server\/metrics/, 'metrics'],
  [/pino|sonic-boom/, 'logging'],
  [/socket\.io-parser/, 'socket.io-parser (encode/decode)'],
  [/socket\.io-adapter|socket\.io\/dist|engine\.io|\/ws\//, 'socket.io / engine.io / ws'],
  [/undici|webstreams/, 'fetch (model HTTP streams)'],
  [/server\/providers\/|server\/models\//, 'providers + failover'],
  [/server\/arena\//, 'arena (battles, event log)'],
  [/server\/realtime\//, 'realtime handlers'],
  [/zod/, 'zod validation'],
  [/server\/rating\//, 'rating / leaderboard'],
];

/** The first frame from the leaf up that belongs to a known area; native leaves (writev, GC) by name. */
function areaOf(id: number, byId: Map<number, ProfileNode>, parent: Map<number, number>): string {
  const leaf = byId.get(id)!.callFrame.functionName;
  if (leaf === '(garbage collector)') return 'GC';
  if (leaf === 'writev' || leaf === 'writeUtf8String' || leaf === 'writeBuffer' || leaf === 'writeString') return 'socket writes (syscalls)';
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const url = byId.get(at)!.callFrame.url;
    for (const [pattern, area] of AREAS) if (pattern.test(url)) return area;
  }
  return leaf === '(program)' ? '(program)' : 'other (microtasks, timers, node internals)';
}

/** Self time per function (and per package), top N. */
function summarize(profile: CpuProfile, top: number, window: { start: number; end: number }): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const areas = new Map<string, number>();
  const self = new Map<number, number>();
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (t < window.start || t > window.end) return;
    const name = byId.get(id)!.callFrame.functionName;
    if (name === '(idle)') return;
    self.set(id, (self.get(id) ?? 0) + delta);
    const area = areaOf(id, byId, parent);
    areas.set(area, (areas.get(area) ?? 0) + delta);
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fns = new Map<string, number>();
  const pkgs = new Map<string, number>();
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const where = url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(server|src|bench)\//, '$1/');
    const key = `${functionName || '(anonymous)'} ${where ? `${where}:${lineNumber + 1}` : ''}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? (url.startsWith('node:') ? 'node core' : url.includes('/server/') ? 'arena server/' : url ? 'other' : functionName);
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + us);
  }
  const table = (m: Map<string, number>, n: number) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, us]) => `| ${k} | ${((us / total) * 100).toFixed(1)}% |`).join('\n');
  console.log(`\n| area (nearest frame on the stack that names one) | time |\n|---|---:|\n${table(areas, 20)}`);
  console.log(`\n| package | self time |\n|---|---:|\n${table(pkgs, 15)}`);
  console.log(`\n| function | self time |\n|---|---:|\n${table(fns, top)}`);
}

runBench(main);
