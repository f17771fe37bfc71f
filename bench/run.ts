/**
 * `npm run bench` — Arena's token relay measured against a minimal Socket.IO relay, plus the
 * rating benchmark. Every process (simulator, Arena instances, baseline) runs on its own; the
 * clients all live in this process. Results print as markdown and are written to a new dated run
 * file, docs/benchmarks/runs/<date>-<time>-relay.md (bench/runs.ts; never into docs/benchmarks.md).
 *
 *   npm run bench                      all scenarios (≈ 10 min on 2 cores)
 *   npm run bench -- --quick           all scenarios, short (≈ 1 min)
 *   npm run bench -- --single --capacity --slow --cluster --rating --parser   pick scenarios
 *   npm run bench -- --swap             the GPU swap manager under skewed load (bench/swap/run.ts), alone
 *   npm run bench -- --adversary        vote hygiene against a targeted adversary (simulation, printed only)
 *   npm run bench -- --variants         diagnostics: coalescing policies compared (not in the default run;
 *                                      --variant-list source,turn-1ms,task,window-5ms,no-coalesce,baseline)
 *   options: --duels N --spectators M --duration S --tps N --steps 10,50,100 --redis URL --workers 2[,4] (0: no multi-worker ladder)
 *            --idle K --slow-clients N --no-write (print only, write no file)
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatMarkdown, runRatingBench } from './rating.js';
import { parserComparison } from './parser.js';
import { capacityTable, clusterTable, cpuUsPerToken, settingsLine, singleTable, slowTable, slowVerdict, targetsTable, variantsTable, type TargetLine } from './relay/report.js';
import { ensureBuilt, ROOT, runBench, simCommand, stopAll } from './relay/procs.js';
import { utcMinute, writeRunFile } from './runs.js';
import {
  capacity,
  fmt,
  models,
  pickPrompts,
  redisReachable,
  singleInstance,
  slowConsumers,
  twoInstances,
  type CapacityResult,
  type ClusterResult,
  type RelaySettings,
  type Row,
  type SingleResult,
  measuredRows,
  quietWait,
  type SlowResult,
  variants,
} from './relay/scenarios.js';

const log = (msg: string) => console.error(`[bench] ${msg}`);

const argv = process.argv.slice(2);
const { values } = parseArgs({
  args: argv,
  options: {
    quick: { type: 'boolean', default: false },
    single: { type: 'boolean', default: false },
    cluster: { type: 'boolean', default: false },
    capacity: { type: 'boolean', default: false },
    slow: { type: 'boolean', default: false },
    rating: { type: 'boolean', default: false },
    parser: { type: 'boolean', default: false },
    variants: { type: 'boolean', default: false },
    'variant-list': { type: 'string' },
    baseline: { type: 'boolean', default: true },
    'no-baseline-capacity': { type: 'boolean', default: false },
    duels: { type: 'string' },
    spectators: { type: 'string' },
    duration: { type: 'string' },
    tps: { type: 'string' },
    steps: { type: 'string' },
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
    idle: { type: 'string' },
    'slow-clients': { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    swap: { type: 'boolean', default: false },
    battles: { type: 'string' },
    rate: { type: 'string' },
    seed: { type: 'string' },
    adversary: { type: 'boolean', default: false },
    workers: { type: 'string' },
  },
});

// The GPU swap scenario is its own benchmark (bench/swap/run.ts), run alone.
const swapOnly = values.swap;
const quick = values.quick;
/** Extra capacity ladders with `serve --workers N` (default 2; --workers 2,4 or --workers 0 for none). */
const workerCounts = (values.workers ?? '2').split(',').map(Number).filter((n) => n > 1);
const chosen = (['single', 'cluster', 'capacity', 'slow', 'rating', 'parser', 'variants'] as const).filter((k) => values[k]);
const scenarios = new Set(chosen.length ? chosen : ['single', 'cluster', 'capacity', 'slow', 'rating', 'parser']);
const num = (v: string | undefined, fallback: number) => (v === undefined ? fallback : Number(v));

const settings: RelaySettings = {
  quick,
  tokensPerSecond: num(values.tps, 30),
  ttftMs: 100,
  durationS: num(values.duration, quick ? 4 : 30),
  warmupS: quick ? 1.5 : 3,
  duels: num(values.duels, 100),
  spectators: num(values.spectators, 500),
  idleClients: num(values.idle, quick ? 100 : 500),
  steps: values.steps ? values.steps.split(',').map(Number) : quick ? [20, 100] : [10, 50, 100, 150, 200, 250, 500, 1000, 2000],
  spectatorsPerDuel: 5,
  maxSpectators: 10_000,
  capacityDurationS: quick ? 3 : 15,
  p99LimitMs: 100,
  redisUrl: values.redis,
  slowClients: num(values['slow-clients'], quick ? 20 : 50),
  // Arena keeps a socket in at most 16 battle rooms (MAX_BATTLE_ROOMS in server/realtime/socket.ts).
  slowDuelsEach: 16,
  slowDurationS: quick ? 25 : 90,
  slowDuels: quick ? 25 : 50,
  slowTokensPerSecond: quick ? 120 : 30,
  turnsPerBattle: 1,
  variantFilter: values['variant-list']?.split(',').filter(Boolean),
};

async function main(): Promise<void> {
  // A pure simulation (no servers), printed only (docs/benchmarks.md "Vote hygiene against a targeted adversary").
  if (values.adversary) {
    const { formatAdversaryMarkdown, runAdversaryBench } = await import('./adversary.js');
    console.log(formatAdversaryMarkdown(runAdversaryBench()));
    return;
  }
  const started = Date.now();
  const loadBefore = loadavg()[0]!;
  ensureBuilt();
  const { prompts, meanTokens } = pickPrompts(models(settings));
  const sections: string[] = [];
  const targets: TargetLine[] = [];
  let single: SingleResult | undefined;

  if (scenarios.has('single')) {
    single = await singleInstance(settings, prompts);
    const text = `### (a) One instance vs the baseline, ${settings.duels} duels + ${settings.spectators} spectators\n\n${singleTable(single)}`;
    sections.push(text);
    console.log(`\n${text}\n`);
    const added = single.arena.load.delay.all.p50 - single.baseline.load.delay.all.p50;
    // Past the machine's capacity both queue; a difference of two saturated servers says little.
    const baselineSaturated = single.baseline.load.delay.all.p99 >= settings.p99LimitMs;
    targets.push({
      target: 'relay adds ≤ 1 ms p50 over the baseline at 100 duels',
      measured:
        `${added >= 0 ? '+' : ''}${fmt(added)} ms (Arena ${fmt(single.arena.load.delay.all.p50)} vs baseline ${fmt(single.baseline.load.delay.all.p50)} ms at ${settings.duels} duels)` +
        (baselineSaturated ? `; the baseline itself is saturated here (p99 ${fmt(single.baseline.load.delay.all.p99)} ms): see the capacity line below` : ''),
      met: settings.duels === 100 && !baselineSaturated ? added <= 1 : null,
    });
  }

  if (scenarios.has('cluster')) {
    if (await redisReachable(settings.redisUrl)) {
      const cluster: ClusterResult = await twoInstances(settings, prompts, single?.arena);
      const text = `### (b) Two instances + Redis, ${settings.duels} duels + ${settings.spectators} spectators (owners split over both, spectators on the other instance)\n\n${clusterTable(cluster)}`;
      sections.push(text);
      console.log(`\n${text}\n`);
      const added = cluster.cluster.load.delay.all.p50 - cluster.single!.load.delay.all.p50;
      targets.push({ target: 'two instances add ≤ 2 ms p50', measured: `+${fmt(added)} ms`, met: added <= 2 });
    } else {
      const text = `### (b) Two instances + Redis\n\nSkipped: no Redis answered at ${settings.redisUrl}.`;
      sections.push(text);
      targets.push({ target: 'two instances add ≤ 2 ms p50', measured: 'Redis not reachable', met: null });
    }
  }

  if (scenarios.has('capacity')) {
    const results: CapacityResult[] = [await capacity(settings, prompts, 'arena')];
    if (!values['no-baseline-capacity']) results.push(await capacity(settings, prompts, 'baseline'));
    for (const n of workerCounts) results.push(await capacity(settings, prompts, 'arena', n));
    const model = modelCheck([...results[0]!.rows, ...(single ? [single.arena] : [])], settings);
    const text = [
      `### (c) Capacity: duels stepped up (${settings.spectatorsPerDuel} spectators per duel, at most ${settings.maxSpectators.toLocaleString('en')}) until p99 > ${settings.p99LimitMs} ms; ${settings.capacityDurationS} s measured per step, fresh server per step`,
      ...results.map((r) => `#### ${r.target}\n\n${capacityTable(r)}`),
      ...(model ? [model] : []),
    ].join('\n\n');
    sections.push(text);
    console.log(`\n${text}\n`);
    const arena = results[0]!;
    const step1000 = arena.rows.find((r) => r.duels === 1000);
    targets.push({
      target: '≥ 1,000 duels + 5,000 spectators at p99 < 100 ms on one instance',
      measured: `capacity ${arena.capacity.toLocaleString('en')} duels (${arena.stoppedBecause})` + (results[1] ? `; baseline ${results[1].capacity.toLocaleString('en')} duels on the same machine` : ''),
      met: step1000 ? step1000.load.delay.all.p99 < settings.p99LimitMs : arena.capacity >= 1000,
    });
    targets.push(...againstBaseline(arena, results.find((r) => r.target === 'baseline'), settings.p99LimitMs));
    for (const r of results.filter((x) => x.target.includes('workers')))
      targets.push({
        target: `${r.target}: capacity above one worker's on ${nproc()} cores`,
        measured: `${r.capacity.toLocaleString('en')} duels vs ${arena.capacity.toLocaleString('en')} with one (${r.stoppedBecause}); the load generator and the simulator share the same cores (their CPU is in the table)`,
        met: r.capacity > arena.capacity,
      });
  }

  if (scenarios.has('slow')) {
    const slow: SlowResult = await slowConsumers(settings, prompts, !quick);
    const text = [
      `### (d) Slow consumers: ${settings.slowClients} spectators each watching ${settings.slowDuelsEach} duels stop reading (raw WebSocket, socket paused, Engine.IO pong every 10 s so the heartbeat keeps them), beside ${settings.slowDuels} duels at ${settings.slowTokensPerSecond} tokens/s + ${settings.slowDuels} normal spectators; multi-turn battles so every watched stream stays live; ${settings.slowDurationS} s. Arena's bound: \`limits.maxBufferedPackets\` (default 2,000 packets in engine.io's queue) — left at its default.`,
      slowTable(slow),
    ].join('\n\n');
    sections.push(text);
    console.log(`\n${text}\n`);
    const verdict = slowVerdict(slow);
    targets.push({ target: 'slow consumers: paused clients are cut off, no lasting memory', measured: verdict.shed.text, met: verdict.shed.met });
  }

  if (scenarios.has('variants')) {
    const rows = await variants(settings, prompts);
    const text = [
      `### Diagnostics: coalescing policies compared (Arena from source via \`bench/relay/arena-variant.ts\`, each policy passed as its \`arena.frames\` config keys through ARENA_FRAMES_* env; ${Math.min(settings.durationS, 20)} s windows)`,
      variantsTable(rows),
    ].join('\n\n');
    sections.push(text);
    console.log(`\n${text}\n`);
  }

  if (scenarios.has('rating')) {
    log('rating: Bradley-Terry + bootstrap (bench/rating.ts)');
    const result = await runRatingBench(quick ? { speed: { battles: 100_000 }, convergence: { seeds: 1, maxVotes: 4_000 } } : {});
    const text = `### Rating (bench/rating.ts \`runRatingBench\`${quick ? ', reduced for --quick' : ''})\n\n${formatMarkdown(result).replace(/^### /gm, '#### ')}`;
    sections.push(text);
    console.log(`\n${text}\n`);
  }

  if (scenarios.has('parser')) {
    log('frames: JSON against MessagePack (bench/parser.ts)');
    const text = `### (e) Frames: JSON against MessagePack (bench/parser.ts; Arena keeps JSON unless MessagePack costs less CPU on both ends)\n\n${await parserComparison(quick ? 5_000 : 50_000)}`;
    sections.push(text);
    console.log(`\n${text}\n`);
  }

  if (targets.length) {
    const text = `### Targets\n\n${targetsTable(targets)}`;
    sections.push(text);
    console.log(`\n${text}\n`);
  }

  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  const other = measuredRows.map((r) => r.otherCpuPct);
  const otherMax = other.length ? Math.max(...other) : 0;
  const background =
    `Background: load average ${loadBefore.toFixed(2)} before the run; CPU used by processes outside the benchmark during the measured windows: ` +
    (other.length ? `mean ${(other.reduce((a, b) => a + b, 0) / other.length).toFixed(0)}%, max ${otherMax.toFixed(0)}% of one core` : 'n/a') +
    (otherMax > 15 ? ' — **the machine was not quiet: figures are pessimistic**.' : '.') +
    (quietWait.seconds > 1 ? ` Waited ${quietWait.seconds.toFixed(0)} s in all for other processes to go quiet before measuring${quietWait.gaveUp ? ` (gave up ${quietWait.gaveUp}×)` : ''}.` : '');
  const command = `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const title = `Token relay: run of ${utcMinute(new Date(started))} — \`${command}\``;
  const header = [
    `Machine: \`nproc\` = ${nproc()}, ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}. ` +
      `Arena: \`node dist/arena.mjs serve\` (dist built ${distBuilt()}); simulator: \`${simCommand().source}\`; baseline: \`bench/baseline-server.ts\`; ` +
      `all clients (socket.io-client, WebSocket transport, loopback) in the one bench process. Every process shares the same ${nproc()} cores. Run took ${minutes} min.`,
    '',
    background,
    ...(measuredRows.length ? ['', settingsLine(settings, meanTokens)] : []),
  ].join('\n');
  const run = [header, ...sections].join('\n\n');
  if (!values['no-write']) log(`wrote ${writeRunFile('relay', title, run, new Date(started))}`);
  log(`done in ${minutes} min`);
}

function nproc(): string {
  try {
    return execFileSync('nproc').toString().trim();
  } catch {
    return String(cpus().length);
  }
}

function distBuilt(): string {
  try {
    return statSync(join(ROOT, 'dist/arena.mjs')).mtime.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
  } catch {
    return 'unknown';
  }
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping every process`);
    void stopAll().finally(() => process.exit(130));
  });
}

runBench(() => (swapOnly ? import('./swap/run.js').then((m) => m.runSwapBench(argv.filter((a) => a !== '--swap'))) : main()));

/**
 * The capacity model's check (docs/benchmarks.md, #23): server CPU = fixed + deliveries/s × marginal
 * µs per delivered token, fitted on two rows within the p99 limit (the lightest and the heaviest),
 * then predicted for every other row (a prediction past 100% says: saturated, p99 over the limit).
 */
function modelCheck(rows: Row[], s: typeof settings): string | undefined {
  const cpu = (r: Row) => r.servers.reduce((n, u) => n + u.cpuPct, 0);
  const usable = rows.filter((r) => Number.isFinite(cpu(r)) && r.load.tokensPerSec.total > 0);
  const within = usable.filter((r) => r.load.delay.all.p99 < s.p99LimitMs);
  const [lo, hi] = [within[0], within.at(-1)];
  if (!lo || !hi || lo === hi || usable.length < 3) return undefined;
  const d = (r: Row) => r.load.tokensPerSec.total;
  const marginal = ((cpu(hi) - cpu(lo)) / (d(hi) - d(lo))) * 1e4; // µs per delivered token
  const fixed = cpu(lo) - (d(lo) * marginal) / 1e4;
  const perDuel = 2 * s.tokensPerSecond * (1 + s.spectatorsPerDuel);
  const lines = usable.map((r) => {
    const predicted = fixed + (d(r) * marginal) / 1e4;
    const fitted = r === lo || r === hi;
    return `| ${r.label} | ${r.duels} | ${Math.round(d(r)).toLocaleString('en')} | ${predicted.toFixed(0)}%${predicted > 100 ? ' (saturated)' : ''} | ${cpu(r).toFixed(0)}% | ${fmt(r.load.delay.all.p99)} | ${fitted ? 'fitted' : `${(predicted - cpu(r)).toFixed(0)} points`} |`;
  });
  return [
    `#### Capacity model check: server CPU = ${fixed.toFixed(0)}% + deliveries/s × ${marginal.toFixed(1)} µs (fitted on ${lo.duels} and ${hi.duels} duels)`,
    '',
    `At ${s.tokensPerSecond} tokens/s per side and ${s.spectatorsPerDuel} spectators a duel asks for ${perDuel} deliveries a second, so one event loop reaches 90% of a core at ${Math.floor(((90 - fixed) * 1e4) / marginal / perDuel)} duels.`,
    '',
    '| run | duels | deliveries/s | predicted server CPU | measured | p99 (ms) | error |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...lines,
  ].join('\n');
}

/**
 * #23's comparisons at the largest step the baseline serves within the p99 limit: Arena's p50 and
 * p99 against the baseline's (target ≤ 1.2×), CPU per delivered token, and capacity.
 */
function againstBaseline(arena: CapacityResult, baseline: CapacityResult | undefined, p99LimitMs: number): TargetLine[] {
  if (!baseline) return [];
  const served = baseline.rows.filter((r) => r.load.delay.all.p99 < p99LimitMs);
  const step = served.at(-1);
  const ours = step && arena.rows.find((r) => r.duels === step.duels);
  const lines: TargetLine[] = [
    {
      target: "Arena's capacity (duels at p99 < 100 ms, 5 spectators each) ≥ the baseline's",
      measured: `Arena ${arena.capacity.toLocaleString('en')} duels, baseline ${baseline.capacity.toLocaleString('en')}`,
      met: arena.capacity >= baseline.capacity,
    },
  ];
  if (!step || !ours) return lines;
  const at = `at ${step.duels} duels + ${step.spectators.toLocaleString('en')} spectators (the baseline's largest step within p99 ${p99LimitMs} ms)`;
  const p50 = ours.load.delay.all.p50 / step.load.delay.all.p50;
  const p99 = ours.load.delay.all.p99 / step.load.delay.all.p99;
  const usArena = cpuUsPerToken(ours);
  const usBase = cpuUsPerToken(step);
  lines.push(
    {
      target: "Arena's p50 and p99 ≤ 1.2× the baseline's at the baseline's capacity",
      measured: `p50 ${fmt(ours.load.delay.all.p50)} vs ${fmt(step.load.delay.all.p50)} ms (${p50.toFixed(2)}×), p99 ${fmt(ours.load.delay.all.p99)} vs ${fmt(step.load.delay.all.p99)} ms (${p99.toFixed(2)}×) ${at}`,
      met: p50 <= 1.2 && p99 <= 1.2,
    },
    {
      target: 'server CPU per delivered token ≤ the baseline\'s',
      measured: `Arena ${usArena.toFixed(1)} µs, baseline ${usBase.toFixed(1)} µs (${(usArena / usBase).toFixed(2)}×) ${at}`,
      met: usArena <= usBase,
    },
  );
  return lines;
}
